"""The attestation rules (A-1 to A-9 in domain.md, seeds 003 and 004), in plain Python: what an
enrolment and an attendance need, checked against the register's dates (A-3 to A-8), and the
training-leave minimum (A-6). No I/O: the use cases load the training and the enrolment and ask.

Every reason here is safe to show and to log: none contains a national register number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from service_runtime.calendar import SchoolYear
from service_runtime.errors import Violation

MINIMUM_HOURS = Decimal(32)  # the training-leave minimum per school year
COMBINED_FROM = SchoolYear(2021)  # from 2021-2022 hours of different providers add up
MAX_SCHOOL_YEARS = 2


class Kind(StrEnum):
    ENROLMENT = "enrolment"
    ATTENDANCE = "attendance"


class Status(StrEnum):
    ACCEPTED = "accepted"
    HELD = "held"  # the register does not know the ODB number yet: re-checked when it does
    REFUSED = "refused"  # held, then refused once the register knew the number
    WITHDRAWN = "withdrawn"


class Outcome(StrEnum):
    """What happened to one submitted attestation (a row of a bulk file, or a single one)."""

    ACCEPTED = "accepted"
    HELD = "held"
    REFUSED = "refused"
    UNCHANGED = "unchanged"  # the same attestation again: stored once (idempotent on the reference)


@dataclass(frozen=True, slots=True)
class Module:
    name: str
    hours: Decimal
    blended: bool
    starts_on: date
    ends_on: date


@dataclass(frozen=True, slots=True)
class Training:
    """A registered training as registration's events describe it."""

    odb_number: str
    organisation_id: Any
    holds_from: date
    stop_on: date | None
    replaced_by: str | None
    structure: str  # integral | modular
    blended: bool
    modules: dict[str, Module] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Any) -> Training:
        return cls(
            odb_number=row["odb_number"],
            organisation_id=row["organisation_id"],
            holds_from=row["holds_from"],
            stop_on=row["stop_on"],
            replaced_by=row["replaced_by"],
            structure=row["structure"],
            blended=row["blended"],
            modules={
                m["name"]: Module(m["name"], Decimal(str(m["hours"])), bool(m["blended"]), date.fromisoformat(m["starts_on"]), date.fromisoformat(m["ends_on"]))
                for m in row["modules"]
            },
        )

    def module_blended(self, module: str) -> bool:
        found = self.modules.get(module)
        return found.blended if found else self.blended


# ------------------------------------------------------------------------------- national register numbers


def national_register_number_problem(text: str) -> str | None:
    """Why this is not a national register number, or None: 11 digits (dots, dashes and spaces
    allowed as people type them), a possible birth date, and the mod-97 check (births from 2000
    prefix a 2). The reason never repeats the number."""
    plain = len(text) == 11 and text.isascii() and text.isdigit()  # as a bulk file mostly has it: no scan per character
    digits = text if plain else "".join(c for c in text if c.isdigit())
    if len(digits) != 11 or (not plain and any(c not in "0123456789.- " for c in text)):
        return "a national register number has 11 digits (yymmdd-xxx-cc)"
    body, check = int(digits[:9]), int(digits[9:])
    if 97 - body % 97 != check and 97 - (2_000_000_000 + body) % 97 != check:
        return "the check digits do not match; check the number for typos"
    month, day = int(digits[2:4]), int(digits[4:6])
    # Month 0 or day 0 occur for unknown birth dates; months +20/+40 are bis numbers.
    if month % 20 > 12 or day > 31:
        return "the birth-date part is not a date"
    return None


def digits_of(text: str) -> str:
    return text if text.isascii() and text.isdigit() else "".join(c for c in text if c.isdigit())


# ------------------------------------------------------------------------------- rules


def school_years_spanned(starts_on: date, ends_on: date) -> int:
    return SchoolYear.of(ends_on).starts - SchoolYear.of(starts_on).starts + 1


