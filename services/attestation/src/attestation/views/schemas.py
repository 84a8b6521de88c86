"""What the attestation service takes and answers. Answers never carry a national register
number except the department's reimbursement export (decrypted there only) and, masked, the
department's student look-up."""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, TypeVar, get_args
from uuid import UUID

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from attestation.domain import Status, national_register_number_problem
from service_runtime.api import Out
from wse_contracts import StrictModel

M = TypeVar("M", bound=BaseModel)

# Text as the request models take it (StrictModel): the spaces around it are stripped before its
# length counts, and a NUL character is refused (PostgreSQL cannot store it). The document says so
# with a pattern: no NUL, and at least `min_length` characters from the first to the last that is
# not a space (Unicode White_Space, what Pydantic strips). Enforced by the model, not the pattern.
_SPACE = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def text_pattern(min_length: int) -> str:
    if min_length == 0:
        return r"^[^\x00]*$"
    if min_length == 1:
        return rf"^[^\x00]*[^\x00{_SPACE}][^\x00]*$"
    return rf"^[{_SPACE}]*[^\x00{_SPACE}][^\x00]{{{min_length - 2},}}[^\x00{_SPACE}][{_SPACE}]*$"


def stored(text: Any) -> Any:
    """The pattern of a text type (`Annotated[str, Field(min_length=...)]`), for `Annotated[text, stored(text)]`."""
    min_length = next((m.min_length for info in get_args(text)[1:] for m in getattr(info, "metadata", []) if hasattr(m, "min_length")), 0)
    return Field(json_schema_extra={"pattern": text_pattern(min_length)})


_Text = Annotated[str, Field(min_length=1, max_length=200)]
_Module = Annotated[str, Field(max_length=200)]
Text = Annotated[_Text, stored(_Text)]
Module = Annotated[_Module, stored(_Module)]
OdbNumber = Annotated[str, Field(min_length=4, max_length=30, pattern=r"^[Oo][Dd][Bb]-[A-Za-z]?[0-9]{1,20}$")]


def _national_register_number(value: str) -> str:
    if problem := national_register_number_problem(value):
        raise ValueError(problem)  # the reason never repeats the number
    return value


NationalRegisterNumber = Annotated[
    str,
    Field(
        min_length=11,
        max_length=15,
        pattern=r"^[0-9]{2}[.\- ]?[0-9]{2}[.\- ]?[0-9]{2}[.\- ]?[0-9]{3}[.\- ]?[0-9]{2}$",
        examples=["85073003328"],
        description="11 digits (yymmdd-xxx-cc; dots, dashes and spaces as people type them) with the mod-97 check digits and a possible birth date (A-2)",
    ),
    AfterValidator(_national_register_number),
]

# Hours as a JSON number or as text ("7.5", as spreadsheets export them): at most 10,000 with at
# most two decimals (the database keeps numeric(7, 2)). Text is read only in that form, so the
# document's pattern is exactly what is taken; a number's decimals JSON Schema cannot bound
# reliably (multipleOf 0.01 fails on binary fractions), so its description says it.
_HOURS_TEXT = r"^(?:10000(?:\.0{1,2})?|[0-9]{1,4}(?:\.[0-9]{1,2})?)$"


def _hours(value: Any) -> Any:
    """Text in the documented form, and numbers, as a Decimal (a float by its shortest text:
    7.1 is 7.1, not its binary expansion); nothing else (true is no number of hours)."""
    if isinstance(value, str):
        if not re.fullmatch(_HOURS_TEXT, value):
            raise ValueError("hours are written like 12 or 7.5: from 0 to 10000, with at most two decimals")
        return Decimal(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, float) and math.isfinite(value):
        return Decimal(repr(value))
    raise ValueError("hours are a number, or text such as 7.5")


Hours = Annotated[
    Decimal,
    BeforeValidator(_hours),
    Field(ge=0, le=10_000, max_digits=7, decimal_places=2),
    WithJsonSchema(
        {
            "anyOf": [{"type": "number", "minimum": 0, "maximum": 10_000}, {"type": "string", "pattern": _HOURS_TEXT}],
            "description": 'hours attended: from 0 to 10000, with at most two decimals (a number, or text such as "7.5")',
            "examples": ["20"],
        }
    ),
]


# The examples the document shows (and schemathesis sends first): an integral training's
# enrolment and the hours attended on it, under the provider's reference.
ENROLMENT_EXAMPLE: dict[str, Any] = {
    "reference": "INS-2026-0001",
    "odb_number": "ODB-12345",
    "module": "",
    "national_register_number": "85073003328",
    "last_name": "Peeters",
    "first_name": "An",
    "starts_on": "2026-09-15",
    "ends_on": "2027-06-30",
}
ATTENDANCE_EXAMPLE: dict[str, Any] = {
    "reference": "INS-2026-0001",
    "odb_number": "ODB-12345",
    "module": "",
    "national_register_number": "85073003328",
    "period_from": "2026-09-15",
    "period_to": "2026-12-31",
    "hours": "20",
}


class EnrolmentIn(StrictModel):
    """A-2: a student's enrolment on a registered training (and module), with your own reference."""

    model_config = ConfigDict(json_schema_extra={"examples": [ENROLMENT_EXAMPLE]})
    rule: ClassVar[str] = "A-2"

    reference: Text = Field(description="your own reference for this student's enrolment; the same reference again is the same enrolment")
    odb_number: OdbNumber
    module: Module = Field(default="", description="for a modular training: the module's name")
    national_register_number: NationalRegisterNumber
    last_name: Text
    first_name: Text
    starts_on: date
    ends_on: date


class AttendanceIn(StrictModel):
    """A-2, A-3: hours attended in a period, on the enrolment's ODB number; A-5: for a blended module, whether the learning process was completed."""

    model_config = ConfigDict(json_schema_extra={"examples": [ATTENDANCE_EXAMPLE]})
    rule: ClassVar[str] = "A-2"
    field_rules: ClassVar[dict[str, str]] = {"completed": "A-5", "odb_number": "A-3"}

    reference: Text = Field(description="the reference of the student's enrolment")
    odb_number: OdbNumber
    module: Module = Field(default="", description="the module of the enrolment")
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


class VersionContent(Out):
    """What an earlier version of an attestation said (never the student's number or name): an
    enrolment's dates, or an attendance's period and hours."""

    reference: str
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


class HistoryOut(Out):
    version: int
    content: VersionContent
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
