"""The rules of identity and rights (ID-1 to ID-14), in plain Python: no HTTP, no SQL.

The use cases load what a rule needs, ask the rule, and store the outcome. A rule that says no
raises one of the runtime's domain errors, naming its rule ID.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal
from uuid import UUID

from service_runtime.auth import Actor
from service_runtime.errors import Conflict, Forbidden, Invalid


class MembershipRole(StrEnum):
    """A person's relation to an organisation (ID-5): a user, or one of its administrators (ID-1, ID-2)."""

    USER = "user"
    LOCAL_ADMINISTRATOR = "local_administrator"
    HEAD_ADMINISTRATOR = "head_administrator"


ADMINISTRATOR_ROLES: frozenset[MembershipRole] = frozenset({MembershipRole.LOCAL_ADMINISTRATOR, MembershipRole.HEAD_ADMINISTRATOR})


class OrganisationKind(StrEnum):
    DEPARTMENT = "department"
    SECONDARY_SCHOOL = "secondary_school"
    ADULT_EDUCATION_CENTRE = "adult_education_centre"
    HIGHER_EDUCATION = "higher_education"
    SYNTRA = "syntra"
    TRAINING_PROVIDER = "training_provider"
    SERVICE_PROVIDER = "service_provider"
    EMPLOYER = "employer"
    OTHER = "other"


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    X = "x"


class RequestStatus(StrEnum):
    """A right request (ID-8): waiting, or decided by an administrator, or made moot by a grant."""

    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    CANCELLED = "cancelled"


# The department's helpdesk: who records organisations and their head administrators (ID-1, ID-11).
OPERATOR_ROLE, OPERATOR_CONTEXT = "operator", "department"


@dataclass(frozen=True, slots=True)
class Right:
    role: str
    context: str
    valid_from: date
    valid_until: date | None
    revoked: bool = False

    def grants_on(self, day: date) -> bool:
        """ID-14: outside its validity period a right grants nothing; no job has to run."""
        return not self.revoked and self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


def check_validity(valid_from: date, valid_until: date | None) -> None:
    """ID-6, ID-14: a validity period ends on or after the day it starts."""
    if valid_until is not None and valid_until < valid_from:
        raise Invalid("must not be before valid_from", field="valid_until", rule="ID-14")


def check_grant_period(valid_until: date | None, *, today: date) -> None:
    """ID-14: a right whose whole validity lies in the past would grant nothing, ever: granting it
    is a mistake (a year typed wrongly), not a decision."""
    if valid_until is not None and valid_until < today:
        raise Invalid("must not be before today: the right would never grant anything", field="valid_until", rule="ID-14")


def ensure_acting_for(actor: Actor, organisation_id: UUID) -> None:
    """ID-3, ID-10: an administrator acts within the organisation they chose, never another."""
    if actor.acting_for != organisation_id:
        raise Forbidden("You act for another organisation (or for yourself): choose this organisation first.", rule="ID-3")


def ensure_administrator(actor_role: str | None) -> None:
    """ID-3: only the organisation's (head) local administrators manage its users and rights."""
    if actor_role not in ADMINISTRATOR_ROLES:
        raise Forbidden("Only a local administrator of this organisation may do this.", rule="ID-3")


def ensure_head_administrator(actor_role: str | None) -> None:
    """ID-2: only a head local administrator appoints or removes local administrators."""
    if actor_role != MembershipRole.HEAD_ADMINISTRATOR:
        raise Forbidden("Only a head local administrator of this organisation may appoint or remove administrators.", rule="ID-2")


def ensure_a_head_remains(heads_after: int) -> None:
    """ID-1: an organisation always has a head local administrator; name a successor first."""
    if heads_after < 1:
        raise Conflict("The last head local administrator cannot be removed: appoint a successor first.", rule="ID-1")


def ensure_not_demoting_a_head(current_role: str | None, level: MembershipRole) -> None:
    """ID-1, ID-2: a head is not made a mere local administrator in passing; the helpdesk removes the head first."""
    if current_role == MembershipRole.HEAD_ADMINISTRATOR and level == MembershipRole.LOCAL_ADMINISTRATOR:
        raise Conflict("The person is a head local administrator; remove that first.", rule="ID-2")


def ensure_removable_member(role: str | None) -> None:
    """ID-5: only a member can leave, and an administrator is removed as administrator first (ID-1, ID-2)."""
    if role in ADMINISTRATOR_ROLES:
        raise Conflict("Remove the person as administrator first (a head local administrator does that).", rule="ID-5")


