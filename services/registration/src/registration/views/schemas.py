"""What the registration service answers: one model per resource, as the OpenAPI document names
it. Each refuses unknown fields, so its schema says `additionalProperties: false` and an answer
carries exactly the documented fields: views pick them one by one (`pick`) from what a use case
returns, and an internal column added to a table is not published by accident.

The provider and the back office see a dossier differently (`ProviderApplication`,
`BackOfficeApplication`): the provider never sees the back office's advice, the team's flags,
who of the department did what, or bookkeeping (the idempotency key, the row's version).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, Field

from registration.domain import Status
from registration.sections import LMS_CHOICES, CefrLevel
from service_runtime.api import Out

M = TypeVar("M", bound=BaseModel)


# ------------------------------------------------------------------------------- organisation data


class ContactOut(Out):
    name: str
    email: str
    phone: str


class OrganisationOut(Out):
    """The organisation as identity described it (its events)."""

    name: str
    kind: str
    quality_status: str = Field(description="the WSE quality registration (R-2): registered, none, ...")


class OrganisationDataOut(Out):
    """R-3, R-4, R-25: entered once, editable at any time. Fields never entered are null."""

    organisation_id: UUID
    organisation: OrganisationOut | None = Field(description="null until identity's event about the organisation has arrived")
    contact: ContactOut | None = None
    general_contact: ContactOut | None = None
    voucher_contact: ContactOut | None = None
    lms: Literal[LMS_CHOICES] | None = None  # type: ignore[valid-type]  # a Literal of the tuple: pydantic checks the choices, mypy cannot expand it
    lms_other: str | None = None
    follow_up_document_id: UUID | None = None
    contacts_confirmed_on: date | None = Field(default=None, description="R-25: the last yearly confirmation")
    updated_at: datetime | None = None


# ------------------------------------------------------------------------------- applications

SectionName = Literal["contact", "training", "self_analysis", "deciding_body", "documents"]
# The sections saved so far, by name (the manual's steps 2 to 6), each as its PUT accepted it, in
# JSON (hours as decimal text): a section not saved yet is absent.
SavedSections = dict[SectionName, dict[str, Any]]


class InformationRequestOut(Out):
    """R-19: a question of the back office and its answer."""

    request_id: UUID
    question: str
    asked_at: datetime
    due_on: date
    answered_at: datetime | None
    answer: str | None
    answer_documents: list[UUID]
    lapsed_at: datetime | None = Field(description="the term ran out unanswered")


class TimelineEntry(Out):
    """A step in a dossier's life as its provider may see it: what happened and when, never who
    of the department did it, the back office's advice or an amendment's previous value."""

    at: datetime
    action: str = Field(
        description="draft_created, submitted, released, information_requested, information_received, information_term_lapsed, amended, forwarded, decided"
    )
    details: dict[str, Any] = Field(
        description="per action, what the provider may know: submitted {status, rule}, information_requested {request_id, due_on}, "
        "amended {section, reason}, forwarded {deciding_body}, decided {outcome, odb_number}"
    )


class ProviderApplication(Out):
    """A dossier as its provider sees it."""

    application_id: UUID
    dossier_number: int
    organisation_id: UUID
    status: Status
    training_name: str | None
    replaces_odb_number: str | None = Field(description="R-24: the registration this application replaces")
    sections: SavedSections = Field(description="the sections saved so far, by name, each as its PUT accepted it; one not saved yet is absent")
    missing_sections: list[str] = Field(description="sections still to be filled in before submitting (drafts)")
    submitted_at: datetime | None
    decision_due_on: date | None = Field(description="R-19: three months after submission")
    inadmissible_rule: str | None
    inadmissible_reason: str | None
    decided_at: datetime | None
    decision_reasons: str | None
    odb_number: str | None = Field(description="R-20: once approved")
    information_requests: list[InformationRequestOut]
    timeline: list[TimelineEntry] = Field(
        description="the dossier's steps as the provider may see them, oldest first (empty in the answer to a save or submission)"
    )
    updated_at: datetime


class HistoryEntry(Out):
    at: datetime
    actor_id: UUID | None = Field(description="null for what the service did by itself (a term that ran out)")
    action: str
    details: dict[str, Any] = Field(description="what the action changed; per action (e.g. an amendment's section, reason and previous value)")


class BackOfficeApplication(ProviderApplication):
    """A dossier as the case handlers see it: with the team's flags, the deciding body and its
    advice, who submitted it and its history."""

    created_by: UUID
    submitted_by: UUID | None
    flags: list[str] = Field(description="for the team, e.g. longer_than_12_months (R-11)")
    deciding_body: str | None = Field(description="'commission' or 'joint_committee:<number>' (R-15)")
    advice: str | None
    forwarded_at: datetime | None
    history: list[HistoryEntry]
    organisation_name: str | None = Field(description="as identity named the organisation; null until its event has arrived")
    notification_reference: str = Field(description="the reference of the dossier's emails in the notification service (GET /v1/notifications?reference=)")


class ApplicationSummary(Out):
    """R-22: a draft or a dossier still being handled, in the provider's list."""

    application_id: UUID
    dossier_number: int
    status: Status
    training_name: str | None
    submitted_at: datetime | None
    decision_due_on: date | None
    replaces_odb_number: str | None
    updated_at: datetime


