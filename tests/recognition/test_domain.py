"""The recognition rules in plain Python (no stack): parts, terms, validity, inactivity.

Each test names the rule it proves. The terms are counted as the Judicial Code counts (the day
of the act does not count; a last day on a weekend or public holiday moves to the next working
day); the calendar's own tests prove the counting, these prove each term uses it with its number
of days.
"""

from __future__ import annotations

from datetime import date

import pytest

from recognition import domain
from recognition.parts import PART_MODELS, TerritoryPart, enterprise_number
from service_runtime.errors import Conflict, Invalid


def test_e3_five_parts_and_a_simplified_applicant_is_not_asked_part_3():
    # rule E-3
    assert domain.required_parts({}) == ("project", "simplified", "experience", "territory", "declaration")
    assert domain.required_parts({"simplified": {"simplified": True, "group": "gtb"}}) == ("project", "simplified", "territory", "declaration")
    assert not domain.asked("experience", {"simplified": {"simplified": True, "group": "lde"}})
    assert domain.asked("experience", {"simplified": {"simplified": False}})


def test_e3_submitting_lists_every_missing_part():
    # rule E-3
    problems = domain.submission_problems({"project": {}, "declaration": {}})
    assert [p.field for p in problems] == ["parts.simplified", "parts.experience", "parts.territory"]
    assert all(p.rule == "E-3" for p in problems)
    assert "part 4 (territory and capacity)" in problems[2].reason


def test_e3_simplified_needs_its_group_and_only_then():
    # rule E-3
    assert [p.field for p in domain.part_problems("simplified", {"simplified": True, "group": None})] == ["group"]
    assert [p.field for p in domain.part_problems("simplified", {"simplified": False, "group": "gob"})] == ["group"]
    assert domain.part_problems("simplified", {"simplified": True, "group": "maatwerkbedrijf"}) == []


def test_e2_a_qualified_coach_shows_all_four_core_competences():
    # rule E-2
    part = {"coaches": [{"competences": ["working_together", "communicating", "person_centred_work", "tailored_advice"]}, {"competences": ["communicating"]}]}
    problems = domain.part_problems("experience", part)
    assert [(p.field, p.rule) for p in problems] == [("coaches[1].competences", "E-2")]
    assert "working_together" in problems[0].reason and "tailored_advice" in problems[0].reason


def test_e2_e12_the_declaration_includes_intervision_and_reporting_changes():
    # rule E-2 (intervision), rule E-12 (reporting changes)
    problems = domain.part_problems("declaration", {"truthful": True, "intervision": False, "report_changes": False, "signed_by": "X"})
    assert [(p.field, p.rule) for p in problems] == [("intervision", "E-2"), ("report_changes", "E-12")]


def test_e11_every_subcontractor_must_be_recognised_and_is_named():
    # rule E-11
    subcontractors = [{"enterprise_number": "0403170701", "name": "Jobcoach Plus"}, {"enterprise_number": "0417497106", "name": "Samen Aan Het Werk"}]
    problems = domain.subcontractor_problems(subcontractors, {"0403170701"}, field_prefix="parts.territory.")
    assert [(p.field, p.rule) for p in problems] == [("parts.territory.subcontractors[1].enterprise_number", "E-11")]
    assert "Samen Aan Het Werk (0417497106)" in problems[0].reason


def test_enterprise_numbers_are_checked_as_the_kbo_writes_them():
    assert enterprise_number("0403.170.701") == "0403170701"
    assert enterprise_number("BE 0403 170 701") == "0403170701"
    for wrong in ("0403.170.702", "2403170701", "040317070", "04031707O1"):
        with pytest.raises(ValueError):
            enterprise_number(wrong)
    with pytest.raises(ValueError):
        TerritoryPart.model_validate(
            {
                "provinces": ["limburg"],
                "territory_motivation": "x" * 40,
                "capacity": 1,
                "capacity_motivation": "x" * 40,
                "subcontractors": [{"enterprise_number": "123", "name": "X"}],
            }
        )


def test_e4_no_edits_after_submitting():
    # rule E-4
    domain.ensure_draft("draft")
    with pytest.raises(Conflict) as refused:
        domain.ensure_draft("submitted")
    assert refused.value.rule == "E-4"


def test_e5_admissibility_within_7_days_counted_as_the_judicial_code_does():
    # rule E-5: submitted on Monday 4 January 2027: the 7th day is Monday 11 January
    assert domain.admissibility_due_on(date(2027, 1, 4)) == date(2027, 1, 11)
    # submitted on Saturday 20 March 2027: the 7th day is Saturday 27 March, moved past Sunday
    # 28 March and Easter Monday 29 March to Tuesday 30 March
    assert domain.admissibility_due_on(date(2027, 3, 20)) == date(2027, 3, 30)


