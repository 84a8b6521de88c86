"""The recognition rules (E-1 to E-13 in domain.md, seed 002), in plain Python: the parts an
application needs, what may happen in which status, and every term, derived from facts.

Terms are counted as the Judicial Code counts them (`service_runtime.calendar.term_end`): the
day of the act does not count, the last day does, and a last day on a weekend or public holiday
moves to the next working day. The same rule is a SQL function, so the work queue derives its
deadlines in the database; `tests/platform` proves the two agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from recognition.parts import CORE_COMPETENCES
from service_runtime.calendar import add_months, add_years, term_end
from service_runtime.errors import Conflict, Invalid, Violation, raise_if_any

ADMISSIBILITY_DAYS = 7  # E-5
EXAMINATION_DAYS = 45  # E-6, plus the days suspended
RECONSIDERATION_DAYS = 30  # E-10, from the day the applicant was informed of the decision
COMMISSION_ADVICE_DAYS = 45  # E-10, from the hearing
VALIDITY_YEARS = 5  # E-8
INACTIVITY_YEARS = 2  # E-9
REMINDER_MONTHS_BEFORE_END = 6  # E-8: time enough to apply again (E-13) and be examined
EXAMINATION_REMINDER_DAYS = 7  # the case handler's reminder comes this many days before the E-6 deadline

PARTS = ("project", "simplified", "experience", "territory", "declaration")  # E-3, in Platos' order
PART_TITLES = {
    "project": "part 1 (project, contact and organisation data)",
    "simplified": "part 2 (simplified-registration group)",
    "experience": "part 3 (experience and qualified coaches)",
    "territory": "part 4 (territory and capacity)",
    "declaration": "part 5 (declaration on honour)",
}


class Status(StrEnum):
    """Where an application is, from draft to the minister's (re)decision."""

    DRAFT = "draft"
    SUBMITTED = "submitted"  # E-5: admissibility to be judged
    INADMISSIBLE = "inadmissible"
    IN_EXAMINATION = "in_examination"  # E-6: the 45 days run (from the admissibility email's delivery)
    AWAITING_INFORMATION = "awaiting_information"  # E-6: the term is suspended
    ADVISED = "advised"  # E-7: with the minister
    GRANTED = "granted"
    REFUSED = "refused"
    RECONSIDERATION_REQUESTED = "reconsideration_requested"  # E-10: the commission is to hear the applicant
    RECONSIDERATION_HEARD = "reconsideration_heard"  # E-10: the commission's advice is due in 45 days
    RECONSIDERATION_ADVISED = "reconsideration_advised"  # E-10: with the minister again


class Advice(StrEnum):
    FAVOURABLE = "favourable"
    UNFAVOURABLE = "unfavourable"


class Outcome(StrEnum):
    GRANTED = "granted"
    REFUSED = "refused"


class EndReason(StrEnum):
    EXPIRY = "expiry"  # E-8
    INACTIVITY = "inactivity"  # E-9
    WITHDRAWAL = "withdrawal"  # the department, e.g. after a reported change (E-12)


# One open application per organisation: a draft or one being handled. After an inadmissible or
# refused one (E-5) or alongside a recognition (to apply again before it ends) a new one may start.
# A reconsideration does not block a new application: the organisation may do both.
OPEN_STATUSES = (Status.DRAFT, Status.SUBMITTED, Status.IN_EXAMINATION, Status.AWAITING_INFORMATION, Status.ADVISED)
# What the case handlers' queue shows: submitted and not finally decided.
QUEUE_STATUSES = (
    Status.SUBMITTED,
    Status.IN_EXAMINATION,
    Status.AWAITING_INFORMATION,
    Status.ADVISED,
    Status.RECONSIDERATION_REQUESTED,
    Status.RECONSIDERATION_HEARD,
    Status.RECONSIDERATION_ADVISED,
)


# ------------------------------------------------------------------------------- parts (E-2, E-3, E-11)


def required_parts(parts: Mapping[str, Any]) -> tuple[str, ...]:
    """E-3: all five, except part 3 for an organisation of the simplified-registration group."""
    if (parts.get("simplified") or {}).get("simplified"):
        return tuple(p for p in PARTS if p != "experience")
    return PARTS


