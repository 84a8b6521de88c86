"""Identity's rules (ID-1 to ID-14) as plain Python: no Kafka, no PostgreSQL, no HTTP.

The same rules are proven over the whole stack in the other files of this folder; these run in
milliseconds and say which rule broke. Number checks (ID-4) are in test_numbers.py."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from identity import domain
from identity.domain import MembershipRole, OrganisationKind, RequestStatus, Right
from service_runtime.auth import Actor
from service_runtime.errors import Conflict, Forbidden, Invalid

DAY = date(2026, 3, 31)
ORGANISATION = uuid4()
OTHER = uuid4()


def actor(acting_for=ORGANISATION) -> Actor:
    return Actor(person_id=uuid4(), acting_for=acting_for, today=DAY)


# ------------------------------------------------------------------------------- ID-1, ID-2: administrators


def test_id_1_the_last_head_administrator_cannot_be_removed():
    with pytest.raises(Conflict) as refused:
        domain.ensure_a_head_remains(0)
    assert refused.value.rule == "ID-1" and "successor" in refused.value.reason


def test_id_1_a_head_administrator_with_a_co_head_can_be_removed():
    domain.ensure_a_head_remains(1)


def test_id_2_only_a_head_administrator_appoints_local_administrators():
    domain.ensure_head_administrator(MembershipRole.HEAD_ADMINISTRATOR)
    domain.ensure_head_administrator("head_administrator")  # as the database returns it
    for role in (MembershipRole.LOCAL_ADMINISTRATOR, MembershipRole.USER, None):
        with pytest.raises(Forbidden) as refused:
            domain.ensure_head_administrator(role)
        assert refused.value.rule == "ID-2"


def test_id_2_a_head_administrator_is_not_turned_into_a_local_administrator_in_passing():
    with pytest.raises(Conflict):
        domain.ensure_not_demoting_a_head("head_administrator", MembershipRole.LOCAL_ADMINISTRATOR)
    domain.ensure_not_demoting_a_head("user", MembershipRole.LOCAL_ADMINISTRATOR)
    domain.ensure_not_demoting_a_head(None, MembershipRole.HEAD_ADMINISTRATOR)
    domain.ensure_not_demoting_a_head("local_administrator", MembershipRole.HEAD_ADMINISTRATOR)


# ------------------------------------------------------------------------------- ID-3: own organisation only


def test_id_3_an_administrator_acts_only_for_the_organisation_they_chose():
    domain.ensure_acting_for(actor(ORGANISATION), ORGANISATION)
    with pytest.raises(Forbidden) as refused:
        domain.ensure_acting_for(actor(OTHER), ORGANISATION)
    assert refused.value.rule == "ID-3"


def test_id_3_acting_for_oneself_is_not_acting_for_an_organisation():
    with pytest.raises(Forbidden):
        domain.ensure_acting_for(actor(None), ORGANISATION)


def test_id_3_users_do_not_manage_the_organisation_administrators_do():
    domain.ensure_administrator("local_administrator")
    domain.ensure_administrator("head_administrator")
    for role in ("user", None):
        with pytest.raises(Forbidden) as refused:
            domain.ensure_administrator(role)
        assert refused.value.rule == "ID-3"


# ------------------------------------------------------------------------------- ID-4: persons


def test_id_4_the_date_of_birth_must_match_the_national_register_number():
    domain.check_birth_date(in_number=date(1985, 7, 30), given=date(1985, 7, 30))
    with pytest.raises(Invalid) as refused:
        domain.check_birth_date(in_number=date(1985, 7, 30), given=date(1985, 7, 31))
    assert [(v.field, v.rule) for v in refused.value.violations] == [("date_of_birth", "ID-4")]


def test_id_4_a_number_without_a_complete_birth_date_accepts_any_date_of_birth():
    domain.check_birth_date(in_number=None, given=date(1970, 1, 1))


# ------------------------------------------------------------------------------- ID-5: memberships


def test_id_5_rights_and_themes_go_to_members_only():
    domain.ensure_member("user")
    with pytest.raises(Conflict) as refused:
        domain.ensure_member(None)
    assert refused.value.rule == "ID-5" and "add them first" in refused.value.reason


def test_id_5_an_administrator_is_removed_as_administrator_before_leaving():
    domain.ensure_removable_member("user")
    for role in ("local_administrator", "head_administrator"):
        with pytest.raises(Conflict):
            domain.ensure_removable_member(role)


def test_id_5_membership_roles_are_the_three_words_the_database_and_events_use():
    assert [str(role) for role in MembershipRole] == ["user", "local_administrator", "head_administrator"]
    assert {MembershipRole.USER} | domain.ADMINISTRATOR_ROLES == set(MembershipRole)


# ------------------------------------------------------------------------------- ID-6, ID-14: rights and their validity


def test_id_14_a_right_grants_from_its_first_to_its_last_day_inclusive():
    right = Right("dwse_organisation_officer", "training_database", valid_from=DAY, valid_until=DAY + timedelta(days=30))
    assert not right.grants_on(DAY - timedelta(days=1))
    assert right.grants_on(DAY)
    assert right.grants_on(DAY + timedelta(days=30))
    assert not right.grants_on(DAY + timedelta(days=31))  # expired: nobody had to do anything


def test_id_14_a_right_without_an_end_grants_from_its_start_on():
    right = Right("dwse_organisation_officer", "training_database", valid_from=DAY, valid_until=None)
    assert right.grants_on(date(2099, 12, 31)) and not right.grants_on(DAY - timedelta(days=1))


def test_id_14_a_revoked_right_grants_nothing_even_within_its_period():
    assert not Right("pathway_coach", "dual_workplace", valid_from=DAY, valid_until=None, revoked=True).grants_on(DAY)


def test_id_14_a_validity_period_cannot_end_before_it_starts():
    domain.check_validity(DAY, None)
    domain.check_validity(DAY, DAY)  # one day
    with pytest.raises(Invalid) as refused:
        domain.check_validity(DAY, DAY - timedelta(days=1))
    assert [(v.field, v.rule) for v in refused.value.violations] == [("valid_until", "ID-14")]


def test_id_6_department_rights_are_granted_within_the_department_only():
    domain.ensure_grantable(department_only=True, organisation_kind=OrganisationKind.DEPARTMENT, context="training_database", role="case_handler")
    domain.ensure_grantable(department_only=False, organisation_kind="training_provider", context="training_database", role="dwse_organisation_officer")
    with pytest.raises(Invalid) as refused:
        domain.ensure_grantable(department_only=True, organisation_kind="training_provider", context="training_database", role="case_handler")
    assert refused.value.violations[0].field == "role" and "case_handler@training_database" in refused.value.reason


# ------------------------------------------------------------------------------- ID-8: right requests


def test_id_8_a_request_and_a_refusal_say_why():
    domain.check_reason("Ik dien de aanvragen in.", explanation="say why you need the right")
    for reason in ("", "   ", None):
        with pytest.raises(Invalid) as refused:
            domain.check_reason(reason, explanation="say why the request is refused")
        assert [(v.field, v.reason, v.rule) for v in refused.value.violations] == [("reason", "say why the request is refused", "ID-8")]


def test_id_8_a_request_is_decided_once():
    domain.ensure_pending(RequestStatus.PENDING)
    domain.ensure_pending("pending")
    for status in ("approved", "refused", "cancelled"):
        with pytest.raises(Conflict) as refused:
            domain.ensure_pending(status)
        assert status in refused.value.reason


def test_id_8_request_outcomes_are_the_words_of_the_email_contract():
    from wse_contracts.emails import RightRequestDecided

    for outcome in (RequestStatus.APPROVED, RequestStatus.REFUSED, RequestStatus.CANCELLED):
        email = RightRequestDecided(organisation_name="O", requester_name="R", right_description="D", outcome=outcome, reason="")
        assert email.model_dump(mode="json")["outcome"] == str(outcome)


# ------------------------------------------------------------------------------- ID-10: what a person may act as


def test_id_10_without_memberships_only_the_citizen_tile_and_whom_to_contact():
    tiles, message = domain.tiles_for("An Peeters", [])
    assert [(t.kind, t.organisation_id, t.name) for t in tiles] == [("citizen", None, "An Peeters")]
    assert message == domain.NO_MEMBERSHIP_MESSAGE and "lokale beheerder" in message


def test_id_10_one_tile_per_organisation_of_membership_after_the_citizen_tile():
    first, second = uuid4(), uuid4()
    tiles, message = domain.tiles_for("An Peeters", [(first, "CVO Leerrijk", "user"), (second, "Syntra West", "head_administrator")])
    assert [(t.kind, t.organisation_id, t.role) for t in tiles] == [
        ("citizen", None, None),
        ("organisation", first, "user"),
        ("organisation", second, "head_administrator"),
    ]
    assert message is None


def test_id_10_acting_for_an_organisation_needs_a_membership():
    domain.ensure_may_act_for("user")
    with pytest.raises(Forbidden) as refused:
        domain.ensure_may_act_for(None)
    assert refused.value.rule == "ID-10"


# ------------------------------------------------------------------------------- ID-11: new organisations


def test_id_11_an_adult_education_centre_comes_with_its_institution_number():
    domain.check_new_organisation(kind=OrganisationKind.ADULT_EDUCATION_CENTRE, institution_number="123456", by_operator=True)
    with pytest.raises(Invalid) as refused:
        domain.check_new_organisation(kind="adult_education_centre", institution_number=None, by_operator=True)
    assert [(v.field, v.rule) for v in refused.value.violations] == [("institution_number", "ID-11")]


def test_id_11_other_organisations_need_no_institution_number():
    domain.check_new_organisation(kind="training_provider", institution_number=None, by_operator=True)


def test_there_is_one_department_and_only_the_bootstrap_makes_it():
    domain.check_new_organisation(kind="department", institution_number=None, by_operator=False)
    with pytest.raises(Invalid) as refused:
        domain.check_new_organisation(kind="department", institution_number=None, by_operator=True)
    assert refused.value.violations[0].field == "kind"
