"""Persons, memberships, rights, requests, themes and the check (ID-4 to ID-8, ID-12 to ID-14)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from service_runtime import calendar  # the Brussels date, as the services judge validity
from service_runtime.clock import SystemClock
from tests.identity.conftest import national_register_number, sign_in

pytestmark = pytest.mark.slow

TODAY = calendar.today(SystemClock())


def check(session, person_id, organisation_id, role, context, theme=None) -> bool:
    params = {"person_id": str(person_id), "organisation_id": str(organisation_id), "role": role, "context": context}
    if theme:
        params["theme"] = theme
    response = session.get("/v1/check", params=params)
    assert response.status_code == 200, response.text
    return response.json()["allowed"]


def grant(head, organisation_id, person_id, role, context, valid_from=TODAY, valid_until=None):
    response = head.post(
        f"/v1/organisations/{organisation_id}/rights",
        {
            "person_id": str(person_id),
            "role": role,
            "context": context,
            "valid_from": valid_from.isoformat(),
            "valid_until": valid_until.isoformat() if valid_until else None,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["right_id"]


@pytest.fixture(scope="module")
def provider(world):
    """A training provider with its head administrator and one member, Bert."""
    organisation_id, head = world.organisation_with_head("Vormingscentrum Brugge", "Hilde", sequence=101)
    bert = world.register_person(head, born=date(1992, 4, 4), sequence=103, first_name="Bert", email="bert@vcb.example")
    assert head.post(f"/v1/organisations/{organisation_id}/members", {"person_id": str(bert)}).status_code == 204
    return organisation_id, head, bert


def test_id_4_a_person_is_looked_up_by_number_and_reused_never_registered_twice(world, provider):
    organisation_id, head, bert = provider
    number = national_register_number(date(1992, 4, 4), 103)
    found = head.post("/v1/persons/lookup", {"national_register_number": number})
    assert found.status_code == 200 and found.json()["person_id"] == str(bert)
    again = head.post(
        "/v1/persons",
        {
            "national_register_number": number,
            "first_name": "Bert",
            "last_name": "Peeters",
            "gender": "male",
            "date_of_birth": "1992-04-04",
            "email": "other@example.org",
        },
    )
    assert again.status_code == 200 and again.json()["person_id"] == str(bert)  # reused, not created
    assert number not in found.text  # the number is never given back


@pytest.mark.parametrize("number, reason", [("8507300332", "11 digits"), ("85073003329", "check"), (f"851330033{97 - 851330033 % 97:02d}", "month")])
def test_id_4_an_invalid_national_register_number_is_a_422_naming_the_field_and_creates_nobody(world, provider, number, reason):
    organisation_id, head, _ = provider
    response = head.post(
        "/v1/persons",
        {"national_register_number": number, "first_name": "X", "last_name": "Y", "gender": "x", "date_of_birth": "1985-07-30", "email": "x@example.org"},
    )
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "national_register_number" and reason in error["reason"]
    assert head.post("/v1/persons/lookup", {"national_register_number": number}).status_code == 422


def test_id_5_id_6_a_member_holds_a_right_in_one_context_only(world, provider):
    organisation_id, head, bert = provider
    grant(head, organisation_id, bert, "dwse_organisation_officer", "training_database")
    assert check(head, bert, organisation_id, "dwse_organisation_officer", "training_database")
    assert not check(head, bert, organisation_id, "dwse_organisation_officer", "platos")  # ID-6
    other, _ = world.organisation_with_head("Elders", "Els", sequence=105)
    assert not check(head, bert, other, "dwse_organisation_officer", "training_database")  # one organisation


def test_id_6_a_right_for_a_non_member_is_refused(world, provider):
    organisation_id, head, _ = provider
    outsider = world.register_person(head, born=date(1993, 5, 5), sequence=107, first_name="Olivier")
    response = head.post(
        f"/v1/organisations/{organisation_id}/rights",
        {"person_id": str(outsider), "role": "dwse_organisation_officer", "context": "platos", "valid_from": TODAY.isoformat()},
    )
    assert response.status_code == 409


def test_id_14_a_right_outside_its_validity_grants_nothing_without_any_job(world, provider):
    organisation_id, head, bert = provider
    grant(head, organisation_id, bert, "dwse_organisation_officer", "training_leave", valid_from=TODAY + timedelta(days=3))
    assert not check(head, bert, organisation_id, "dwse_organisation_officer", "training_leave")  # not yet
    right_id = grant(head, organisation_id, bert, "dwse_organisation_officer", "platos", valid_from=TODAY - timedelta(days=10), valid_until=TODAY)
    assert check(head, bert, organisation_id, "dwse_organisation_officer", "platos")  # its last day
    changed = head.patch(
        f"/v1/organisations/{organisation_id}/rights/{right_id}",
        {"valid_from": (TODAY - timedelta(days=10)).isoformat(), "valid_until": (TODAY - timedelta(days=1)).isoformat()},
    )
    assert changed.status_code == 200
    assert not check(head, bert, organisation_id, "dwse_organisation_officer", "platos")  # expired yesterday
    backwards = head.patch(
        f"/v1/organisations/{organisation_id}/rights/{right_id}", {"valid_from": TODAY.isoformat(), "valid_until": (TODAY - timedelta(days=1)).isoformat()}
    )
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "valid_until"


def test_id_7_only_a_pathway_coach_may_manage_dual_learning_agreements(world, provider):
    organisation_id, head, bert = provider
    coach = world.register_person(head, born=date(1994, 6, 6), sequence=109, first_name="Chloe")
    assert head.post(f"/v1/organisations/{organisation_id}/members", {"person_id": str(coach)}).status_code == 204
    grant(head, organisation_id, coach, "pathway_coach", "dual_workplace")
    grant(head, organisation_id, bert, "administrator", "dual_workplace")
    assert check(head, coach, organisation_id, "pathway_coach", "dual_workplace")
    assert not check(head, bert, organisation_id, "pathway_coach", "dual_workplace")  # administrator may not


def test_id_13_a_user_reads_documents_of_the_themes_given_to_them(world, provider):
    organisation_id, head, bert = provider
    grant(head, organisation_id, bert, "user", "mijn_onderwijs")
    assert head.post(f"/v1/organisations/{organisation_id}/themes", {"person_id": str(bert), "theme": "leerlingenbegeleiding"}).status_code == 204
    assert check(head, bert, organisation_id, "user", "mijn_onderwijs", theme="leerlingenbegeleiding")
    assert not check(head, bert, organisation_id, "user", "mijn_onderwijs", theme="personeel")
    assert head.delete(f"/v1/organisations/{organisation_id}/themes/{bert}/leerlingenbegeleiding").status_code == 204
    assert not check(head, bert, organisation_id, "user", "mijn_onderwijs", theme="leerlingenbegeleiding")


def test_department_rights_exist_only_within_the_department(world, provider):
    organisation_id, head, bert = provider
    response = head.post(
        f"/v1/organisations/{organisation_id}/rights",
        {"person_id": str(bert), "role": "case_handler", "context": "training_database", "valid_from": TODAY.isoformat()},
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "role"
    unknown = head.post(
        f"/v1/organisations/{organisation_id}/rights", {"person_id": str(bert), "role": "superuser", "context": "everything", "valid_from": TODAY.isoformat()}
    )
    assert unknown.status_code == 422


def test_id_8_a_member_requests_a_right_and_the_administrator_decides(world, provider):
    organisation_id, head, _ = provider
    dana = world.register_person(head, born=date(1996, 7, 7), sequence=111, first_name="Dana", email="dana@vcb.example")
    assert head.post(f"/v1/organisations/{organisation_id}/members", {"person_id": str(dana)}).status_code == 204
    member = sign_in(world.url, national_register_number(date(1996, 7, 7), 111)).act_for(organisation_id)

    asked = member.post(
        f"/v1/organisations/{organisation_id}/right-requests",
        {"role": "dwse_organisation_officer", "context": "platos", "reason": "Ik dien de erkenningsaanvraag in."},
    )
    assert asked.status_code == 201, asked.text
    twice = member.post(f"/v1/organisations/{organisation_id}/right-requests", {"role": "dwse_organisation_officer", "context": "platos", "reason": "nog eens"})
    assert twice.status_code == 409  # a second identical pending request is refused
    assert member.get(f"/v1/organisations/{organisation_id}/right-requests").status_code == 403  # members do not decide

    pending = head.get(f"/v1/organisations/{organisation_id}/right-requests", params={"status": "pending"}).json()["items"]
    assert [(p["first_name"], p["context"]) for p in pending] == [("Dana", "platos")]
    refused_without_reason = head.post(f"/v1/organisations/{organisation_id}/right-requests/{asked.json()['request_id']}/decision", {"approve": False})
    assert refused_without_reason.status_code == 422
    decided = head.post(f"/v1/organisations/{organisation_id}/right-requests/{asked.json()['request_id']}/decision", {"approve": True})
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    assert check(head, dana, organisation_id, "dwse_organisation_officer", "platos")
    assert head.post(f"/v1/organisations/{organisation_id}/right-requests/{asked.json()['request_id']}/decision", {"approve": True}).status_code == 409


def test_the_rights_report_as_json_and_csv(world, provider):
    organisation_id, head, bert = provider
    rows = head.get(f"/v1/organisations/{organisation_id}/rights").json()["items"]
    assert any(r["first_name"] == "Bert" and r["context"] == "training_database" and r["active"] for r in rows)
    exported = head.get(f"/v1/organisations/{organisation_id}/rights.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(exported.text), delimiter=";"))
    assert {"last_name", "first_name", "context", "role", "valid_from", "valid_until", "active"} <= set(table[0])
    assert len(table) == len(rows)


def test_id_12_grants_revocations_and_decisions_are_in_the_append_only_audit_trail(world, provider):
    organisation_id, head, bert = provider
    right_id = grant(head, organisation_id, bert, "dwse_organisation_officer", "training_leave", valid_from=TODAY - timedelta(days=1))
    assert head.delete(f"/v1/organisations/{organisation_id}/rights/{right_id}").status_code == 204
    trail = head.get(f"/v1/organisations/{organisation_id}/audit").json()["items"]
    actions = [e["action"] for e in trail]
    for action in ("right.granted", "right.revoked", "right.validity_changed", "right.requested", "right_request.approved", "membership.added"):
        assert action in actions, action
    revoked = next(e for e in trail if e["action"] == "right.revoked")
    assert revoked["actor_id"] == str(head.person_id) and revoked["correlation_id"]
    # Operators read every organisation's trail; administrators only their own.
    assert world.operator.get("/v1/audit").status_code == 200
    assert head.get("/v1/audit").status_code == 403


def test_id_8_granting_the_right_directly_cancels_the_pending_request_for_it(world, provider):
    organisation_id, head, _ = provider
    gert = world.register_person(head, born=date(1998, 8, 8), sequence=113, first_name="Gert")
    assert head.post(f"/v1/organisations/{organisation_id}/members", {"person_id": str(gert)}).status_code == 204
    member = sign_in(world.url, national_register_number(date(1998, 8, 8), 113)).act_for(organisation_id)
    request_id = member.post(
        f"/v1/organisations/{organisation_id}/right-requests", {"role": "administrator", "context": "mijn_onderwijs", "reason": "beheer"}
    ).json()["request_id"]
    grant(head, organisation_id, gert, "administrator", "mijn_onderwijs")
    requests = {r["request_id"]: r["status"] for r in head.get(f"/v1/organisations/{organisation_id}/right-requests").json()["items"]}
    assert requests[request_id] == "cancelled"
    assert (
        member.post(
            f"/v1/organisations/{organisation_id}/right-requests", {"role": "administrator", "context": "mijn_onderwijs", "reason": "nog eens"}
        ).status_code
        == 409
    )  # already held


def test_id_5_a_person_removed_from_the_organisation_loses_its_rights_there(world, provider):
    organisation_id, head, _ = provider
    hugo = world.register_person(head, born=date(1999, 9, 9), sequence=115, first_name="Hugo")
    assert head.post(f"/v1/organisations/{organisation_id}/members", {"person_id": str(hugo)}).status_code == 204
    grant(head, organisation_id, hugo, "dwse_organisation_officer", "training_database")
    assert check(head, hugo, organisation_id, "dwse_organisation_officer", "training_database")
    assert head.delete(f"/v1/organisations/{organisation_id}/members/{hugo}").status_code == 204
    assert not check(head, hugo, organisation_id, "dwse_organisation_officer", "training_database")
    assert all(r["person_id"] != str(hugo) for r in head.get(f"/v1/organisations/{organisation_id}/rights").json()["items"])
    # An administrator is removed as administrator first (by a head), not as a member.
    assert head.delete(f"/v1/organisations/{organisation_id}/members/{head.person_id}").status_code == 409
