"""One attestation as submitted, in one shape for the single forms and every row of a bulk file:
parsed from text (as spreadsheets export it) into a `Row`, or the list of its field problems.

Columns have an English and a Dutch name (the headers providers' exports use). Parsing is plain
Python on purpose: the bulk ingest reads a million rows, and a Pydantic model per row would cost
more than all the other work on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from attestation.domain import Kind, digits_of, national_register_number_problem
from service_runtime.errors import Violation

# column -> the names a header may carry (lower case, spaces and dashes as underscores)
COLUMNS: dict[str, tuple[str, ...]] = {
    "kind": ("kind", "type", "soort", "attest"),
    "reference": ("reference", "referentie", "eigen_referentie"),
    "odb_number": ("odb_number", "odb_nummer", "odb", "odb_registratienummer"),
    "module": ("module",),
    "national_register_number": ("national_register_number", "rijksregisternummer", "rrn", "insz"),
    "last_name": ("last_name", "naam", "achternaam", "familienaam"),
    "first_name": ("first_name", "voornaam"),
    "starts_on": ("starts_on", "startdatum", "begindatum"),
    "ends_on": ("ends_on", "einddatum"),
    "period_from": ("period_from", "periode_van", "van"),
    "period_to": ("period_to", "periode_tot", "tot"),
    "hours": ("hours", "uren", "aantal_uren"),
    "completed": ("completed", "leerproces_doorlopen", "doorlopen"),
}
REQUIRED = ("kind", "reference", "odb_number", "national_register_number")
KIND_WORDS = {
    "enrolment": Kind.ENROLMENT,
    "inschrijving": Kind.ENROLMENT,
    "attendance": Kind.ATTENDANCE,
    "aanwezigheid": Kind.ATTENDANCE,
    "deelname": Kind.ATTENDANCE,
}
TRUE_WORDS = {"true": True, "ja": True, "yes": True, "1": True, "waar": True, "false": False, "nee": False, "no": False, "0": False, "onwaar": False, "": None}
MAX_TEXT = 200


def normalise_header(header: str) -> str:
    return header.strip().lstrip("\ufeff").lower().replace(" ", "_").replace("-", "_").replace(".", "")


def column_of(header: str) -> str | None:
    name = normalise_header(header)
    for column, names in COLUMNS.items():
        if name in names:
            return column
    return None


@dataclass(slots=True)
class Row:
    row_number: int
    kind: Kind
    reference: str
    odb_number: str
    module: str
    nrn: str  # 11 digits; never logged, never in an error
    last_name: str = ""
    first_name: str = ""
    starts_on: date | None = None
    ends_on: date | None = None
    period_from: date | None = None
    period_to: date | None = None
    hours: Decimal | None = None
    completed: bool | None = None


def _date(value: str, field: str, problems: list[Violation]) -> date | None:
    text = value.strip()
    if not text:
        problems.append(Violation(field, "required", "A-2"))
        return None
    try:
        if "/" in text:  # 31/01/2027, as Belgian spreadsheets write it
            day, month, year = text.split("/")
            return date(int(year), int(month), int(day))
        return date.fromisoformat(text)
    except ValueError:
        problems.append(Violation(field, "a date: 2027-01-31 or 31/01/2027", "A-2"))
        return None


def _text(value: str, field: str, problems: list[Violation], *, required: bool = True) -> str:
    text = value.strip()
    if required and not text:
        problems.append(Violation(field, "required", "A-2"))
    elif len(text) > MAX_TEXT or "\x00" in text:
        problems.append(Violation(field, f"at most {MAX_TEXT} characters of text", "A-2"))
    return text


def parse(values: dict[str, str], row_number: int) -> Row | list[Violation]:
    """A row from its columns' text; every problem at once, none repeating a national register number."""
    problems: list[Violation] = []
    kind = KIND_WORDS.get(values.get("kind", "").strip().lower())
    if kind is None:
        problems.append(Violation("kind", "enrolment or attendance (inschrijving or aanwezigheid)", "A-2"))
    reference = _text(values.get("reference", ""), "reference", problems)
    odb_number = _text(values.get("odb_number", ""), "odb_number", problems).upper()
    module = _text(values.get("module", ""), "module", problems, required=False)
    raw_nrn = values.get("national_register_number", "")
    if problem := national_register_number_problem(raw_nrn):
        problems.append(Violation("national_register_number", problem, "A-2"))
    row = Row(row_number, kind or Kind.ENROLMENT, reference, odb_number, module, digits_of(raw_nrn))
    if kind == Kind.ENROLMENT:
        row.last_name = _text(values.get("last_name", ""), "last_name", problems)
        row.first_name = _text(values.get("first_name", ""), "first_name", problems)
        row.starts_on = _date(values.get("starts_on", ""), "starts_on", problems)
        row.ends_on = _date(values.get("ends_on", ""), "ends_on", problems)
    elif kind == Kind.ATTENDANCE:
        row.period_from = _date(values.get("period_from", ""), "period_from", problems)
        row.period_to = _date(values.get("period_to", ""), "period_to", problems)
        hours_text = values.get("hours", "").strip().replace(",", ".")
        try:
            row.hours = Decimal(hours_text)
            if not row.hours.is_finite() or row.hours < 0 or row.hours > 10_000 or row.hours != round(row.hours, 2):
                raise InvalidOperation
        except InvalidOperation:
            problems.append(Violation("hours", "a number of hours, e.g. 12 or 7,5", "A-2"))
        completed = TRUE_WORDS.get(values.get("completed", "").strip().lower(), "bad")
        if completed == "bad":
            problems.append(Violation("completed", "ja or nee (true or false), or empty", "A-5"))
        else:
            row.completed = completed  # type: ignore[assignment]  # a bool or None from TRUE_WORDS
    return problems or row