class QueueEntry(Out):
    """An open dossier in the back office's work queue, with its deadline."""

    application_id: UUID
    dossier_number: int
    organisation_id: UUID
    organisation_name: str | None
    status: Status
    training_name: str | None
    submitted_at: datetime | None
    decision_due_on: date | None
    information_due_on: date | None = Field(description="an open question's term (R-19)")
    deadline: date | None = Field(description="the nearer of the decision term and an open question's term")
    flags: list[str]
    replaces_odb_number: str | None


# ------------------------------------------------------------------------------- trainings


class ProviderTraining(Out):
    """R-22: one of the organisation's registered trainings."""

    odb_number: str
    name: str
    own_reference: str
    holds_from: date
    stop_on: date | None
    stop_reason: str | None
    replaces: str | None
    replaced_by: str | None
    registered_at: datetime


EmailedTo = Literal["general_contact"]
NotEmailedReason = Literal["positive", "no_general_contact"]


class EvaluationOut(Out):
    """R-26: the yearly evaluation of a registered training, as recorded, and whether the
    provider was told: a negative evaluation is emailed to the provider's general contact (R-25)."""

    odb_number: str
    year: int
    outcome: Literal["positive", "negative"]
    remarks: str | None = Field(description="the motivation; always given with a negative evaluation")
    recorded_by: UUID = Field(description="the case handler who recorded it")
    recorded_at: datetime
    contact_emailed: bool = Field(
        description="whether an email to the provider was requested (its delivery is in the notification log, reference: the ODB number)"
    )
    emailed_to: EmailedTo | None = Field(description="to whom, as a role (never the address): the provider's general contact (R-25); null when not emailed")
    not_emailed_reason: NotEmailedReason | None = Field(
        description="why nobody was emailed: 'positive' (only a negative evaluation is emailed, R-26) or "
        "'no_general_contact' (the provider named no general contact in its organisation data, R-25); null when emailed"
    )


class TrainingEvaluation(Out):
    """R-26: one year's evaluation in a registered training's list."""

    year: int
    outcome: Literal["positive", "negative"]
    remarks: str | None = Field(description="the motivation; always given with a negative evaluation")
    recorded_by: UUID = Field(description="the case handler who recorded it")
    recorded_at: datetime
    contact_emailed: bool | None = Field(
        description="whether an email to the provider was requested; null for a negative evaluation recorded before this was kept (not known)"
    )
    emailed_to: EmailedTo | None = Field(description="to whom, as a role (never the address): the provider's general contact (R-25)")
    not_emailed_reason: NotEmailedReason | None = Field(
        description="why nobody was emailed: 'positive' (R-26) or 'no_general_contact' (R-25); null when emailed or not known"
    )


class JointCommittee(Out):
    """R-15: a joint committee that volunteered to decide on applications."""

    number: str
    name: str


# ------------------------------------------------------------------------------- documents


