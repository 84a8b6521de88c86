"""The ODB rules of registration.domain in plain Python: no Kafka, no PostgreSQL, no service.
Each test names the rule of domain.md it proves; test_rules.py proves the same rules over the API.
The section bodies are the plain helpers of conftest.py (no fixture: nothing starts the stack)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from registration import domain
from registration.domain import OPEN_STATUSES, Admissibility, OrganisationFacts, Status
from registration.sections import DecidingBodySection, SelfAnalysisSection, TrainingSection
from service_runtime.errors import Conflict, Invalid
from tests.registration.conftest import module, self_analysis
from tests.registration.conftest import training as training_body

COMMITTEES = {"118", "124", "200"}
SUBMITTED_ON = date(2026, 10, 1)


def training(**overrides: Any) -> TrainingSection:
    return TrainingSection.model_validate(training_body(**overrides))


def analysis(**overrides: Any) -> SelfAnalysisSection:
    return SelfAnalysisSection.model_validate(self_analysis(**overrides))


def problems(section: TrainingSection, *, kind: str = "training_provider") -> dict[str, str | None]:
    """field -> rule of every problem the training section has."""
    return {v.field: v.rule for v in domain.validate_section("training", section, organisation_kind=kind, known_committees=COMMITTEES)}


def judge(
    section: TrainingSection | None = None,
    self_analysis: SelfAnalysisSection | None = None,
    *,
    has_lms: bool = True,
    has_follow_up_document: bool = True,
    replaces: str | None = None,
    submitted_on: date = SUBMITTED_ON,
) -> Admissibility:
    organisation = OrganisationFacts(kind="training_provider", has_lms=has_lms, has_follow_up_document=has_follow_up_document, quality_registered=True)
    return domain.judge_admissibility(
        training=section or training(), self_analysis=self_analysis or analysis(), organisation=organisation, submitted_on=submitted_on, replaces=replaces
    )


# ------------------------------------------------------------------------------- saving a section


def test_a_valid_training_section_has_no_problems() -> None:
    assert problems(training()) == {}


def test_r5_study_points_only_in_higher_education_and_not_blended() -> None:
    in_points = training(hours_unit="study_points", modules=[module(study_points="3")])
    assert problems(in_points, kind="training_provider") == {"hours_unit": "R-5"}
    assert problems(in_points, kind="higher_education") == {}
    blended = training(hours_unit="study_points", blended=True, modules=[module(study_points="3", blended=True, distance_hours="8")])
    assert problems(blended, kind="higher_education") == {"hours_unit": "R-5"}
    assert problems(training(hours_unit="study_points"), kind="higher_education") == {"modules[0].study_points": "R-5"}


def test_r5_workplace_hours_only_with_workplace_learning_and_then_given() -> None:
    assert problems(training(modules=[module(workplace_hours="10")])) == {"modules[0].workplace_hours": "R-5"}
    assert problems(training(workplace_learning=True)) == {"modules": "R-5"}
    assert problems(training(workplace_learning=True, modules=[module(workplace_hours="10")])) == {}


def test_r6_an_integral_training_is_one_module() -> None:
    assert problems(training(modules=[module(), module(name="Deel 2")])) == {"modules": "R-6"}
    assert problems(training(structure="modular", modules=[module(), module(name="Deel 2")])) == {}


def test_r7_blended_integral_unless_every_module_blended_with_distance_hours() -> None:
    mixed = training(blended=True, structure="modular", modules=[module(blended=True, distance_hours="10"), module(name="Klassikaal")])
    assert problems(mixed) == {"structure": "R-7"}
    assert problems(training(blended=True, modules=[module(blended=True)])) == {"modules[0].distance_hours": "R-7"}
    assert problems(training(modules=[module(blended=True, distance_hours="5")])) == {"modules[0].blended": "R-7"}
    assert problems(training(modules=[module(distance_hours="5")])) == {"modules[0].distance_hours": "R-7"}
    assert problems(training(blended=True, modules=[module(blended=True, distance_hours="10")])) == {}


def test_r8_below_32_hours_the_mentor_question_must_be_answered() -> None:
    assert problems(training(modules=[module(contact_hours="31.5")])) == {"mentor_training": "R-8"}
    assert problems(training(modules=[module(contact_hours="31.5")], mentor_training=False)) == {}
    assert problems(training(modules=[module(contact_hours="32")])) == {}


def test_r8_blended_hours_count_the_distance_learning_time() -> None:
    blended = training(blended=True, modules=[module(contact_hours="20", blended=True, distance_hours="12")])
    assert domain.total_hours(blended) == Decimal(32)
    assert problems(blended) == {}


def test_r9_workplace_hours_are_part_of_the_contact_hours() -> None:
    assert problems(training(workplace_learning=True, modules=[module(contact_hours="40", workplace_hours="41")])) == {"modules[0].workplace_hours": "R-9"}
    assert problems(training(workplace_learning=True, modules=[module(contact_hours="40", workplace_hours="40")])) == {}


def test_r10_an_evc_trajectory_has_16_hours_is_a_mentor_training_and_is_named_so() -> None:
    wrong = training(name="BK EVC-traject kinderbegeleider", modules=[module(contact_hours="20")], mentor_training=False)
    assert problems(wrong) == {"modules": "R-10", "mentor_training": "R-10"}
    assert problems(training(name="EVC kinderbegeleider", modules=[module(contact_hours="16")], mentor_training=True)) == {"name": "R-10"}
    assert problems(training(name="EVC-traject kinderbegeleider", modules=[module(contact_hours="16")], mentor_training=True)) == {}
    assert domain.is_evc_trajectory("BK EVC-traject lasser") and not domain.is_evc_trajectory("Lassen EVC")


def test_r11_an_integral_training_over_two_school_years_is_submitted_as_modules() -> None:
    # 1 February to 31 October 2027 spans school years 2026-2027 and 2027-2028 (they start on 1 September).
    assert problems(training(modules=[module(starts_on="2027-02-01", ends_on="2027-10-31")])) == {"structure": "R-11"}
    assert problems(training(modules=[module(starts_on="2027-02-01", ends_on="2027-08-31")])) == {}
    assert domain.school_years(date(2027, 2, 1), date(2028, 9, 1)) == ["2026-2027", "2027-2028", "2028-2029"]


def test_r13_a_language_training_has_one_module_per_cefr_level() -> None:
    twice = training(language="Frans", structure="modular", modules=[module(cefr_level="B1"), module(name="Frans B1 bis", cefr_level="B1")])
    assert problems(twice) == {"modules": "R-13"}
    assert problems(training(language="Frans")) == {"modules[0].cefr_level": "R-13"}
    assert problems(training(modules=[module(cefr_level="A2")])) == {"modules[0].cefr_level": "R-13"}


def test_r15_a_joint_committee_only_for_one_profession_and_from_the_list() -> None:
    def body_problems(**fields: Any) -> list[str | None]:
        section = DecidingBodySection.model_validate(fields)
        return [v.rule for v in domain.validate_section("deciding_body", section, organisation_kind="training_provider", known_committees=COMMITTEES)]

    assert body_problems(aim="several_professions", joint_committee="118") == ["R-15"]
    assert body_problems(aim="one_profession", joint_committee="999") == ["R-15"]
    assert body_problems(aim="one_profession", joint_committee="118") == []
    assert body_problems(aim="several_professions") == []


def test_r15_the_department_prefers_the_commission_and_chooses_only_listed_committees() -> None:
    requested = DecidingBodySection.model_validate({"aim": "one_profession", "joint_committee": "118"})
    assert domain.resolve_deciding_body(requested=requested, chosen=None, known_committees=COMMITTEES) == "commission"
    assert domain.resolve_deciding_body(requested=requested, chosen="joint_committee:124", known_committees=COMMITTEES) == "joint_committee:124"
    with pytest.raises(Invalid) as refused:
        domain.resolve_deciding_body(requested=requested, chosen="joint_committee:999", known_committees=COMMITTEES)
    assert [(v.field, v.rule) for v in refused.value.violations] == [("deciding_body", "R-15")]


def test_r4_lms_other_needs_its_name_and_only_then() -> None:
    assert [v.rule for v in domain.validate_lms(lms="other", lms_other=None)] == ["R-4"]
    assert [v.rule for v in domain.validate_lms(lms="moodle", lms_other="Eigen")] == ["R-4"]
    assert domain.validate_lms(lms="other", lms_other="Eigen platform") == []


# ------------------------------------------------------------------------------- submitting: R-17, admissibility, R-2


def test_r17_submitting_names_every_missing_section() -> None:
    with pytest.raises(Invalid) as refused:
        domain.ensure_complete({"contact": {}, "training": {}})
    assert [(v.field, v.rule) for v in refused.value.violations] == [("sections.self_analysis", "R-17"), ("sections.deciding_body", "R-17")]
    domain.ensure_complete({"contact": {}, "training": {}, "self_analysis": {}, "deciding_body": {}})  # documents are optional


def test_r17_a_draft_is_submitted_once_and_the_same_key_gets_the_same_answer() -> None:
    assert domain.is_repeated_submission(status=Status.DRAFT, stored_key=None, idempotency_key="k-1") is False
    assert domain.is_repeated_submission(status=Status.IN_REVIEW, stored_key="k-1", idempotency_key="k-1") is True
    with pytest.raises(Conflict):
        domain.is_repeated_submission(status=Status.IN_REVIEW, stored_key="k-1", idempotency_key="k-2")
    with pytest.raises(Conflict):
        domain.ensure_editable_draft(Status.HELD)


def test_r8_fewer_than_32_hours_and_no_mentor_training_is_inadmissible() -> None:
    verdict = judge(training(modules=[module(contact_hours="20")], mentor_training=False))
    assert (verdict.admissible, verdict.rule) == (False, "R-8")
    assert verdict.reason is not None and "fewer than 32" in verdict.reason
    assert judge(training(modules=[module(contact_hours="20")], mentor_training=True)).admissible


def test_r12_the_general_group_alone_needs_three_of_five_pillars() -> None:
    two = judge(self_analysis=analysis(profession_specific=[], general_pillars=["communication", "cooperation"]))
    assert (two.admissible, two.rule) == (False, "R-12")
    assert judge(self_analysis=analysis(profession_specific=[])).rule == "R-12"
    assert judge(self_analysis=analysis(profession_specific=[], general_pillars=["communication", "cooperation", "problem_solving"])).admissible
    assert judge(self_analysis=analysis(profession_specific=[], basic=["numeracy"])).admissible


def test_r13_a_language_training_from_b2_up_needs_three_pillars() -> None:
    b2 = training(language="Frans", structure="modular", modules=[module(name="Frans B1", cefr_level="B1"), module(name="Frans B2", cefr_level="B2")])
    assert judge(b2, analysis(profession_specific=[], basic=["other_language"])).rule == "R-13"
    pillars = analysis(profession_specific=[], basic=["other_language"], general_pillars=["communication", "cooperation", "career_skills"])
    assert judge(b2, pillars).admissible
    b1 = training(language="Frans", modules=[module(name="Frans B1", cefr_level="B1")])
    assert judge(b1, analysis(profession_specific=[], basic=["other_language"])).admissible


def test_r7_blended_needs_the_organisations_lms_and_a_follow_up_document() -> None:
    blended = training(blended=True, modules=[module(blended=True, distance_hours="12")])
    assert judge(blended, has_lms=False).rule == "R-7"
    assert judge(blended, has_follow_up_document=False).rule == "R-7"
    with_own_document = training(
        blended=True, follow_up_document_id="5f0c1a52-6d7e-4b53-9a0b-1c2d3e4f5a6b", modules=[module(blended=True, distance_hours="12")]
    )
    assert judge(with_own_document, has_follow_up_document=False).admissible
    assert judge(blended).admissible


def test_r11_a_module_over_more_than_two_school_years_is_inadmissible_and_over_12_months_flagged() -> None:
    three_years = training(structure="modular", modules=[module(starts_on="2027-02-01", ends_on="2028-10-31")])
    assert judge(three_years).rule == "R-11"
    long = training(
        structure="modular",
        modules=[module(starts_on="2027-02-01", ends_on="2027-06-30"), module(name="Vervolg", starts_on="2027-09-01", ends_on="2028-05-31")],
    )
    verdict = judge(long)
    assert verdict.admissible and verdict.flags == ["longer_than_12_months"]
    assert judge().flags == []


def test_r24_a_replacement_starts_at_least_three_months_after_the_application() -> None:
    # Submitted 30 November 2026: three months later is 28 February 2027 (the month's last day).
    on = date(2026, 11, 30)
    too_soon = training(modules=[module(starts_on="2027-02-27", ends_on="2027-06-30")])
    assert judge(too_soon, replaces="ODB-Y100001", submitted_on=on).rule == "R-24"
    in_time = training(modules=[module(starts_on="2027-02-28", ends_on="2027-06-30")])
    assert judge(in_time, replaces="ODB-Y100001", submitted_on=on).admissible
    assert judge(too_soon, submitted_on=on).admissible  # only replacements


def test_r8_the_first_failing_rule_wins() -> None:
    both = training(modules=[module(contact_hours="20")], mentor_training=False)
    assert judge(both, analysis(profession_specific=[])).rule == "R-8"


def test_r2_an_admissible_application_is_held_until_the_quality_registration() -> None:
    assert domain.status_after_admission(quality_registered=True) == Status.IN_REVIEW
    assert domain.status_after_admission(quality_registered=False) == Status.HELD
    assert Status.HELD in OPEN_STATUSES and Status.DRAFT not in OPEN_STATUSES


def test_r2_a_held_dossier_is_not_forwarded_by_hand() -> None:
    with pytest.raises(Conflict, match="R-2"):
        domain.ensure_forwardable(Status.HELD)
    with pytest.raises(Conflict, match="R-19"):
        domain.ensure_forwardable(Status.AWAITING_INFORMATION)
    domain.ensure_forwardable(Status.IN_REVIEW)


# ------------------------------------------------------------------------------- terms and the back office


def test_r19_three_months_to_decide_one_month_to_answer_at_the_months_end() -> None:
    assert domain.decision_due_on(date(2026, 11, 30)) == date(2027, 2, 28)
    assert domain.decision_due_on(date(2027, 11, 30)) == date(2028, 2, 29)  # a leap year
    assert domain.information_due_on(date(2027, 1, 31)) == date(2027, 2, 28)
    assert domain.information_due_on(date(2027, 3, 15)) == date(2027, 4, 15)
    assert domain.decision_warning_on(date(2027, 2, 28), days_before=14) == date(2027, 2, 14)


def test_r19_information_is_asked_only_under_review() -> None:
    domain.ensure_questionable(Status.IN_REVIEW)
    domain.ensure_questionable(Status.HELD)
    with pytest.raises(Conflict):
        domain.ensure_questionable(Status.FORWARDED)


def test_r17_the_back_office_amends_until_the_dossier_is_forwarded() -> None:
    domain.ensure_amendable(Status.AWAITING_INFORMATION)
    with pytest.raises(Conflict):
        domain.ensure_amendable(Status.FORWARDED)


@pytest.mark.parametrize(
    ("kind", "number"), [("higher_education", "ODB-X7"), ("adult_education_centre", "ODB-Y7"), ("syntra", "ODB-Z7"), ("employer", "ODB-7")]
)
def test_r20_the_odb_number_has_the_prefix_of_the_organisations_kind(kind: str, number: str) -> None:
    assert domain.odb_number(organisation_kind=kind, sequence=7) == number


def test_r20_a_rejection_gives_its_reasons_and_only_forwarded_dossiers_are_decided() -> None:
    with pytest.raises(Invalid) as refused:
        domain.ensure_decision(outcome="rejected", reasons=None)
    assert refused.value.violations[0].rule == "R-20"
    domain.ensure_decision(outcome="rejected", reasons="niet arbeidsmarktgericht")
    domain.ensure_decision(outcome="approved", reasons=None)
    with pytest.raises(Conflict):
        domain.ensure_decidable(Status.IN_REVIEW)


def test_r23_a_stop_date_is_today_or_later_and_not_before_the_registration_holds() -> None:
    today = date(2027, 3, 10)
    domain.ensure_stop_date(stop_on=today, today=today, holds_from=date(2027, 1, 1), already_stopped_on=None)
    with pytest.raises(Invalid) as past:
        domain.ensure_stop_date(stop_on=date(2027, 3, 9), today=today, holds_from=date(2027, 1, 1), already_stopped_on=None)
    assert (past.value.violations[0].field, past.value.violations[0].rule) == ("stop_on", "R-23")
    with pytest.raises(Invalid):
        domain.ensure_stop_date(stop_on=date(2027, 4, 1), today=today, holds_from=date(2027, 5, 1), already_stopped_on=None)
    with pytest.raises(Conflict):
        domain.ensure_stop_date(stop_on=date(2027, 4, 1), today=today, holds_from=date(2027, 1, 1), already_stopped_on=date(2027, 3, 1))


def test_r25_the_contacts_are_verified_every_january() -> None:
    assert domain.next_contact_verification(date(2027, 1, 14)) == date(2027, 1, 15)
    assert domain.next_contact_verification(date(2027, 1, 15)) == date(2028, 1, 15)
    assert domain.next_contact_verification(date(2027, 6, 1)) == date(2028, 1, 15)


def test_r26_a_negative_evaluation_says_why() -> None:
    with pytest.raises(Invalid) as refused:
        domain.ensure_evaluation(outcome="negative", remarks=None)
    assert refused.value.violations[0].rule == "R-26"
    domain.ensure_evaluation(outcome="positive", remarks=None)


def test_r26_r25_a_negative_evaluation_goes_to_the_general_contact_and_otherwise_says_why_nobody_is_told() -> None:
    emailed = domain.evaluation_email(outcome="negative", has_general_contact=True)
    assert (emailed.contact_emailed, emailed.emailed_to, emailed.not_emailed_reason) == (True, "general_contact", None)
    nobody = domain.evaluation_email(outcome="negative", has_general_contact=False)
    assert (nobody.contact_emailed, nobody.emailed_to, nobody.not_emailed_reason) == (False, None, "no_general_contact")
    for has_general_contact in (True, False):
        positive = domain.evaluation_email(outcome="positive", has_general_contact=has_general_contact)
        assert (positive.contact_emailed, positive.not_emailed_reason) == (False, "positive")


def test_r23_a_training_is_stopping_until_its_stop_date_and_stopped_from_it() -> None:
    today = date(2027, 3, 10)
    assert domain.training_status(stop_on=None, today=today) == "registered"
    assert domain.training_status(stop_on=date(2027, 3, 11), today=today) == "stopping"
    assert domain.training_status(stop_on=today, today=today) == "stopped"  # the register shows it while stop_on > today


def test_the_work_queue_filters_on_open_statuses_only() -> None:
    assert domain.open_status("forwarded") == Status.FORWARDED
    assert domain.open_status(None) is None
    with pytest.raises(Invalid):
        domain.open_status("draft")


def test_r26_a_stored_positive_evaluation_was_never_emailed_whoever_stored_it():
    # Written before the email's outcome was kept, or by a replica of the previous version during a
    # rolling deploy: both columns empty. A positive one was never emailed; of a negative one it is not known.
    assert domain.recorded_evaluation_email(outcome="positive", emailed_to=None, not_emailed_reason=None) == domain.EvaluationEmail(None, "positive")
    assert domain.recorded_evaluation_email(outcome="negative", emailed_to=None, not_emailed_reason=None) is None
    stored = domain.recorded_evaluation_email(outcome="negative", emailed_to=domain.GENERAL_CONTACT, not_emailed_reason=None)
    assert stored is not None and stored.contact_emailed
