"""The identity API's contract at the edge: what each request may carry and what each answer
carries, exactly. A portal team generates its client from the models here (through the OpenAPI
document), so a field that is not here is not in the answer either: views build these models
from the use cases' rows, never pass a row through.

Requests refuse unknown fields (StrictModel) and state their limits (patterns, lengths, enums,
formats), so what the document allows is what the service accepts, up to the rules JSON Schema
cannot say (a national register number's mod-97 check, a role@context in the catalogue).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypedDict
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, EmailStr, Field, StrictBool, StringConstraints

from identity.domain import Gender, MembershipRole, OrganisationKind, RequestStatus
from wse_contracts import StrictModel
from wse_contracts.identity import QualityRegistration

# ------------------------------------------------------------------------------- shared field types

# Text PostgreSQL can store (no NUL), not empty, without spaces around it: what the pattern allows
# is exactly what the service accepts (nothing is stripped that the lengths would have counted).
TEXT_PATTERN = r"^[^\s\x00](?:[^\x00]*[^\s\x00])?$"
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=TEXT_PATTERN)]
OptionalName = Annotated[str | None, StringConstraints(min_length=1, max_length=200, pattern=TEXT_PATTERN)]


def _date_text(value: Any) -> Any:
    # A date is written as text (YYYY-MM-DD), as the document says: not the number 0 that
    # pydantic's lax mode would take for 1970-01-01.
    if value is not None and not isinstance(value, (str, date)):
        raise ValueError("must be a date written as YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_date_text)]
OptionalDay = Annotated[date | None, BeforeValidator(_date_text)]

# 11 digits, with the spaces, dots and dashes people copy from an eID card ("85.07.30-033.28").
# The mod-97 check, the month and the day are rules the service checks (422 naming the field).
NATIONAL_REGISTER_NUMBER_PATTERN = r"^[0-9](?:[ .\-]*[0-9]){10}$"
_NATIONAL_REGISTER_NUMBER = re.compile(NATIONAL_REGISTER_NUMBER_PATTERN)


def _eleven_digits(value: Any) -> Any:
    # Before the pattern, in the words the service has always used ("must be 11 digits"): the
    # pattern in the document and this check accept exactly the same texts.
    if isinstance(value, str) and not _NATIONAL_REGISTER_NUMBER.fullmatch(value):
        raise ValueError("must be 11 digits (spaces, dots and dashes between them are allowed)")
    return value


NationalRegisterNumberText = Annotated[
    str,
    BeforeValidator(_eleven_digits),
    StringConstraints(pattern=NATIONAL_REGISTER_NUMBER_PATTERN, max_length=20),
    Field(description="11 digits, optionally with spaces, dots and dashes; never given back."),
]

# 10 digits starting with 0 or 1, optionally after "BE", with separators ("0403.170.701",
# "BE 0403 170 701"); the mod-97 check is the service's (422 naming the field).
ENTERPRISE_NUMBER_PATTERN = r"^(?:[Bb][Ee][ .\-]*)?[01](?:[ .\-]*[0-9]){9}$"
# Constraints are StringConstraints (Litestar's document reads their pattern, not Field's), and an
# optional field carries them on the whole `str | None`: Litestar's document drops the constraints
# of an Annotated type inside a union (pydantic applies them to the text either way).
OptionalEnterpriseNumber = Annotated[
    str | None, StringConstraints(pattern=ENTERPRISE_NUMBER_PATTERN, max_length=20), Field(description="KBO enterprise number, e.g. 0403.170.701.")
]

# An institution number of the Flemish education administration (instellingsnummer): 6 digits.
INSTITUTION_NUMBER_PATTERN = r"^[0-9]{6}$"
InstitutionNumber = Annotated[str, StringConstraints(pattern=INSTITUTION_NUMBER_PATTERN), Field(description="Instellingsnummer: 6 digits, e.g. 030001.")]
OptionalInstitutionNumber = Annotated[
    str | None, StringConstraints(pattern=INSTITUTION_NUMBER_PATTERN), Field(description="Instellingsnummer: 6 digits, e.g. 030001.")
]

# Catalogue keys (roles, contexts, themes) are snake_case words; whether one exists is data (the
# catalogue), checked by the service (422 naming the field).
CATALOGUE_KEY_PATTERN = r"^[a-z][a-z0-9_]{0,99}$"
CatalogueKey = Annotated[str, StringConstraints(pattern=CATALOGUE_KEY_PATTERN, max_length=100)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=TEXT_PATTERN)]
OptionalReason = Annotated[
    str | None, StringConstraints(min_length=1, max_length=2000, pattern=TEXT_PATTERN), Field(description="Required when refusing (ID-8).")
]

# Paging: a keyset cursor is base64url text this service gave out with the previous page.


# ------------------------------------------------------------------------------- request bodies


class Body(StrictModel):
    """A request body: unknown fields refused (StrictModel), and text taken as sent, not stripped:
    the patterns refuse surrounding spaces, so that what the document allows is exactly what the
    service accepts (a stripped text would pass a length the document refuses)."""

    model_config = ConfigDict(**{**StrictModel.model_config, "str_strip_whitespace": False})


class OrganisationIn(Body):
    name: Name
    kind: OrganisationKind
    enterprise_number: OptionalEnterpriseNumber = None
    institution_number: OptionalInstitutionNumber = None
    contact_email: EmailStr | None = None


class OrganisationChange(Body):
    """Only the fields sent change; a change that changes nothing publishes nothing."""

    name: OptionalName = None
    contact_email: EmailStr | None = None


class SchoolIn(Body):
    name: Name
    institution_number: InstitutionNumber
    enterprise_number: OptionalEnterpriseNumber = None
    contact_email: EmailStr | None = None


class SchoolsImport(Body):
    schools: Annotated[list[SchoolIn], Field(min_length=1, max_length=5000)]


class PersonRef(Body):
    person_id: UUID


class NumberIn(Body):
    national_register_number: NationalRegisterNumberText


class PersonIn(Body):
    national_register_number: NationalRegisterNumberText
    last_name: Name
    first_name: Name
    gender: Gender
    date_of_birth: Day
    email: EmailStr


class RightIn(Body):
    person_id: UUID
    role: CatalogueKey
    context: CatalogueKey
    valid_from: Day
    valid_until: OptionalDay = Field(default=None, description="The last day the right grants; not before today nor before valid_from (ID-14).")


class ValidityIn(Body):
    valid_from: Day
    valid_until: OptionalDay = None


class QualityRegistrationIn(Body):
    """The organisation's WSE quality registration as the helpdesk records it."""

    status: Literal["none", "registered", "suspended", "withdrawn"]
    valid_from: OptionalDay = None
    valid_until: OptionalDay = None