class DocumentOut(Out):
    """A document's metadata (never its content)."""

    document_id: UUID
    filename: str
    content_type: str = Field(description="the type judged from the file's bytes")
    size_bytes: int
    sha256: str = Field(pattern="^[0-9a-f]{64}$")
    purpose: Literal["follow_up", "extra", "answer"]
    uploaded_at: datetime


class DossierDocumentOut(DocumentOut):
    """A document of a dossier, for the back office: attached to the application (R-16) or to
    the answer to one of its questions (R-19)."""

    attached_to: Literal["application", "answer"]
    request_id: UUID | None = Field(description="the question whose answer carries it; null for the application's own documents")


# ------------------------------------------------------------------------------- the public register
# Documentation only: the register's answers are JSON that PostgreSQL writes
# (`registration.register.ITEM` and `MODULES`), sent as they are; these models say exactly what
# that JSON holds (a test compares them).


class RegisteredTrainingFields(Out):
    """A training in the public register: what the training section says is public (R-5)."""

    odb_number: str
    name: str
    provider_id: UUID
    provider_name: str
    competence_group: Literal["basic", "profession_specific", "general"]
    structure: Literal["integral", "modular"]
    blended: bool
    total_hours: float = Field(description="contact hours (workplace learning included) plus blended modules' distance-learning hours")
    hours_unit: Literal["contact_hours", "study_points"]
    study_points: float | None
    web_page: str
    holds_from: date = Field(description="R-21")
    stop_on: date | None = Field(description="R-23: leaves the register on this date")
    school_years: list[str]
    own_reference: str
    target_group: str
    content: str
    language: str | None
    workplace_learning: bool
    separately_enrollable_parts: bool
    leads_to_qualification: bool
    mentor_training: bool | None
    final_assessment: bool
    replaces: str | None = Field(description="R-24: the ODB number this training replaces")
    replaced_by: str | None


class RegisteredTraining(RegisteredTrainingFields):
    """A training in a page of the register's search."""

    match: Literal["name", "text", "similar_name"] | None = Field(
        description="which tier of a text search found it (name, text, similar_name); null without `q`"
    )


class RegisteredModule(Out):
    name: str
    contact_hours: float
    workplace_hours: float
    distance_hours: float
    study_points: float | None
    blended: bool
    starts_on: date
    ends_on: date
    cefr_level: CefrLevel | None


class RegisteredTrainingDetail(RegisteredTrainingFields):
    """One training in the register, with its modules."""

    modules: list[RegisteredModule]


# ------------------------------------------------------------------------------- the back office's view of a training


class BackOfficeTraining(Out):
    """A registered training as the back office sees it, stopped or not (the public register no
    longer shows a stopped one, R-23), with its evaluations (R-26). Of the provider's contacts only
    whether there is a general contact (R-25), never who."""

    odb_number: str
    application_id: UUID = Field(description="the approved application it was registered from (R-20)")
    status: Literal["registered", "stopping", "stopped"] = Field(
        description="R-23: registered (no stop date); stopping (in the public register until stop_on); stopped (from stop_on on, out of it)"
    )
    name: str
    own_reference: str
    organisation_id: UUID = Field(description="the provider")
    organisation_name: str = Field(description="the provider's name as identity last named it (or as registered)")
    has_general_contact: bool = Field(description="R-25: whether the provider named a general contact, who receives a negative evaluation (R-26)")
    holds_from: date = Field(description="R-21: the date the registration holds from")
    stop_on: date | None = Field(description="R-23: the stop date; null while not stopped")
    stop_reason: str | None = Field(description="R-23: the provider's reason for stopping")
    replaces: str | None = Field(description="R-24: the ODB number this training replaces")
    replaced_by: str | None = Field(description="R-24: the ODB number that replaces this training")
    registered_at: datetime
    competence_group: Literal["basic", "profession_specific", "general"]
    structure: Literal["integral", "modular"]
    blended: bool
    total_hours: float = Field(description="contact hours (workplace learning included) plus blended modules' distance-learning hours")
    hours_unit: Literal["contact_hours", "study_points"]
    study_points: float | None
    web_page: str
    school_years: list[str]
    modules: list[RegisteredModule]
    evaluations: list[TrainingEvaluation] = Field(description="R-26: one per year, the last year first")


Limit = Annotated[int, Field(ge=1, le=100)]
