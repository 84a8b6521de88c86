"""What the attestation service takes and answers. Answers never carry a national register
number except the department's reimbursement export (decrypted there only) and, masked, the
department's student look-up."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, TypeVar
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from attestation.domain import Status, national_register_number_problem
from wse_contracts import StrictModel

M = TypeVar("M", bound=BaseModel)

Text = Annotated[str, Field(min_length=1, max_length=200)]
OdbNumber = Annotated[str, Field(min_length=4, max_length=30, pattern=r"^[Oo][Dd][Bb]-[A-Za-z]?[0-9]{1,20}$")]


def _national_register_number(value: str) -> str:
    if problem := national_register_number_problem(value):
        raise ValueError(problem)  # the reason never repeats the number
    return value


NationalRegisterNumber = Annotated[
    str,
    Field(min_length=11, max_length=15, pattern=r"^[0-9]{2}[.\- ]?[0-9]{2}[.\- ]?[0-9]{2}[.\- ]?[0-9]{3}[.\- ]?[0-9]{2}$", examples=["85073003328"]),
    AfterValidator(_national_register_number),
]
Hours = Annotated[Decimal, Field(ge=0, le=10_000, max_digits=7, decimal_places=2)]


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


def pick(model: type[M], row: Any) -> M:
    return model.model_validate({name: row[name] for name in model.model_fields if name in row})


class EnrolmentIn(StrictModel):
    """A-2: a student's enrolment on a registered training (and module), with your own reference."""

    rule: ClassVar[str] = "A-2"

    reference: Text = Field(description="your own reference for this student's enrolment; the same reference again is the same enrolment")
    odb_number: OdbNumber
    module: Annotated[str, Field(max_length=200)] = Field(default="", description="for a modular training: the module's name")
    national_register_number: NationalRegisterNumber
    last_name: Text
    first_name: Text
    starts_on: date
    ends_on: date


class AttendanceIn(StrictModel):
    """A-2, A-3: hours attended in a period, on the enrolment's ODB number; A-5: for a blended module, whether the learning process was completed."""

    rule: ClassVar[str] = "A-2"
    field_rules: ClassVar[dict[str, str]] = {"completed": "A-5", "odb_number": "A-3"}

    reference: Text = Field(description="the reference of the student's enrolment")
    odb_number: OdbNumber
    module: Annotated[str, Field(max_length=200)] = ""
    national_register_number: NationalRegisterNumber
    period_from: date
    period_to: date
    hours: Hours
    completed: bool | None = Field(default=None, description="A-5, blended modules only: the learning process was completed")


class StudentLookupIn(StrictModel):
    """The number in the body, never in a URL (URLs end up in logs)."""

    national_register_number: NationalRegisterNumber


class ReceiptOut(Out):
    """A-9: the acknowledgement of receipt."""

    receipt_id: UUID
    receipt_number: str
    received_at: datetime
    kind: Literal["single", "bulk"]
    filename: str | None
    sha256: str | None
    rows_total: int
    accepted: int
    held: int = Field(description="the register does not know the ODB number yet: judged when it does")
    refused: int
    unchanged: int = Field(description="already attested with the same content: stored once")
    status: Literal["processing", "done", "rejected", "incomplete"] = Field(
        description="a bulk file: processing while it is read; rejected as a whole (encoding, headers, size); incomplete when cut off (send it again)"
    )


class ProblemRow(Out):
    row_number: int
    field: str
    reason: str
    rule: str | None


class AttestationOut(Out):
    attestation_id: UUID
    kind: Literal["enrolment", "attendance"]
    reference: str
    version: int
    student_id: str = Field(description="the student's pseudonym")
    last_name: str
    first_name: str
    odb_number: str
    module: str
    starts_on: date | None
    ends_on: date | None
    period_from: date | None
    period_to: date | None
    hours: Decimal | None
    completed: bool | None
    school_year: str
    status: Status
    refusal_rule: str | None
    refusal_reason: str | None
    updated_at: datetime


class AttestedOut(Out):
    outcome: Literal["accepted", "held", "unchanged"]
    receipt: ReceiptOut
    attestation: AttestationOut


class HistoryOut(Out):
    version: int
    content: dict[str, Any]
    replaced_at: datetime
    action: Literal["corrected", "withdrawn"]


class TrainingHours(Out):
    odb_number: str
    hours: Decimal
    reached: bool


class SchoolYearOut(Out):
    """A-6: the hours that count in a school year and whether the minimum is reached."""

    school_year: str
    counted_hours: Decimal
    minimum_hours: Decimal
    reached: bool
    combined_across_providers: bool = Field(description="from 2021-2022 hours of different providers add up; before, per training")
    per_training: list[TrainingHours]


class StudentAttestation(Out):
    kind: Literal["enrolment", "attendance"]
    attestation_id: UUID
    odb_number: str
    module: str
    provider_name: str | None
    starts_on: date | None
    ends_on: date | None
    period_from: date | None
    period_to: date | None
    hours: Decimal | None
    completed: bool | None
    school_year: str
    status: Status
    updated_at: datetime


class TrainingLeaveOut(Out):
    """The citizen's own training leave (ID-10)."""

    school_years: list[SchoolYearOut]
    attestations: list[StudentAttestation]


class StudentOut(TrainingLeaveOut):
    student_id: str
    national_register_number: str = Field(description="masked: 85.07.30-***.**")
    last_name: str
    first_name: str


class SearchItem(Out):
    attestation_id: UUID
    organisation_id: UUID
    provider_name: str | None
    student_id: str
    odb_number: str
    module: str
    starts_on: date
    ends_on: date
    school_year: str
    status: Status
    completed: bool
    attended_hours: Decimal
    updated_at: datetime