class RightRequestIn(Body):
    role: CatalogueKey
    context: CatalogueKey
    reason: Reason


class DecisionIn(Body):
    approve: StrictBool
    reason: OptionalReason = None
    valid_until: OptionalDay = None


class ThemeIn(Body):
    person_id: UUID
    theme: CatalogueKey


class ProofRequest(Body):
    national_register_number: NationalRegisterNumberText


class SignInIn(Body):
    proof: Annotated[str, StringConstraints(min_length=1, max_length=8000, pattern=TEXT_PATTERN)]


class ChooseOrganisation(Body):
    organisation_id: UUID | None = Field(description="The organisation to act for; null: act as oneself, a citizen.")


# ------------------------------------------------------------------------------- answers


class Jwk(BaseModel):
    """A public key of the platform (Ed25519)."""

    kty: str
    crv: str
    x: str
    kid: str
    use: str | None = None
    alg: str | None = None


class Jwks(BaseModel):
    keys: list[Jwk]


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Seconds, at most 900.")
    organisation_id: UUID | None = Field(description="The organisation the token acts for; null: for oneself.")


class ProofOut(BaseModel):
    proof: str


class TileOut(BaseModel):
    kind: Literal["citizen", "organisation"]
    organisation_id: UUID | None
    name: str
    role: MembershipRole | None


class MeOut(BaseModel):
    person_id: UUID
    acting_for: UUID | None
    tiles: list[TileOut]
    message: str | None = Field(description="Whom to contact when there is no organisation to choose.")


class OrganisationOut(BaseModel):
    organisation_id: UUID
    name: str
    kind: OrganisationKind
    enterprise_number: str | None = Field(description="10 digits, no separators.")
    institution_number: str | None
    contact_email: str | None
    quality_registration: QualityRegistration


