"""Events of the recognition service (Platos, seed 002). Applications are keyed by application,
recognitions by recognition, so each one's events stay in order. No event names a person beyond
the acting user's id; coaching assignments carry no employee at all (E-9 needs only dates)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal
from uuid import UUID

from wse_contracts.events import TYPE_PREFIX, Event

APPLICATIONS_TOPIC = "recognition.applications"
RECOGNITIONS_TOPIC = "recognition.recognitions"
_PREFIX = TYPE_PREFIX + "recognition."


class _ApplicationEvent(Event):
    topic: ClassVar[str] = APPLICATIONS_TOPIC
    key_field: ClassVar[str] = "application_id"
    application_id: UUID
    organisation_id: UUID
    dossier_number: str


class RecognitionApplicationSubmittedV1(_ApplicationEvent):
    """E-4: submitted; admissibility is judged by `admissibility_due_on` (E-5)."""

    event_type: ClassVar[str] = _PREFIX + "application_submitted.v1"
    submitted_on: date
    admissibility_due_on: date
    simplified_group: str | None = None


class RecognitionApplicationAdmissibleV1(_ApplicationEvent):
    """E-5: complete and correct; the examination term (E-6) starts once the email is delivered."""

    event_type: ClassVar[str] = _PREFIX + "application_admissible.v1"


class RecognitionApplicationInadmissibleV1(_ApplicationEvent):
    """E-5: not complete or not correct; the organisation may file a new application."""

    event_type: ClassVar[str] = _PREFIX + "application_inadmissible.v1"
    reasons: str


class RecognitionExaminationStartedV1(_ApplicationEvent):
    """E-6: the admissibility email was delivered on `starts_on`; the 45 days run from there."""

    event_type: ClassVar[str] = _PREFIX + "examination_started.v1"
    starts_on: date
    examination_due_on: date


class RecognitionInformationRequestedV1(_ApplicationEvent):
    """E-6: the examination term is suspended from `requested_on` until the answer."""

    event_type: ClassVar[str] = _PREFIX + "information_requested.v1"
    request_id: UUID
    requested_on: date


class RecognitionInformationReceivedV1(_ApplicationEvent):
    """E-6: the term runs again; `examination_due_on` is the deadline with every suspended day added."""

    event_type: ClassVar[str] = _PREFIX + "information_received.v1"
    request_id: UUID
    received_on: date
    suspended_days: int
    examination_due_on: date | None = None


class RecognitionApplicationAdvisedV1(_ApplicationEvent):
    """E-7: the department's advice to the minister."""

    event_type: ClassVar[str] = _PREFIX + "application_advised.v1"
    advice: Literal["favourable", "unfavourable"]


class RecognitionApplicationDecidedV1(_ApplicationEvent):
    """E-7, E-8: the minister's decision (on reconsideration too, E-10: `reconsidered`)."""

    event_type: ClassVar[str] = _PREFIX + "application_decided.v1"
    outcome: Literal["granted", "refused"]
    decided_on: date
    recognition_id: UUID | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    reconsidered: bool = False


class ReconsiderationRequestedV1(_ApplicationEvent):
    """E-10: a motivated request within 30 days of being informed of the decision."""

    event_type: ClassVar[str] = _PREFIX + "reconsideration_requested.v1"
    requested_on: date


class ReconsiderationHearingRecordedV1(_ApplicationEvent):
    """E-10: the commission heard the applicant; its advice is due by `advice_due_on`."""

    event_type: ClassVar[str] = _PREFIX + "reconsideration_hearing_recorded.v1"
    heard_on: date
    advice_due_on: date


class ReconsiderationAdvisedV1(_ApplicationEvent):
    """E-10: the commission's advice to the minister."""

    event_type: ClassVar[str] = _PREFIX + "reconsideration_advised.v1"
    advice: Literal["favourable", "unfavourable"]


class _RecognitionEvent(Event):
    topic: ClassVar[str] = RECOGNITIONS_TOPIC
    key_field: ClassVar[str] = "recognition_id"
    recognition_id: UUID
    organisation_id: UUID
    recognition_number: str
    enterprise_number: str | None = None


class RecognitionGrantedV1(_RecognitionEvent):
    """E-8: recognised from `valid_from` through `valid_until` (the day before the fifth anniversary)."""

    event_type: ClassVar[str] = _PREFIX + "recognition_granted.v1"
    application_id: UUID
    valid_from: date
    valid_until: date
    provinces: list[str]
    capacity: int


class RecognitionEndedV1(_RecognitionEvent):
    """E-8 (expiry), E-9 (inactivity) or a withdrawal by the department: `ended_on` is the first day it no longer holds."""

    event_type: ClassVar[str] = _PREFIX + "recognition_ended.v1"
    reason: Literal["expiry", "inactivity", "withdrawal"]
    ended_on: date


class ChangeReportedV1(_RecognitionEvent):
    """E-12: the provider reported a change that affects (or may affect) the conditions."""

    event_type: ClassVar[str] = _PREFIX + "change_reported.v1"
    report_id: UUID
    reported_on: date


class ChangeReviewedV1(_RecognitionEvent):
    """E-12: the department reviewed a reported change (and may have withdrawn the recognition)."""

    event_type: ClassVar[str] = _PREFIX + "change_reviewed.v1"
    report_id: UUID
    outcome: Literal["noted", "withdrawn"]