def test_e6_examination_45_days_from_the_delivery_plus_the_suspended_days():
    # rule E-6
    delivered = date(2027, 1, 12)  # a Tuesday
    assert domain.examination_due_on(delivered, 0) == date(2027, 2, 26)  # Friday
    # information asked on 20 January and received on 30 January: 10 days suspended
    suspended = domain.suspended_days(date(2027, 1, 20), date(2027, 1, 30), term_started_on=delivered)
    assert suspended == 10
    assert domain.examination_due_on(delivered, suspended) == date(2027, 3, 8)  # 8 March 2027 is a Monday
    # while suspended, or before the email was delivered, no day can be named
    assert domain.examination_due_on(delivered, 0, suspended_since=date(2027, 1, 20)) is None
    assert domain.examination_due_on(None, 0) is None
    # asked and answered on the same day adds nothing
    assert domain.suspended_days(date(2027, 1, 20), date(2027, 1, 20), term_started_on=delivered) == 0
    # asked before the email was delivered: only the days after the term started were suspended
    assert domain.suspended_days(date(2027, 1, 10), date(2027, 1, 20), term_started_on=delivered) == 8
    # answered before the term started: nothing of it stood still
    assert domain.suspended_days(date(2027, 1, 5), date(2027, 1, 8), term_started_on=None) == 0


def test_e10_reconsideration_within_30_days_of_being_informed():
    # rule E-10: informed (the decision email delivered) on Monday 1 March 2027: the 30th day is
    # Wednesday 31 March; day 31 is refused with the last day in the message
    assert domain.reconsideration_last_day(date(2027, 3, 1)) == date(2027, 3, 31)
    domain.ensure_reconsideration_in_time(informed_on=date(2027, 3, 1), today=date(2027, 3, 31))
    with pytest.raises(Invalid) as refused:
        domain.ensure_reconsideration_in_time(informed_on=date(2027, 3, 1), today=date(2027, 4, 1))
    assert refused.value.rule == "E-10" and "2027-03-31" in str(refused.value)
    # not informed yet: the term has not started
    domain.ensure_reconsideration_in_time(informed_on=None, today=date(2030, 1, 1))


def test_e10_the_commissions_advice_within_45_days_of_the_hearing():
    # rule E-10: heard on Thursday 15 April 2027: the 45th day is Sunday 30 May, moved to Monday 31 May
    assert domain.commission_advice_due_on(date(2027, 4, 15)) == date(2027, 5, 31)


def test_e8_valid_five_years_through_the_day_before_the_fifth_anniversary():
    # rule E-8
    assert domain.valid_until(date(2027, 3, 1)) == date(2032, 2, 29)
    # 29 February's anniversary in a common year is 1 March: valid through 28 February
    assert domain.valid_until(date(2028, 2, 29)) == date(2033, 2, 28)
    kwargs = dict(valid_from=date(2027, 3, 1), valid_until=date(2032, 2, 29), ended_on=None)
    assert not domain.recognised_on(date(2027, 2, 28), **kwargs)
    assert domain.recognised_on(date(2027, 3, 1), **kwargs)
    assert domain.recognised_on(date(2032, 2, 29), **kwargs)
    assert not domain.recognised_on(date(2032, 3, 1), **kwargs)  # on its own, no job needed
    assert not domain.recognised_on(date(2029, 6, 1), valid_from=date(2027, 3, 1), valid_until=date(2032, 2, 29), ended_on=date(2029, 3, 1))
    assert domain.expiry_reminder_on(date(2032, 2, 29)) == date(2031, 9, 1)


def test_e9_two_consecutive_years_without_coaching_end_the_recognition():
    # rule E-9
    valid = dict(valid_from=date(2027, 3, 1), valid_until=date(2032, 2, 29))
    # never coached: the two years run from the first day
    assert domain.inactivity_end_on(**valid, assignments=[]) == date(2029, 3, 1)
    # the last assignment ended on 31 March 2028: no coaching from 1 April 2028, two full years later it ends
    assert domain.inactivity_end_on(**valid, assignments=[(date(2027, 5, 1), date(2028, 3, 31)), (date(2027, 9, 1), date(2027, 12, 31))]) == date(2030, 4, 1)
    # an assignment still running stops the count
    assert domain.inactivity_end_on(**valid, assignments=[(date(2027, 5, 1), None)]) is None
    # when the two years would pass after the last valid day, it ends by expiry instead
    assert domain.inactivity_end_on(**valid, assignments=[(date(2030, 1, 1), date(2031, 6, 30))]) is None


def test_e7_e8_a_decision_is_recorded_as_taken():
    # rule E-7, rule E-8
    today = date(2027, 3, 1)
    domain.decision_problems(outcome="granted", decided_on=today, recognition_starts_on=today, reasons=None, today=today)
    with pytest.raises(Invalid) as refused:
        domain.decision_problems(outcome="granted", decided_on=date(2027, 3, 2), recognition_starts_on=None, reasons=None, today=today)
    assert {(v.field, v.rule) for v in refused.value.violations} == {("decided_on", "E-7"), ("recognition_starts_on", "E-8")}
    with pytest.raises(Invalid) as refused:
        domain.decision_problems(outcome="refused", decided_on=today, recognition_starts_on=None, reasons=None, today=today)
    assert [(v.field, v.rule) for v in refused.value.violations] == [("reasons", "E-7")]


def test_every_part_has_a_model_in_platos_order():
    assert tuple(PART_MODELS) == domain.PARTS
