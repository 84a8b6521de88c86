"""Events of the attestation service (Flemish training leave, A-1 to A-9). Keyed by student
pseudonym, so one student's attestations stay in order across providers; no event carries a
national register number or a name (the student is `student_id`, a keyed pseudonym)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar, Literal
from uuid import UUID

from wse_contracts.events import TYPE_PREFIX, Event

ATTESTATIONS_TOPIC = "attestation.attestations"
_PREFIX = TYPE_PREFIX + "attestation."


class _AttestationEvent(Event):
    topic: ClassVar[str] = ATTESTATIONS_TOPIC
    key_field: ClassVar[str] = "student_id"
    attestation_id: UUID
    organisation_id: UUID
    student_id: str
    odb_number: str
    module: str | None = None
    version: int = 1


class EnrolmentAttestedV1(_AttestationEvent):
    """A-2, A-4: the student is enrolled on this registered training (and module)."""

    event_type: ClassVar[str] = _PREFIX + "enrolment_attested.v1"
    starts_on: date
    ends_on: date
    school_year: str


class AttendanceAttestedV1(_AttestationEvent):
    """A-2, A-3: hours attended in a period, on the enrolment's ODB number."""

    event_type: ClassVar[str] = _PREFIX + "attendance_attested.v1"
    enrolment_id: UUID
    period_from: date
    period_to: date
    hours: Decimal
    school_year: str


class CompletionAttestedV1(_AttestationEvent):
    """A-5: for a blended module, the learning process was completed."""

    event_type: ClassVar[str] = _PREFIX + "completion_attested.v1"
    enrolment_id: UUID
    school_year: str


class AttestationCorrectedV1(_AttestationEvent):
    """A new version replaces the previous one (the old one stays in the history)."""

    event_type: ClassVar[str] = _PREFIX + "attestation_corrected.v1"
    kind: Literal["enrolment", "attendance"]


class AttestationWithdrawnV1(_AttestationEvent):
    event_type: ClassVar[str] = _PREFIX + "attestation_withdrawn.v1"
    kind: Literal["enrolment", "attendance"]


class EntitlementReachedV1(Event):
    """A-6: the student reached the training-leave minimum (32 hours) in the school year: for the
    reimbursement process."""

    event_type: ClassVar[str] = _PREFIX + "entitlement_reached.v1"
    topic: ClassVar[str] = ATTESTATIONS_TOPIC
    key_field: ClassVar[str] = "student_id"
    student_id: str
    school_year: str
    hours: Decimal
    odb_number: str | None = None  # before 2021-2022 the minimum is judged per training