class ImportOut(BaseModel):
    added: int
    updated: int


class AdministratorOut(BaseModel):
    first_name: str
    last_name: str
    email: str
    role: Literal["head_administrator", "local_administrator"]


class AdministratorsOut(BaseModel):
    organisation_id: UUID
    name: str
    contact_email: str | None
    administrators: list[AdministratorOut]


class AdministratorsFound(AdministratorsOut):
    """ID-9: an organisation found by its enterprise number or a part of its name, with whom to
    contact for access (names and contact addresses only)."""

    enterprise_number: str | None = Field(description="10 digits, no separators: to tell organisations with like names apart.")


class CatalogueEntryOut(BaseModel):
    context: str
    role: str
    description: str
    department_only: bool


class ThemeOut(BaseModel):
    theme: str
    description: str


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor_id: UUID | None
    acting_for: UUID | None
    organisation_id: UUID | None
    action: str
    subject: str | None
    outcome: Literal["done", "denied"]
    reason: str | None
    details: dict[str, Any]
    correlation_id: str | None


class PersonOut(BaseModel):
    """Everything the platform shows of a person, to whom may see it: the helpdesk and the
    administrators of an organisation the person belongs to. Never the national register number."""

    disclosure: Literal["full"] = "full"
    person_id: UUID
    last_name: str
    first_name: str
    gender: Gender
    date_of_birth: date
    email: str


class PersonMatch(BaseModel):
    """What an administrator of another organisation sees of a person already on the platform:
    enough to confirm it is the person they mean, no more (no email, date of birth or gender)."""

    disclosure: Literal["match"] = "match"
    person_id: UUID
    initials: str = Field(description='The first letters of the first and last name, e.g. "B. P.".')
    names_match: bool | None = Field(description="Whether the names typed are the person's (ignoring case and accents); null for a look-up, which types none.")


class RightOut(BaseModel):
    right_id: UUID
    person_id: UUID
    organisation_id: UUID
    role: str
    context: str
    valid_from: date
    valid_until: date | None


class RightRow(BaseModel):
    """A line of the rights report (gebruikersbeheer)."""

    right_id: UUID
    person_id: UUID
    last_name: str
    first_name: str
    membership: MembershipRole
    context: str
    role: str
    valid_from: date
    valid_until: date | None
    active: bool = Field(description="Whether the right grants today (ID-14).")


class MemberRight(BaseModel):
    right_id: UUID
    role: str
    context: str
    valid_from: date
    valid_until: date | None
    active: bool = Field(description="Whether the right grants today; false for one that starts later.")


class MemberOut(BaseModel):
    person_id: UUID
    first_name: str
    last_name: str
    email: str
    membership: MembershipRole
    rights: list[MemberRight] = Field(description="Not revoked and not ended: granting today or from a later day.")
    themes: list[str] = Field(description="ID-13: the Mijn Onderwijs themes given to the member (GET /v1/themes names them).")


class MyRightOut(BaseModel):
    right_id: UUID
    organisation_id: UUID
    organisation_name: str
    role: str
    context: str
    description: str
    valid_from: date
    valid_until: date | None
    active: bool


class RightRequestCreated(BaseModel):
    request_id: UUID
    status: RequestStatus
    role: str
    context: str


class RightRequestOut(BaseModel):
    """A right request as the organisation's administrators see it."""

    request_id: UUID
    person_id: UUID
    first_name: str
    last_name: str
    context: str
    role: str
    reason: str
    status: RequestStatus
    requested_at: datetime
    decided_at: datetime | None
    decision_reason: str | None


class MyRightRequestOut(BaseModel):
    """One's own right request."""

    request_id: UUID
    organisation_id: UUID
    organisation_name: str
    context: str
    role: str
    reason: str
    status: RequestStatus
    requested_at: datetime
    decided_at: datetime | None
    decision_reason: str | None


class DecisionOut(BaseModel):
    request_id: UUID
    status: RequestStatus
    right_id: UUID | None


class CheckOut(TypedDict):
    """The check's answer: a TypedDict, not a model, because the check is the platform's busiest
    route and a dict is serialised as it is (no model to build and dump on every call)."""

    allowed: bool
