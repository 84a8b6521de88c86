"""Events of the registration service (the ODB register). Applications are keyed by application,
trainings by ODB number, so each one's events stay in order."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar, Literal
from uuid import UUID

from wse_contracts.events import TYPE_PREFIX, Event
from wse_contracts.models import StrictModel

APPLICATIONS_TOPIC = "registration.applications"
TRAININGS_TOPIC = "registration.trainings"


class _ApplicationEvent(Event):
    topic: ClassVar[str] = APPLICATIONS_TOPIC
    key_field: ClassVar[str] = "application_id"
    application_id: UUID
    organisation_id: UUID


class ApplicationSubmittedV1(_ApplicationEvent):
    event_type: ClassVar[str] = TYPE_PREFIX + "registration.application_submitted.v1"
    dossier_number: int
    training_name: str
    replaces_odb_number: str | None = None
    decision_due_on: date


class ApplicationInadmissibleV1(_ApplicationEvent):
    event_type: ClassVar[str] = TYPE_PREFIX + "registration.application_inadmissible.v1"
    rule: str
    reason: str


class ApplicationHeldV1(_ApplicationEvent):
    """R-2: admissible, but the organisation has no WSE quality registration yet."""

    event_type: ClassVar[str] = TYPE_PREFIX + "registration.application_held.v1"


class ApplicationReleasedV1(_ApplicationEvent):
    event_type: ClassVar[str] = TYPE_PREFIX + "registration.application_released.v1"


class InformationRequestedV1(_ApplicationEvent):
    event_type: ClassVar[str] = TYPE_PREFIX + "registration.information_requested.v1"
    request_id: UUID
    due_on: date


class InformationReceivedV1(_ApplicationEvent):
    event_type: ClassVar[str] = TYPE_PREFIX + "registration.information_received.v1"
    request_id: UUID
    lapsed: bool = False  # the month passed without an answer


class ApplicationForwardedV1(_ApplicationEvent):
    event_type: ClassVar[str] = TYPE_PREFIX + "registration.application_forwarded.v1"
    deciding_body: str
    advice: str | None = None


class ApplicationDecidedV1(_ApplicationEvent):
    event_type: ClassVar[str] = TYPE_PREFIX + "registration.application_decided.v1"
    outcome: Literal["approved", "rejected"]
    reasons: str | None = None
    odb_number: str | None = None


class RegisteredModule(StrictModel):
    name: str
    hours: Decimal  # contact hours (incl. workplace) + distance-learning hours
    blended: bool
    starts_on: date
    ends_on: date


class TrainingRegisteredV1(Event):
    """What attestation needs to accept students on this number (A-3, A-4, A-5, A-7)."""

    event_type: ClassVar[str] = TYPE_PREFIX + "registration.training_registered.v1"
    topic: ClassVar[str] = TRAININGS_TOPIC
    key_field: ClassVar[str] = "odb_number"
    odb_number: str
    organisation_id: UUID
    provider_name: str
    name: str
    holds_from: date
    blended: bool
    structure: Literal["integral", "modular"]
    modules: list[RegisteredModule]
    school_years: list[str]
    replaces: str | None = None


class TrainingStoppedV1(Event):
    event_type: ClassVar[str] = TYPE_PREFIX + "registration.training_stopped.v1"
    topic: ClassVar[str] = TRAININGS_TOPIC
    key_field: ClassVar[str] = "odb_number"
    odb_number: str
    organisation_id: UUID
    stop_on: date
    reason: str


class TrainingReplacedV1(Event):
    """R-24/A-8: students enrolled on the old number stay attested on it."""

    event_type: ClassVar[str] = TYPE_PREFIX + "registration.training_replaced.v1"
    topic: ClassVar[str] = TRAININGS_TOPIC
    key_field: ClassVar[str] = "odb_number"
    odb_number: str  # the old number
    replaced_by: str
    organisation_id: UUID