def missing_parts(parts: Mapping[str, Any]) -> list[str]:
    return [p for p in required_parts(parts) if p not in parts]


def asked(part: str, parts: Mapping[str, Any]) -> bool:
    """A simplified applicant is not asked part 3 (E-3)."""
    return part in required_parts(parts)


def part_problems(name: str, part: Mapping[str, Any]) -> list[Violation]:
    """The rules between the fields of one part (the types and lengths are the models')."""
    problems: list[Violation] = []
    if name == "simplified":
        if part["simplified"] and not part.get("group"):
            problems.append(Violation("group", "name the group the organisation belongs to: gtb, gob, maatwerkbedrijf or lde", "E-3"))
        if not part["simplified"] and part.get("group"):
            problems.append(Violation("group", "only an organisation of the simplified-registration group names one", "E-3"))
    elif name == "experience":
        for i, coach in enumerate(part["coaches"]):
            lacking = [c for c in CORE_COMPETENCES if c not in coach["competences"]]
            if lacking:
                problems.append(
                    Violation(f"coaches[{i}].competences", f"a qualified coach shows all four core competences; missing: {', '.join(lacking)}", "E-2")
                )
    elif name == "territory":
        numbers = [s["enterprise_number"] for s in part.get("subcontractors", [])]
        for i, number in enumerate(numbers):
            if number in numbers[:i]:
                problems.append(Violation(f"subcontractors[{i}].enterprise_number", "this subcontractor is named twice", "E-11"))
    elif name == "declaration":
        if not part["truthful"]:
            problems.append(Violation("truthful", "the declaration on honour must be given", "E-3"))
        if not part["intervision"]:
            problems.append(Violation("intervision", "a recognised provider commits to take part in the department's intervision sessions", "E-2"))
        if not part["report_changes"]:
            problems.append(Violation("report_changes", "a recognised provider commits to report every change that affects the conditions", "E-12"))
    return problems


def subcontractor_problems(subcontractors: list[Mapping[str, Any]], recognised: set[str], *, field_prefix: str = "") -> list[Violation]:
    """E-11: every subcontractor holds a valid recognition itself (`recognised`: those that do today)."""
    return [
        Violation(
            f"{field_prefix}subcontractors[{i}].enterprise_number",
            f"{s['name']} ({s['enterprise_number']}) is not a recognised external service provider; subcontractors must be recognised themselves",
            "E-11",
        )
        for i, s in enumerate(subcontractors)
        if s["enterprise_number"] not in recognised
    ]


def submission_problems(parts: Mapping[str, Any]) -> list[Violation]:
    """E-3: every part still missing, each named, at once."""
    return [Violation(f"parts.{p}", f"{PART_TITLES[p]} is not filled in yet", "E-3") for p in missing_parts(parts)]


def ensure_draft(status: str) -> None:
    """E-4: no edits after submitting."""
    if status != Status.DRAFT:
        raise Conflict("the application was submitted; it can no longer be changed", rule="E-4")


def ensure_status(status: str, allowed: Iterable[Status], doing: str, *, rule: str) -> None:
    allowed = tuple(allowed)
    if status not in allowed:
        raise Conflict(f"{doing} is only possible when the application is {' or '.join(allowed)}; it is {status}", rule=rule)


# ------------------------------------------------------------------------------- terms (E-5, E-6, E-10)


def admissibility_due_on(submitted_on: date) -> date:
    """E-5: within 7 days of submission."""
    return term_end(submitted_on, ADMISSIBILITY_DAYS)


def examination_due_on(starts_on: date | None, suspended_days: int, suspended_since: date | None = None) -> date | None:
    """E-6: 45 days from the day the admissibility email was delivered, plus every day the term
    was suspended. None while the term has not started (email not delivered yet) or is suspended
    now (information requested and not received): then no day can be named."""
    if starts_on is None or suspended_since is not None:
        return None
    return term_end(starts_on, EXAMINATION_DAYS + suspended_days)


def suspended_days(requested_on: date, received_on: date, *, term_started_on: date | None = None) -> int:
    """E-6: "suspended from the day information is requested until the day it is received": the
    days in between are added to the term (asked and answered on the same day adds none). With
    several questions the term is suspended from the first asked until the last answered, once
    (the caller passes that span). Days before the term started suspended nothing of it: counted
    from the later of the question and the term's start; a term not started yet adds none."""
    if term_started_on is None:
        return 0
    return max(0, (received_on - max(requested_on, term_started_on)).days)


