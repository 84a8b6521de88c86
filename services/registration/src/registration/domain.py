"""The ODB registration rules (R-1 to R-26 in domain.md, seed 003), in plain Python.

Two kinds of checks, as the manual has them:
- a section is validated when it is saved: a problem names the field and the provider fixes it
  before going on ("Volgende stap" only works once every mandatory field is right);
- the automatic admissibility rules run when the application is submitted: a failing one closes
  the application as inadmissible, with the rule and the reason (R-8, R-12, R-13, R-7, R-11, R-24).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from registration.sections import CEFR_ORDER, DecidingBodySection, SelfAnalysisSection, TrainingSection
from service_runtime.calendar import SchoolYear, add_months
from service_runtime.errors import Conflict, Invalid, Violation, raise_if_any

MINIMUM_HOURS = Decimal(32)
EVC_HOURS = Decimal(16)
GENERAL_PILLARS_NEEDED = 3
REPLACEMENT_NOTICE_MONTHS = 3
DECISION_TERM_MONTHS = 3
INFORMATION_TERM_MONTHS = 1

SECTIONS = ("contact", "training", "self_analysis", "deciding_body", "documents")  # the manual's steps 2 to 6
REQUIRED_SECTIONS = ("contact", "training", "self_analysis", "deciding_body")  # extra documents are optional


class Status(StrEnum):
    """Where an application is, from draft to decision."""

    DRAFT = "draft"
    INADMISSIBLE = "inadmissible"
    HELD = "held"  # admissible, waiting for the organisation's WSE quality registration
    IN_REVIEW = "in_review"
    AWAITING_INFORMATION = "awaiting_information"  # a question to the provider is open
    FORWARDED = "forwarded"
    APPROVED = "approved"
    REJECTED = "rejected"


# Submitted and not yet decided: the work queue, the provider's open dossiers (R-22) and R-5's
# unique own reference look at these.
OPEN_STATUSES = (Status.HELD, Status.IN_REVIEW, Status.AWAITING_INFORMATION, Status.FORWARDED)
# the back office may still amend a dossier that is not yet with the deciding body.
AMENDABLE_STATUSES = (Status.HELD, Status.IN_REVIEW, Status.AWAITING_INFORMATION)
# information can be asked while the dossier is under review (or held).
QUESTIONABLE_STATUSES = (Status.IN_REVIEW, Status.HELD)


def open_status(status: str | None) -> Status | None:
    """A filter on open dossiers (the work queue): one of OPEN_STATUSES, or none."""
    if status is None:
        return None
    if status not in OPEN_STATUSES:
        raise Invalid(f"one of {', '.join(OPEN_STATUSES)}", field="status")
    return Status(status)


# ------------------------------------------------------------------------- school years


def school_years(starts_on: date, ends_on: date) -> list[str]:
    """The Flemish school years (1 September to 31 August) a period touches: ['2026-2027', ...]."""
    first, last = SchoolYear.of(starts_on), SchoolYear.of(ends_on)
    return [str(SchoolYear(year)) for year in range(first.starts, last.starts + 1)]


# ------------------------------------------------------------------------- saving a section


def validate_section(name: str, section: object, *, organisation_kind: str, known_committees: set[str]) -> list[Violation]:
    """The rules a section must meet before the provider may go on (beyond the field types, which
    the section models check)."""
    if isinstance(section, TrainingSection):
        return _validate_training(section, organisation_kind=organisation_kind)
    if isinstance(section, DecidingBodySection):
        return _validate_deciding_body(section, known_committees=known_committees)
    return []


def _validate_training(training: TrainingSection, *, organisation_kind: str) -> list[Violation]:
    problems: list[Violation] = []
    modules = training.modules
    if training.structure == "integral" and len(modules) != 1:
        problems.append(Violation("modules", "an integral training is described as one whole: give exactly one module", "R-6"))
    for i, module in enumerate(modules):
        where = f"modules[{i}]"
        if module.ends_on < module.starts_on:
            problems.append(Violation(f"{where}.ends_on", "must not be before starts_on"))
        # workplace-learning hours are part of the contact hours.
        if module.workplace_hours > module.contact_hours:
            problems.append(Violation(f"{where}.workplace_hours", "workplace-learning hours are part of the contact hours and cannot exceed them", "R-9"))
        if module.workplace_hours and not training.workplace_learning:
            problems.append(Violation(f"{where}.workplace_hours", "the training has no workplace learning (workplace_learning is false)", "R-5"))
        if module.blended and not training.blended:
            problems.append(Violation(f"{where}.blended", "a module can only be blended in a blended training", "R-7"))
        if module.blended and module.distance_hours <= 0:
            problems.append(Violation(f"{where}.distance_hours", "a blended module needs its estimated distance-learning hours", "R-7"))
        if not module.blended and module.distance_hours:
            problems.append(Violation(f"{where}.distance_hours", "only blended modules have distance-learning hours", "R-7"))
        if training.language is not None and module.cefr_level is None:
            problems.append(Violation(f"{where}.cefr_level", "a language training has one module per CEFR level: give the level", "R-13"))
        if training.language is None and module.cefr_level is not None:
            problems.append(Violation(f"{where}.cefr_level", "only language trainings have a CEFR level", "R-13"))
        if training.hours_unit == "study_points" and module.study_points is None:
            problems.append(Violation(f"{where}.study_points", "give the module's study points", "R-5"))
    if training.workplace_learning and not any(m.workplace_hours for m in modules):
        problems.append(Violation("modules", "a training with workplace learning gives its workplace-learning hours", "R-5"))
    # a blended training is integral, unless every module is blended.
    if training.blended:
        if training.structure == "modular" and not all(m.blended for m in modules):
            problems.append(Violation("structure", "a blended training is integral unless every module is blended", "R-7"))
        if training.structure == "integral" and not modules[0].blended:
            problems.append(Violation("modules[0].blended", "the module of an integral blended training is blended", "R-7"))
    # one module per CEFR level.
    levels = [m.cefr_level for m in modules if m.cefr_level]
    if len(levels) != len(set(levels)):
        problems.append(Violation("modules", "one module per CEFR level", "R-13"))
    # study points only for regular higher education and postgraduates not offered blended.
    if training.hours_unit == "study_points":
        if organisation_kind != "higher_education":
            problems.append(Violation("hours_unit", "only higher-education institutions express a training in study points", "R-5"))
        elif training.blended:
            problems.append(Violation("hours_unit", "a blended training is expressed in planned hours, not study points", "R-5"))
    hours = total_hours(training)
    # below 32 hours the mentor question is mandatory.
    if training.hours_unit == "contact_hours" and hours < MINIMUM_HOURS and training.mentor_training is None:
        problems.append(Violation("mentor_training", "below 32 hours, say whether this is a mentor training", "R-8"))
    # EVC trajectories: the prescribed name, 16 hours, marked as mentor training.
    if is_evc_trajectory(training.name):
        if hours != EVC_HOURS:
            problems.append(Violation("modules", "an EVC trajectory is registered with 16 hours", "R-10"))
        if training.mentor_training is not True:
            problems.append(Violation("mentor_training", "an EVC trajectory is marked as mentor training", "R-10"))
    elif "evc" in training.name.lower().replace("-", " ").split():
        problems.append(
            Violation("name", "name an EVC trajectory 'BK EVC-traject <name>' (recognised, professionally qualifying) or 'EVC-traject <name>'", "R-10")
        )
    # trainings over several school years are submitted as modules.
    if training.structure == "integral" and modules and len(school_years(modules[0].starts_on, modules[0].ends_on)) > 1:
        problems.append(Violation("structure", "a training over several school years is submitted as modules", "R-11"))
    return problems


def is_evc_trajectory(name: str) -> bool:
    return name.startswith("BK EVC-traject ") or name.startswith("EVC-traject ")


def _validate_deciding_body(section: DecidingBodySection, *, known_committees: set[str]) -> list[Violation]:
    # a joint committee only for a training aimed at one profession, and only one that volunteered.
    if section.joint_committee is None:
        return []
    if section.aim != "one_profession":
        return [Violation("joint_committee", "a joint committee can only be named for a training aimed at one profession", "R-15")]
    if section.joint_committee not in known_committees:
        return [Violation("joint_committee", "this joint committee is not on the list of committees that volunteered; choose the commission", "R-15")]
    return []


def total_hours(training: TrainingSection) -> Decimal:
    """Contact hours (workplace learning included, R-9) plus, for blended modules, the planned
    distance-learning time: the manual expresses blended trainings in planned learning time."""
    return sum((m.contact_hours + m.distance_hours for m in training.modules), Decimal(0))


def training_period(training: TrainingSection) -> tuple[date, date]:
    return min(m.starts_on for m in training.modules), max(m.ends_on for m in training.modules)


def missing_sections(sections: dict[str, object]) -> list[str]:
    return [name for name in REQUIRED_SECTIONS if name not in sections]


# ------------------------------------------------------------------------- where a dossier may go


def ensure_editable_draft(status: str) -> None:
    """R-17: after submission only the back office changes a dossier."""
    if status != Status.DRAFT:
        raise Conflict("a submitted application can no longer be edited; ask the back office to amend it (R-17)")


def ensure_cancellable(status: str) -> None:
    """R-18: only a draft is cancelled (discarded whole)."""
    if status != Status.DRAFT:
        raise Conflict("only a draft can be cancelled; a submitted application can be stopped once registered")


def is_repeated_submission(*, status: str, stored_key: str | None, idempotency_key: str) -> bool:
    """R-17: a draft is submitted once; the same submission again (the same key) gets the same answer."""
    if status == Status.DRAFT:
        return False
    if stored_key == idempotency_key:
        return True
    raise Conflict("this application has already been submitted")


def ensure_complete(sections: dict[str, object]) -> None:
    """R-17: every mandatory section is filled in before submitting; all missing ones are named."""
    raise_if_any(Violation(f"sections.{name}", "this section is still to be filled in", "R-17") for name in missing_sections(sections))


def ensure_amendable(status: str) -> None:
    """R-17: the back office amends a dossier until it is forwarded."""
    if status not in AMENDABLE_STATUSES:
        raise Conflict(f"a dossier that is {status} can no longer be amended")


def ensure_questionable(status: str) -> None:
    """R-19: information is asked while the dossier is under review (or held)."""
    if status not in QUESTIONABLE_STATUSES:
        raise Conflict(f"information can be asked while the dossier is under review, not when it is {status}")


def ensure_forwardable(status: str) -> None:
    """R-2, R-19: held dossiers and dossiers with an open question are not forwarded by hand."""
    if status == Status.HELD:
        raise Conflict("held until the organisation has its WSE quality registration (R-2)")
    if status == Status.AWAITING_INFORMATION:
        raise Conflict("a question to the provider is open: the dossier is forwarded once answered, or when its term lapses (R-19)")
    if status != Status.IN_REVIEW:
        raise Conflict(f"a dossier that is {status} cannot be forwarded")


def ensure_decidable(status: str) -> None:
    if status != Status.FORWARDED:
        raise Conflict(f"the deciding body decides on a forwarded dossier; this one is {status}")


# ------------------------------------------------------------------------- submitting: admissibility


@dataclass(frozen=True)
class Admissibility:
    admissible: bool
    rule: str | None = None
    reason: str | None = None
    flags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class OrganisationFacts:
    kind: str
    has_lms: bool
    has_follow_up_document: bool
    quality_registered: bool


def judge_admissibility(
    *, training: TrainingSection, self_analysis: SelfAnalysisSection, organisation: OrganisationFacts, submitted_on: date, replaces: str | None
) -> Admissibility:
    """The automatic admissibility rules of the manual, first failing rule wins."""
    hours = total_hours(training)
    # below 32 hours and not a mentor training: inadmissible, not processed.
    if training.hours_unit == "contact_hours" and hours < MINIMUM_HOURS and not training.mentor_training:
        return Admissibility(False, "R-8", f"the training has {hours} hours, fewer than 32, and is not a mentor training")
    # a training qualifies if it reaches at least one competence group; the general group needs 3 of 5 pillars.
    pillars = len(set(self_analysis.general_pillars))
    reaches_basic, reaches_profession = bool(self_analysis.basic), bool(self_analysis.profession_specific)
    if not reaches_basic and not reaches_profession and pillars < GENERAL_PILLARS_NEEDED:
        if pillars:
            return Admissibility(
                False,
                "R-12",
                f"only {pillars} of the five general labour-market pillars and no basic or profession-specific competence; at least three pillars are needed",
            )
        return Admissibility(False, "R-12", "the self-analysis reaches no competence group")
    # from B2 up a language training is no basic competence and needs three general pillars.
    if training.language is not None:
        advanced = [m.cefr_level for m in training.modules if m.cefr_level and CEFR_ORDER.index(m.cefr_level) >= CEFR_ORDER.index("B2")]
        if advanced and pillars < GENERAL_PILLARS_NEEDED:
            return Admissibility(
                False,
                "R-13",
                f"a language training at level {advanced[0]} or higher is not a basic competence and needs three general labour-market pillars; it has {pillars}",
            )
    # blended learning needs the organisation's LMS and a follow-up document.
    if training.blended:
        if not organisation.has_lms:
            return Admissibility(False, "R-7", "a blended training needs the organisation's learning management system (organisation data)")
        if not organisation.has_follow_up_document and training.follow_up_document_id is None:
            return Admissibility(
                False, "R-7", "a blended training needs a document on how the learning process is followed up, for the organisation or this training"
            )
    # reimbursement for a module over more than two school years cannot be processed.
    for module in training.modules:
        years = school_years(module.starts_on, module.ends_on)
        if len(years) > 2:
            return Admissibility(
                False, "R-11", f"module '{module.name}' spans {len(years)} school years; reimbursement beyond two school years cannot be processed"
            )
    # a replacement is applied for at least three months before the changed training starts.
    starts_on, ends_on = training_period(training)
    if replaces is not None and starts_on < add_months(submitted_on, REPLACEMENT_NOTICE_MONTHS):
        return Admissibility(False, "R-24", f"the changed training starts on {starts_on}, less than three months after this application ({submitted_on})")
    flags = []
    if ends_on > add_months(starts_on, 12):
        flags.append("longer_than_12_months")  # the team looks at it with the provider
    return Admissibility(True, flags=flags)


def status_after_admission(*, quality_registered: bool) -> Status:
    """R-2: accepted but held until the organisation has its WSE quality registration."""
    return Status.IN_REVIEW if quality_registered else Status.HELD


# ------------------------------------------------------------------------- back office


def decision_due_on(submitted_on: date) -> date:
    return add_months(submitted_on, DECISION_TERM_MONTHS)


def information_due_on(asked_on: date) -> date:
    return add_months(asked_on, INFORMATION_TERM_MONTHS)


def resolve_deciding_body(*, requested: DecidingBodySection | None, chosen: str | None, known_committees: set[str]) -> str:
    """R-15: the department chooses and prefers the commission; a joint committee only from the
    list of committees that volunteered."""
    body = chosen or "commission"
    if body == "commission":
        return body
    if not body.startswith("joint_committee:") or body.removeprefix("joint_committee:") not in known_committees:
        raise Invalid("choose 'commission' or 'joint_committee:<number>' of a committee that volunteered", field="deciding_body", rule="R-15")
    return body


ODB_PREFIXES = {"higher_education": "ODB-X", "adult_education_centre": "ODB-Y", "syntra": "ODB-Z"}


def odb_number(*, organisation_kind: str, sequence: int) -> str:
    """R-20: ODB-X higher education, ODB-Y adult education, ODB-Z SYNTRA, plain ODB- otherwise."""
    return f"{ODB_PREFIXES.get(organisation_kind, 'ODB-')}{sequence}"


def ensure_stop_date(*, stop_on: date, today: date, holds_from: date, already_stopped_on: date | None) -> None:
    """R-23: a stop date from today on (new students can still use the incentives until then)."""
    if already_stopped_on is not None and already_stopped_on <= today:
        raise Conflict(f"the registration stopped on {already_stopped_on}")
    if stop_on < today:
        raise Invalid("a registration is stopped from today or a later date, not in the past", field="stop_on", rule="R-23")
    if stop_on < holds_from:
        raise Invalid(f"the registration only holds from {holds_from}", field="stop_on", rule="R-23")


def validate_lms(*, lms: str | None, lms_other: str | None) -> list[Violation]:
    """R-4: one system from the list, or 'other' with its name in free text."""
    if lms == "other" and not lms_other:
        return [Violation("lms_other", "name the learning management system when choosing 'other'", "R-4")]
    if lms != "other" and lms_other:
        return [Violation("lms_other", "only with lms 'other'", "R-4")]
    return []


def ensure_decision(*, outcome: str, reasons: str | None) -> None:
    """R-20: a rejection carries its reasons."""
    if outcome == "rejected" and not reasons:
        raise Invalid("a rejection gives its reasons", field="reasons", rule="R-20")


def ensure_evaluation(*, outcome: str, remarks: str | None) -> None:
    """R-26: a negative evaluation says why (it goes to the general contact)."""
    if outcome == "negative" and not remarks:
        raise Invalid("a negative evaluation says why", field="remarks", rule="R-26")


GENERAL_CONTACT = "general_contact"  # the role an evaluation's email goes to


@dataclass(frozen=True)
class EvaluationEmail:
    """R-26: whether an evaluation is emailed, to whom (a role), or why not."""

    emailed_to: str | None
    not_emailed_reason: str | None

    @property
    def contact_emailed(self) -> bool:
        return self.emailed_to is not None


def evaluation_email(*, outcome: str, has_general_contact: bool) -> EvaluationEmail:
    """R-26: a negative evaluation goes to the provider's general contact (R-25); a positive one
    to nobody; without a general contact nobody can be told, and the answer says so."""
    if outcome != "negative":
        return EvaluationEmail(None, "positive")
    if not has_general_contact:
        return EvaluationEmail(None, "no_general_contact")
    return EvaluationEmail(GENERAL_CONTACT, None)


def recorded_evaluation_email(*, outcome: str, emailed_to: str | None, not_emailed_reason: str | None) -> EvaluationEmail | None:
    """What became of a stored evaluation's email; None when not known. A positive evaluation is
    never emailed (R-26), whoever stored it: an evaluation from before this was kept, or one a
    replica of the previous version wrote during a rolling deploy, leaves both columns empty."""
    if emailed_to is not None or not_emailed_reason is not None:
        return EvaluationEmail(emailed_to, not_emailed_reason)
    if outcome != "negative":
        return EvaluationEmail(None, "positive")
    return None


def training_status(*, stop_on: date | None, today: date) -> str:
    """R-23: registered (no stop date), stopping (in the register until its stop date), stopped
    (from the stop date on, out of the public register)."""
    if stop_on is None:
        return "registered"
    return "stopping" if stop_on > today else "stopped"


def next_contact_verification(after: date) -> date:
    """R-25: once a year (in January) every provider is asked whether its contacts still work there."""
    candidate = date(after.year, 1, 15)
    return candidate if candidate > after else date(after.year + 1, 1, 15)


def decision_warning_on(due_on: date, *, days_before: int) -> date:
    return due_on - timedelta(days=days_before)