def ensure_grantable(*, department_only: bool, organisation_kind: str, context: str, role: str) -> None:
    """The department's back-office rights exist only within the department."""
    if department_only and organisation_kind != OrganisationKind.DEPARTMENT:
        raise Invalid(f"{role}@{context} is a right of the department only", field="role", rule="ID-6")


def ensure_member(role: str | None) -> None:
    """ID-5, ID-8: rights go to members; a person must be added to the organisation first."""
    if role is None:
        raise Conflict("The person is not a member of this organisation: add them first.", rule="ID-5")


def ensure_may_act_for(role: str | None) -> None:
    """ID-10: acting for an organisation needs a membership of it."""
    if role is None:
        raise Forbidden("You are not a member of this organisation: ask its local administrator to add you.", rule="ID-10")


def check_new_organisation(*, kind: str, institution_number: str | None, by_operator: bool) -> None:
    """ID-11: an adult-education centre comes with its institution number; there is one
    department, made by the bootstrap command (`by_operator` False), never through the API."""
    if by_operator and kind == OrganisationKind.DEPARTMENT:
        raise Invalid("there is one department; it is created by the bootstrap command", field="kind")
    if kind == OrganisationKind.ADULT_EDUCATION_CENTRE and not institution_number:
        raise Invalid("an adult-education centre is added with its institution number (ID-11)", field="institution_number", rule="ID-11")


def check_birth_date(*, in_number: date | None, given: date) -> None:
    """ID-4: the date of birth agrees with the one the national register number carries (if it carries one)."""
    if in_number is not None and in_number != given:
        raise Invalid("does not match the date in the national register number", field="date_of_birth", rule="ID-4")


def check_reason(reason: str | None, *, explanation: str) -> None:
    """ID-8: a request says why the right is needed, a refusal why it is refused."""
    if not (reason or "").strip():
        raise Invalid(explanation, field="reason", rule="ID-8")


def ensure_known_theme(known: bool, theme: str) -> None:
    """ID-13: themes come from the department's catalogue (GET /v1/themes)."""
    if not known:
        raise Invalid(f"{theme} is not in the catalogue of themes", field="theme", rule="ID-13")


def ensure_pending(status: str) -> None:
    """ID-8: a request is decided once."""
    if status != RequestStatus.PENDING:
        raise Conflict(f"The request was already decided ({status}).", rule="ID-8")


@dataclass(frozen=True, slots=True)
class Tile:
    """What a person can choose after signing in (ID-10)."""

    kind: Literal["citizen", "organisation"]
    organisation_id: UUID | None
    name: str
    role: str | None = None


NO_MEMBERSHIP_MESSAGE = (
    "Je bent nog aan geen enkele organisatie gekoppeld. Vraag de lokale beheerder van je organisatie "
    "om je toe te voegen; wie dat is, vind je via 'Wie is mijn beheerder?'."
)


def tiles_for(person_name: str, memberships: list[tuple[UUID, str, str]]) -> tuple[list[Tile], str | None]:
    """ID-10: oneself as citizen, and one tile per organisation of membership; without any,
    only the citizen tile and a message naming whom to contact."""
    tiles = [Tile("citizen", None, person_name)]
    tiles += [Tile("organisation", organisation_id, name, role) for organisation_id, name, role in memberships]
    return tiles, (None if memberships else NO_MEMBERSHIP_MESSAGE)


# ------------------------------------------------------------------------------- minimal disclosure of persons (ID-4)


def _comparable(name: str) -> str:
    """A name as a person would recognise it typed: case, accents and spacing do not matter."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def names_match(*, typed_first: str, typed_last: str, first_name: str, last_name: str) -> bool:
    return _comparable(typed_first) == _comparable(first_name) and _comparable(typed_last) == _comparable(last_name)


def initials(first_name: str, last_name: str) -> str:
    """ "B. P.": enough to see that the number typed is the person meant, not who they are."""
    return " ".join(f"{name.strip()[:1].upper()}." for name in (first_name, last_name) if name.strip())


class TooManyLookups(Exception):
    """ID-4: an administrator looked up more persons by national register number than the window
    allows; not a rule of the person, so not a DomainError: the entry point answers 429."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"too many look-ups; retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


def ensure_lookups_left(*, done_in_window: int, oldest_in_window: datetime | None, per_window: int, window_seconds: int, now: datetime) -> None:
    """ID-4: at most `per_window` look-ups by national register number per administrator per
    window, so that the register cannot be harvested through the platform. The wait is until the
    oldest look-up in the window leaves it."""
    if done_in_window < per_window:
        return
    leaves = (oldest_in_window or now) + timedelta(seconds=window_seconds)
    raise TooManyLookups(max(1, math.ceil((leaves - now).total_seconds())))