def reconsideration_last_day(informed_on: date) -> date:
    """E-10: 30 days from the day the applicant was informed of the decision (its email delivered)."""
    return term_end(informed_on, RECONSIDERATION_DAYS)


def ensure_reconsideration_in_time(*, informed_on: date | None, today: date) -> None:
    """E-10: a request after the 30 days is refused, naming the last allowed day. While the
    decision email has not been delivered the applicant was not informed and the term has not
    started, so a request is in time."""
    if informed_on is None:
        return
    last_day = reconsideration_last_day(informed_on)
    if today > last_day:
        raise Invalid(
            f"a request for reconsideration is possible within 30 days of being informed of the decision ({informed_on.isoformat()}); "
            f"the last day was {last_day.isoformat()}",
            field="motivation",
            rule="E-10",
        )


def commission_advice_due_on(heard_on: date) -> date:
    """E-10: the commission advises within 45 days of the hearing."""
    return term_end(heard_on, COMMISSION_ADVICE_DAYS)


# ------------------------------------------------------------------------------- the recognition (E-8, E-9)


def valid_until(valid_from: date) -> date:
    """E-8: 5 years from the date in the minister's decision: through the day before the fifth
    anniversary (1 March 2027 holds through 28 February 2032)."""
    anniversary = add_years(valid_from, VALIDITY_YEARS)
    if (valid_from.month, valid_from.day) == (2, 29) and anniversary.day == 28:
        return anniversary  # 29 February's anniversary in a common year is 1 March
    return anniversary - timedelta(days=1)


def recognised_on(day: date, *, valid_from: date, valid_until: date, ended_on: date | None) -> bool:
    """E-8: holds from its first day through its last, unless it ended earlier (E-9, a withdrawal):
    `ended_on` is the first day it no longer holds. No job is needed for the answer."""
    return valid_from <= day <= valid_until and (ended_on is None or day < ended_on)


def expiry_reminder_on(last_day: date) -> date:
    """Six months before the end, the provider is reminded to apply again in time (E-13)."""
    return add_months(last_day + timedelta(days=1), -REMINDER_MONTHS_BEFORE_END)


def inactivity_end_on(*, valid_from: date, valid_until: date, assignments: Iterable[tuple[date, date | None]]) -> date | None:
    """E-9: the first day the recognition no longer holds because the provider coached no employee
    with an occupational disability for 2 consecutive years; None while that cannot happen.

    Interpretation of "2 consecutive years": two full years with no coaching assignment running,
    counted from the first day without one: the recognition's first day, or the day after the
    last assignment ended. An assignment still running (no end, or an end in the future that is
    known) pushes the day on; an open-ended one stops the count. A recognition that expires (E-8)
    before that day ends by expiry, not inactivity.
    """
    first_day_without = valid_from
    for _starts_on, ends_on in assignments:
        if ends_on is None:
            return None
        first_day_without = max(first_day_without, ends_on + timedelta(days=1))
    ends = add_years(first_day_without, INACTIVITY_YEARS)
    return ends if ends <= valid_until else None


def decision_problems(*, outcome: str, decided_on: date, recognition_starts_on: date | None, reasons: str | None, today: date) -> None:
    """E-7, E-8: a decision is recorded as the minister took it: its date (not in the future), and
    for a grant the date the recognition starts; a refusal gives its reasons."""
    problems = []
    if decided_on > today:
        problems.append(Violation("decided_on", "the minister's decision is recorded once taken: not a day in the future", "E-7"))
    if outcome == Outcome.GRANTED and recognition_starts_on is None:
        problems.append(Violation("recognition_starts_on", "a recognition starts on the date in the minister's decision", "E-8"))
    if outcome == Outcome.REFUSED and recognition_starts_on is not None:
        problems.append(Violation("recognition_starts_on", "a refusal starts no recognition", "E-8"))
    if outcome == Outcome.REFUSED and not reasons:
        problems.append(Violation("reasons", "a refusal gives its reasons", "E-7"))
    raise_if_any(problems)
