"""The rules of identity and rights (ID-1 to ID-14), in plain Python: no HTTP, no SQL.

The service layer loads what a rule needs, asks the rule, and stores the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal
from uuid import UUID

MembershipRole = Literal["user", "local_administrator", "head_administrator"]
ADMINISTRATOR_ROLES: frozenset[str] = frozenset({"local_administrator", "head_administrator"})
DEPARTMENT_KIND = "department"


class DomainError(Exception):
    """A rule said no. Entry points map the subclasses to HTTP statuses."""

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class Forbidden(DomainError):
    """The actor may not do this (and the attempt is audited, ID-12)."""


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class Invalid(DomainError):
    """Input that breaks a rule; `field` names it."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a person, the organisation they chose to act for (ID-10), if any, and the day
    (in Brussels, on the runtime's clock) by which their own rights are judged."""

    person_id: UUID
    acting_for: UUID | None
    today: date


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
    if valid_until is not None and valid_until < valid_from:
        raise Invalid("must not be before valid_from", field="valid_until")


def ensure_acting_for(actor: Actor, organisation_id: UUID) -> None:
    """ID-3, ID-10: an administrator acts within the organisation they chose, never another."""
    if actor.acting_for != organisation_id:
        raise Forbidden("You act for another organisation (or for yourself): choose this organisation first.")


def ensure_administrator(actor_role: str | None) -> None:
    """ID-3: only the organisation's (head) local administrators manage its users and rights."""
    if actor_role not in ADMINISTRATOR_ROLES:
        raise Forbidden("Only a local administrator of this organisation may do this.")


def ensure_head_administrator(actor_role: str | None) -> None:
    """ID-2: only a head local administrator appoints or removes local administrators."""
    if actor_role != "head_administrator":
        raise Forbidden("Only a head local administrator of this organisation may appoint or remove administrators.")


def ensure_a_head_remains(heads_after: int) -> None:
    """ID-1: an organisation always has a head local administrator; name a successor first."""
    if heads_after < 1:
        raise Conflict("The last head local administrator cannot be removed: appoint a successor first.")


def ensure_grantable(*, department_only: bool, organisation_kind: str, context: str, role: str) -> None:
    """The department's back-office rights exist only within the department."""
    if department_only and organisation_kind != DEPARTMENT_KIND:
        raise Invalid(f"{role}@{context} is a right of the department only", field="role")


def ensure_member(role: str | None) -> None:
    """ID-5, ID-8: rights go to members; a person must be added to the organisation first."""
    if role is None:
        raise Conflict("The person is not a member of this organisation: add them first.")


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
