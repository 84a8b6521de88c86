"""What the recognition service takes and answers: one model per resource, as the OpenAPI
document names it. Answers refuse unknown fields (`additionalProperties: false`) and views pick
their fields one by one, so an internal column is never published by accident.

The provider and the department see an application differently: the provider never sees the
department's advice to the minister, the commission's advice, or the history of who did what.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar, get_args
from uuid import UUID

from pydantic import BaseModel, Field

from recognition.domain import EndReason, Status
from recognition.parts import EnterpriseNumber, Motivation, Province, Text
from service_runtime.api import Out
from wse_contracts import StrictModel

M = TypeVar("M", bound=BaseModel)

# Text as the request models take it (StrictModel): the spaces around it are stripped before its
# length counts, and a NUL character is refused (PostgreSQL cannot store it). The document says so
# with a pattern: no NUL, and at least `min_length` characters from the first to the last that is
# not a space (Unicode White_Space, what Pydantic strips). Enforced by the model, not the pattern.
_SPACE = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def text_pattern(min_length: int) -> str:
    if min_length <= 1:
        return rf"^[^\x00]*[^\x00{_SPACE}][^\x00]*$"
    return rf"^[{_SPACE}]*[^\x00{_SPACE}][^\x00]{{{min_length - 2},}}[^\x00{_SPACE}][{_SPACE}]*$"


def stored(text: Any) -> Any:
    """The pattern of a text type (`Annotated[str, Field(min_length=...)]`), for `Annotated[text, stored(text)]`."""
    min_length = next((m.min_length for info in get_args(text)[1:] for m in getattr(info, "metadata", []) if hasattr(m, "min_length")), 1)
    return Field(json_schema_extra={"pattern": text_pattern(min_length)})


_Reason = Annotated[str, Field(min_length=1, max_length=5000)]
_Question = Annotated[str, Field(min_length=1, max_length=10_000)]
Reason = Annotated[_Reason, stored(_Reason)]
Question = Annotated[_Question, stored(_Question)]


# ------------------------------------------------------------------------------- requests


class DocumentIn(StrictModel):
    filename: Annotated[Text, stored(Text)]
    content_type: Literal["application/pdf", "image/png", "image/jpeg", "text/plain"]
    content_base64: str = Field(min_length=1, max_length=7_000_000, description="the file, base64-encoded; at most 5 MB once decoded")


class AnswerIn(StrictModel):
    """E-6: the information asked for: text, and documents if any."""

    answer: Question
    documents: list[DocumentIn] = Field(default_factory=list, max_length=10)


class ReconsiderationIn(StrictModel):
    """E-10: why the organisation does not agree with the minister's decision."""

    motivation: Annotated[Motivation, stored(Motivation)]


class AssignmentIn(StrictModel):
    """E-9: a coaching assignment: the employer and the dates; no employee is named."""

    employer_name: Annotated[Text, stored(Text)]
    employer_enterprise_number: EnterpriseNumber | None = None
    starts_on: date
    ends_on: date | None = Field(default=None, description="unknown while the coaching goes on")


class AssignmentEndIn(StrictModel):
    ends_on: date


class ChangeReportIn(StrictModel):
    """E-12: what changed and how it affects (or may affect) the conditions."""

    description: Question


class AdmissibilityIn(StrictModel):
    """E-5: complete and correct, or not, with the reasons (required when inadmissible)."""

    outcome: Literal["admissible", "inadmissible"]
    reasons: Reason | None = None


class QuestionIn(StrictModel):
    question: Question


class AdviceIn(StrictModel):
    """E-7 (the department) or E-10 (the commission): the advice to the minister, motivated."""

    advice: Literal["favourable", "unfavourable"]
    motivation: Reason


class DecisionIn(StrictModel):
    """E-7, E-8: the minister's decision as taken."""

    outcome: Literal["granted", "refused"]
    decided_on: date = Field(description="the date of the minister's decision")
    recognition_starts_on: date | None = Field(default=None, description="granted: the date in the decision the recognition starts (E-8)")
    reasons: Reason | None = Field(default=None, description="required for a refusal")


class HearingIn(StrictModel):
    heard_on: date = Field(description="E-10: the day the commission heard the applicant")


class ReviewIn(StrictModel):
    """E-12: the reported change noted, or the recognition withdrawn from today."""

    outcome: Literal["noted", "withdrawn"]
    note: Reason


# ------------------------------------------------------------------------------- applications

PartName = Literal["project", "simplified", "experience", "territory", "declaration"]


class DocumentOut(Out):
    document_id: UUID
    filename: str
    content_type: str
    size_bytes: int


class InformationRequestOut(Out):
    """E-6: a question of the department and its answer; the term is suspended in between."""

    request_id: UUID
    question: str
    asked_at: datetime
    requested_on: date
    answer: str | None
    answered_at: datetime | None
    received_on: date | None
    documents: list[DocumentOut]


class RecognitionRef(Out):
    recognition_id: UUID
    recognition_number: str
    valid_from: date
    valid_until: date
    ended_on: date | None
    end_reason: EndReason | None


