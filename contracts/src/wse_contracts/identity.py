"""Events of the identity service that other services build their rights projection from.

No national register number ever travels in an event: persons are named by their platform id.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal
from uuid import UUID

from wse_contracts.events import TYPE_PREFIX, Event
from wse_contracts.models import StrictModel


class RightGrantedV1(Event):
    event_type: ClassVar[str] = TYPE_PREFIX + "identity.right_granted.v1"
    topic: ClassVar[str] = "identity.rights"
    key_field: ClassVar[str] = "organisation_id"

    right_id: UUID
    person_id: UUID
    organisation_id: UUID
    role: str
    context: str
    valid_from: date
    valid_until: date | None = None


class RightRevokedV1(Event):
    event_type: ClassVar[str] = TYPE_PREFIX + "identity.right_revoked.v1"
    topic: ClassVar[str] = "identity.rights"
    key_field: ClassVar[str] = "organisation_id"

    right_id: UUID
    person_id: UUID
    organisation_id: UUID
    role: str
    context: str


class RightValidityChangedV1(Event):
    event_type: ClassVar[str] = TYPE_PREFIX + "identity.right_validity_changed.v1"
    topic: ClassVar[str] = "identity.rights"
    key_field: ClassVar[str] = "organisation_id"

    right_id: UUID
    person_id: UUID
    organisation_id: UUID
    role: str
    context: str
    valid_from: date
    valid_until: date | None = None


class QualityRegistration(StrictModel):
    """The organisation's WSE quality registration, which registration and recognition need (R-2, E-2)."""

    status: Literal["none", "registered", "suspended", "withdrawn"]
    valid_from: date | None = None
    valid_until: date | None = None


class _OrganisationState(Event):
    """The organisation's whole state: a projection is built from these events alone."""

    topic: ClassVar[str] = "identity.organisations"
    key_field: ClassVar[str] = "organisation_id"

    organisation_id: UUID
    name: str
    kind: str
    enterprise_number: str | None = None
    institution_number: str | None = None
    contact_email: str | None = None
    quality_registration: QualityRegistration


class OrganisationRegisteredV1(_OrganisationState):
    """A new organisation."""

    event_type: ClassVar[str] = TYPE_PREFIX + "identity.organisation_registered.v1"


class OrganisationChangedV1(_OrganisationState):
    """The organisation after a change (name, contact, quality registration)."""

    event_type: ClassVar[str] = TYPE_PREFIX + "identity.organisation_changed.v1"


class MembershipAddedV1(Event):
    event_type: ClassVar[str] = TYPE_PREFIX + "identity.membership_added.v1"
    topic: ClassVar[str] = "identity.memberships"
    key_field: ClassVar[str] = "organisation_id"

    organisation_id: UUID
    person_id: UUID
    role: Literal["user", "local_administrator", "head_administrator"]


class MembershipRemovedV1(Event):
    event_type: ClassVar[str] = TYPE_PREFIX + "identity.membership_removed.v1"
    topic: ClassVar[str] = "identity.memberships"
    key_field: ClassVar[str] = "organisation_id"

    organisation_id: UUID
    person_id: UUID


class AdministratorAppointedV1(Event):
    event_type: ClassVar[str] = TYPE_PREFIX + "identity.administrator_appointed.v1"
    topic: ClassVar[str] = "identity.memberships"
    key_field: ClassVar[str] = "organisation_id"

    organisation_id: UUID
    person_id: UUID
    level: Literal["local_administrator", "head_administrator"]
    appointed_by: UUID


class AdministratorRemovedV1(Event):
    event_type: ClassVar[str] = TYPE_PREFIX + "identity.administrator_removed.v1"
    topic: ClassVar[str] = "identity.memberships"
    key_field: ClassVar[str] = "organisation_id"

    organisation_id: UUID
    person_id: UUID
    level: Literal["local_administrator", "head_administrator"]
    removed_by: UUID


class RightRequestedV1(Event):
    event_type: ClassVar[str] = TYPE_PREFIX + "identity.right_requested.v1"
    topic: ClassVar[str] = "identity.rights"
    key_field: ClassVar[str] = "organisation_id"

    request_id: UUID
    person_id: UUID
    organisation_id: UUID
    role: str
    context: str
    reason: str


class RightRequestDecidedV1(Event):
    event_type: ClassVar[str] = TYPE_PREFIX + "identity.right_request_decided.v1"
    topic: ClassVar[str] = "identity.rights"
    key_field: ClassVar[str] = "organisation_id"

    request_id: UUID
    person_id: UUID
    organisation_id: UUID
    role: str
    context: str
    outcome: Literal["approved", "refused", "cancelled"]
    reason: str | None = None
    decided_by: UUID | None = None
    right_id: UUID | None = None


class PersonRegisteredV1(Event):
    """A person the platform knows now, with the keyed pseudonym services use for them as a student
    (the attestation service finds a signed-in citizen's attestations by it, ID-10). Never the
    national register number."""

    event_type: ClassVar[str] = TYPE_PREFIX + "identity.person_registered.v1"
    topic: ClassVar[str] = "identity.persons"
    key_field: ClassVar[str] = "person_id"

    person_id: UUID
    student_id: str
