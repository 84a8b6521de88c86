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

from pydantic import AfterValidator, BaseModel, BeforeValidator, EmailStr, Field

from identity.domain import Gender, MembershipRole, OrganisationKind, RequestStatus
from wse_contracts import StrictModel
from wse_contracts.identity import QualityRegistration

# ------------------------------------------------------------------------------- shared field types

Name = Annotated[str, Field(min_length=1, max_length=200)]

# 11 digits, with the spaces, dots and dashes people copy from an eID card ("85.07.30-033.28").
# The mod-97 check, the month and the day are rules the service checks (422 naming the field).
NATIONAL_REGISTER_NUMBER_PATTERN = r"^[ .\-]*(?:[0-9][ .\-]*){11}$"
_NATIONAL_REGISTER_NUMBER = re.compile(NATIONAL_REGISTER_NUMBER_PATTERN)


def _eleven_digits(value: Any) -> Any:
    # Before the pattern, in the words the service has always used ("must be 11 digits"): the
    # pattern in the document and this check accept exactly the same texts.
    if isinstance(value, str) and not _NATIONAL_REGISTER_NUMBER.fullmatch(value.strip()):
        raise ValueError("must be 11 digits (spaces, dots and dashes between them are allowed)")
    return value


NationalRegisterNumberText = Annotated[
    str,
    BeforeValidator(_eleven_digits),
    Field(pattern=NATIONAL_REGISTER_NUMBER_PATTERN, max_length=20, description="11 digits, optionally with spaces, dots and dashes; never given back."),
]

# 10 digits starting with 0 or 1, optionally after "BE", with separators ("0403.170.701",
# "BE 0403 170 701"); the mod-97 check is the service's (422 naming the field).
ENTERPRISE_NUMBER_PATTERN = r"^\s*(?:[Bb][Ee])?[ .\-]*[01][ .\-]*(?:[0-9][ .\-]*){9}$"
EnterpriseNumberText = Annotated[str, Field(pattern=ENTERPRISE_NUMBER_PATTERN, max_length=20, description="KBO enterprise number, e.g. 0403.170.701.")]

# An institution number of the Flemish education administration (instellingsnummer): 6 digits.
INSTITUTION_NUMBER_PATTERN = r"^[0-9]{6}$"
InstitutionNumber = Annotated[str, Field(pattern=INSTITUTION_NUMBER_PATTERN, description="Instellingsnummer: 6 digits, e.g. 030001.")]

# Catalogue keys (roles, contexts, themes) are snake_case words; whether one exists is data (the
# catalogue), checked by the service (422 naming the field).
CATALOGUE_KEY_PATTERN = r"^[a-z][a-z0-9_]{0,99}$"
CatalogueKey = Annotated[str, Field(pattern=CATALOGUE_KEY_PATTERN, max_length=100)]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]

# Paging: a keyset cursor is base64url text this service gave out with the previous page.
CURSOR_PATTERN = r"^[A-Za-z0-9_\-]{1,400}={0,2}$"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


# ------------------------------------------------------------------------------- request bodies


class OrganisationIn(StrictModel):
    name: Name
    kind: OrganisationKind
    enterprise_number: EnterpriseNumberText | None = None
    institution_number: InstitutionNumber | None = None
    contact_email: EmailStr | None = None


class OrganisationChange(StrictModel):
    """Only the fields sent change; a change that changes nothing publishes nothing."""

    name: Name | None = None
    contact_email: EmailStr | None = None


class SchoolIn(StrictModel):
    name: Name
    institution_number: InstitutionNumber
    enterprise_number: EnterpriseNumberText | None = None
    contact_email: EmailStr | None = None


class SchoolsImport(StrictModel):
    schools: Annotated[list[SchoolIn], Field(min_length=1, max_length=5000)]


class PersonRef(StrictModel):
    person_id: UUID


class NumberIn(StrictModel):
    national_register_number: NationalRegisterNumberText


class PersonIn(StrictModel):
    national_register_number: NationalRegisterNumberText
    last_name: Name
    first_name: Name
    gender: Gender
    date_of_birth: date
    email: EmailStr


class RightIn(StrictModel):
    person_id: UUID
    role: CatalogueKey
    context: CatalogueKey
    valid_from: date
    valid_until: date | None = Field(default=None, description="The last day the right grants; not before today nor before valid_from (ID-14).")


class ValidityIn(StrictModel):
    valid_from: date
    valid_until: date | None = None


class RightRequestIn(StrictModel):
    role: CatalogueKey
    context: CatalogueKey
    reason: Annotated[Reason, AfterValidator(_not_blank)]


class DecisionIn(StrictModel):
    approve: bool
    reason: Annotated[str, Field(max_length=2000)] | None = Field(default=None, description="Required when refusing (ID-8).")
    valid_until: date | None = None


class ThemeIn(StrictModel):
    person_id: UUID
    theme: CatalogueKey


class ProofRequest(StrictModel):
    national_register_number: NationalRegisterNumberText


class SignInIn(StrictModel):
    proof: Annotated[str, Field(min_length=1, max_length=8000)]


class ChooseOrganisation(StrictModel):
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