class ProviderApplication(Out):
    """An application as its provider sees it, with every derived date."""

    application_id: UUID
    dossier_number: str
    organisation_id: UUID
    organisation_name: str | None
    status: Status
    parts: dict[PartName, dict[str, Any]] = Field(description="the parts saved so far, by name, each as its PUT accepted it")
    required_parts: list[PartName] = Field(description="E-3: all five, or four for the simplified-registration group")
    missing_parts: list[PartName] = Field(description="drafts: the parts still to fill in")
    submitted_at: datetime | None
    submitted_on: date | None
    admissibility_due_on: date | None = Field(description="E-5: 7 days after submission (Judicial Code counting)")
    admissibility_judged_on: date | None
    admissibility_reasons: str | None
    examination_starts_on: date | None = Field(description="E-6: the day the admissibility email was delivered")
    examination_due_on: date | None = Field(description="E-6: 45 days plus the days suspended; null before it starts or while suspended")
    suspended_since: date | None = Field(description="E-6: the term is suspended since this day (information asked)")
    suspended_days: int
    outcome: Literal["granted", "refused"] | None
    decided_on: date | None
    decision_reasons: str | None
    recognition_starts_on: date | None
    decision_informed_on: date | None = Field(description="E-10: the day the decision email was delivered")
    reconsideration_last_day: date | None = Field(description="E-10: the last day a reconsideration can be asked")
    reconsideration_requested_on: date | None
    heard_on: date | None
    commission_advice_due_on: date | None = Field(description="E-10: 45 days after the hearing")
    reconsidered_outcome: Literal["granted", "refused"] | None
    reconsidered_on: date | None
    reconsidered_reasons: str | None
    information_requests: list[InformationRequestOut]
    recognition: RecognitionRef | None
    created_at: datetime
    updated_at: datetime


class QualityFact(Out):
    """E-2: the WSE quality registration as identity describes it."""

    status: str
    valid_from: date | None
    valid_until: date | None
    registered_on_submission: bool | None


class HistoryEntry(Out):
    at: datetime
    actor_id: UUID | None = Field(description="null for what happened by itself (a delivery, a term)")
    action: str
    details: dict[str, Any]


class BackOfficeApplication(ProviderApplication):
    """An application as the department sees it: with the advice, the commission's, the quality
    registration as a fact and the history."""

    deadline: date | None = Field(description="the department's deadline now: E-5, E-6 or E-10's advice term")
    advice: Literal["favourable", "unfavourable"] | None
    advice_motivation: str | None
    advised_on: date | None
    reconsideration_motivation: str | None
    commission_advice: Literal["favourable", "unfavourable"] | None
    commission_motivation: str | None
    commission_advised_on: date | None
    quality_registration: QualityFact | None
    history: list[HistoryEntry]


class ApplicationSummary(Out):
    application_id: UUID
    dossier_number: str
    status: Status
    project_title: str | None
    submitted_on: date | None
    admissibility_due_on: date | None
    examination_due_on: date | None
    suspended_since: date | None
    decided_on: date | None
    outcome: Literal["granted", "refused"] | None
    reconsideration_last_day: date | None
    updated_at: datetime


class QueueItem(Out):
    """An application in the department's queue with its state and derived deadlines."""

    application_id: UUID
    dossier_number: str
    organisation_id: UUID
    organisation_name: str | None
    status: Status
    submitted_on: date | None
    admissibility_due_on: date | None
    examination_starts_on: date | None
    examination_due_on: date | None
    suspended_since: date | None
    suspended_days: int
    reconsideration_requested_on: date | None
    heard_on: date | None
    commission_advice_due_on: date | None
    deadline: date | None = Field(description="the term of the department's next step; null when none runs (suspended, with the minister)")
    overdue: bool


# ------------------------------------------------------------------------------- recognitions


class AssignmentOut(Out):
    assignment_id: UUID
    employer_name: str
    employer_enterprise_number: str | None
    starts_on: date
    ends_on: date | None
    recorded_at: datetime


class ChangeReportOut(Out):
    report_id: UUID
    description: str
    reported_at: datetime
    reviewed_at: datetime | None
    review_outcome: Literal["noted", "withdrawn"] | None
    review_note: str | None


class RecognitionOut(Out):
    """E-8: a recognition with its dates; E-9: its assignments and the day it would end for want of coaching."""

    recognition_id: UUID
    recognition_number: str
    organisation_id: UUID
    application_id: UUID
    name: str
    enterprise_number: str | None
    valid_from: date
    valid_until: date = Field(description="the last day it holds: the day before the fifth anniversary")
    ended_on: date | None = Field(description="the first day it no longer holds, once ended")
    end_reason: EndReason | None
    end_explanation: str | None
    recognised_today: bool
    inactivity_end_on: date | None = Field(description="E-9: it ends on this day unless a coaching assignment is recorded")
    provinces: list[Province]
    municipalities: list[str]
    capacity: int
    subcontractors: list[str] = Field(description="E-11: the subcontractors' enterprise numbers")
    assignments: list[AssignmentOut]
    change_reports: list[ChangeReportOut]


class ChangeReportItem(Out):
    report_id: UUID
    recognition_id: UUID
    recognition_number: str
    organisation_id: UUID
    organisation_name: str
    description: str
    reported_at: datetime


class RecognisedProvider(Out):
    """A recognised external service provider, as the public and employers see it."""

    recognition_number: str
    name: str
    enterprise_number: str | None
    provinces: list[Province]
    municipalities: list[str]
    capacity: int
    valid_from: date
    valid_until: date