def enrolment_problems(
    *, training: Training | None, organisation_id: Any, module: str, starts_on: date, ends_on: date, new: bool
) -> tuple[list[Violation], Status]:
    """A-2, A-4, A-7, A-8: the problems of an enrolment, and its status when there are none
    (held while the register does not know the number: events can lag the provider)."""
    problems = []
    if ends_on < starts_on:
        problems.append(Violation("ends_on", "the training ends on or after its start", "A-2"))
    elif school_years_spanned(starts_on, ends_on) > MAX_SCHOOL_YEARS:
        problems.append(Violation("ends_on", f"a training spanning more than {MAX_SCHOOL_YEARS} school years cannot be processed for training leave", "A-7"))
    if training is None:
        return problems, Status.HELD
    if training.organisation_id != organisation_id:
        problems.append(Violation("odb_number", "this ODB number is a training of another organisation", "A-2"))
        return problems, Status.ACCEPTED
    if new and training.replaced_by:
        problems.append(
            Violation("odb_number", f"this registration was replaced by {training.replaced_by}: new students are enrolled on the new number", "A-8")
        )
    if starts_on < training.holds_from:
        problems.append(
            Violation("starts_on", f"the registration holds from {training.holds_from.isoformat()}: a training starting before cannot be attested on it", "A-4")
        )
    if training.stop_on is not None and starts_on >= training.stop_on:
        problems.append(Violation("starts_on", f"the registration stopped on {training.stop_on.isoformat()}: no new student after the stop", "A-4"))
    if training.structure == "modular":
        if not module:
            problems.append(Violation("module", f"a modular training is attested per module: one of {', '.join(sorted(training.modules))}", "A-2"))
        elif module not in training.modules:
            problems.append(Violation("module", f"no module of that name in this training; one of {', '.join(sorted(training.modules))}", "A-2"))
    elif module:
        problems.append(Violation("module", "an integral training is attested as a whole, without a module", "A-2"))
    return problems, Status.ACCEPTED


@dataclass(frozen=True, slots=True)
class Enrolled:
    """What an attendance is checked against: the enrolment its reference names."""

    enrolment_id: Any
    odb_number: str
    module: str
    student_id: str
    status: str
    starts_on: date
    ends_on: date


def attendance_problems(
    *,
    enrolment: Enrolled | None,
    training: Training | None,
    student_id: str,
    odb_number: str,
    module: str,
    period_from: date,
    period_to: date,
    hours: Decimal,
    completed: bool | None,
) -> tuple[list[Violation], Status]:
    """A-2, A-3, A-5: the problems of an attendance, and its status when there are none."""
    problems = []
    if period_to < period_from:
        problems.append(Violation("period_to", "the period ends on or after its start", "A-2"))
    elif hours > 24 * ((period_to - period_from).days + 1):
        problems.append(Violation("hours", "more hours than the period has", "A-2"))
    if enrolment is None or enrolment.status == Status.WITHDRAWN:
        problems.append(Violation("reference", "no enrolment with this reference: attest the enrolment first", "A-3"))
        return problems, Status.ACCEPTED
    if enrolment.student_id != student_id:
        problems.append(Violation("national_register_number", "the enrolment with this reference is of another student", "A-2"))
    if enrolment.odb_number != odb_number:
        # after a replacement, students enrolled on the old number stay attested on it.
        problems.append(
            Violation("odb_number", f"the enrolment with this reference is on {enrolment.odb_number}: attendance is attested on the same number", "A-3")
        )
    if enrolment.module != module:
        problems.append(Violation("module", "attendance is attested on the module of the enrolment", "A-3"))
    if completed is not None and training is not None and not training.module_blended(module):
        problems.append(Violation("completed", "completion of the learning process is attested for blended modules only", "A-5"))
    return problems, Status.HELD if enrolment.status == Status.HELD or training is None else Status.ACCEPTED


def counts_from_combined(school_year: str) -> bool:
    """A-6: from 2021-2022 hours of different providers add up; before, per training."""
    return SchoolYear.parse(school_year) >= COMBINED_FROM


def reached(hours: Decimal) -> bool:
    return hours >= MINIMUM_HOURS
