"""What a portal's screens need from identity (issue 11, point 3): reading and finding
organisations, an organisation's members with their rights, one's own rights and right requests,
withdrawing a request, and the answers a portal can act on (404 for an unknown person, 422 for a
grant that ends in the past or an unknown theme). Over the real service and its database."""

from __future__ import annotations

import json
from datetime import date, timedelta
from uuid import uuid4

import pytest

from service_runtime import calendar
from service_runtime.clock import SystemClock
from tests.identity.conftest import national_register_number, sign_in
from tests.platform.helpers import connect

pytestmark = pytest.mark.slow

TODAY = calendar.today(SystemClock())


def enterprise_number(seed: int) -> str:
    """0, 7 digits, and the mod-97 check of the first 8."""
    base = 4_000_000 + seed
    return f"0{base:07d}{97 - base % 97:02d}"


@pytest.fixture(scope="module")
def school(world):
    """A school with its head (Hanna), a member with rights (Ruben) and one without (Nele)."""
    organisation_id = world.organisation("Sint-Portaalinstituut", enterprise_number=enterprise_number(1), institution_number="654321")
    hanna = world.register_person(world.operator, born=date(1981, 3, 3), sequence=601, first_name="Hanna", last_name="Hoofd")
    assert world.operator.post(f"/v1/organisations/{organisation_id}/head-administrators", {"person_id": str(hanna)}).status_code == 204
    head = sign_in(world.url, national_register_number(date(1981, 3, 3), 601)).act_for(organisation_id)
    ruben = world.register_person(head, born=date(1990, 4, 4), sequence=603, first_name="Ruben", last_name="Rechten", email="ruben@school.example")
    nele = world.register_person(head, born=date(1991, 5, 5), sequence=605, first_name="Nele", last_name="Niets")
    for person in (ruben, nele):
        assert head.post(f"/v1/organisations/{organisation_id}/members", {"person_id": str(person)}).status_code == 204
    return organisation_id, head, ruben, nele


def grant(head, organisation_id, person_id, role, context, valid_from=TODAY, valid_until=None):
    return head.post(
        f"/v1/organisations/{organisation_id}/rights",
        {
            "person_id": str(person_id),
            "role": role,
            "context": context,
            "valid_from": valid_from.isoformat(),
            "valid_until": valid_until.isoformat() if valid_until else None,
        },
    )


def test_the_helpdesk_reads_any_organisation_a_member_their_own_and_nobody_else(world, school):
    organisation_id, head, ruben, _ = school
    by_operator = world.operator.get(f"/v1/organisations/{organisation_id}")
    assert by_operator.status_code == 200, by_operator.text
    assert by_operator.json() == {
        "organisation_id": str(organisation_id),
        "name": "Sint-Portaalinstituut",
        "kind": "training_provider",
        "enterprise_number": enterprise_number(1),
        "institution_number": "654321",
        "contact_email": None,
        "quality_registration": {"status": "none", "valid_from": None, "valid_until": None},
    }
    member = sign_in(world.url, national_register_number(date(1990, 4, 4), 603))  # acting for himself: still a member
    assert member.get(f"/v1/organisations/{organisation_id}").json()["name"] == "Sint-Portaalinstituut"
    other, other_head = world.organisation_with_head("Andere School", "Otto", sequence=607)
    refused = other_head.get(f"/v1/organisations/{organisation_id}")
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert world.operator.get(f"/v1/organisations/{uuid4()}").status_code == 404


def test_the_helpdesk_finds_organisations_by_enterprise_number_institution_number_or_name_page_by_page(world, school):
    organisation_id, head, _, _ = school
    formatted = enterprise_number(1)
    by_number = world.operator.get("/v1/organisations", params={"enterprise_number": f"BE {formatted[:4]}.{formatted[4:7]}.{formatted[7:]}"})
    assert by_number.status_code == 200, by_number.text
    assert [o["organisation_id"] for o in by_number.json()["items"]] == [str(organisation_id)]
    by_institution = world.operator.get("/v1/organisations", params={"institution_number": "654321"}).json()
    assert [o["organisation_id"] for o in by_institution["items"]] == [str(organisation_id)] and by_institution["next_cursor"] is None
    for name in ("Zoekschool Een", "Zoekschool Twee", "Zoekschool Drie", "Zoek_100%"):
        world.organisation(name)
    seen, cursor = [], None
    while True:
        params = {"name": "zoekSCHOOL", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = world.operator.get("/v1/organisations", params=params).json()
        seen += [o["name"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["Zoekschool Drie", "Zoekschool Een", "Zoekschool Twee"]  # name order, each once
    assert [o["name"] for o in world.operator.get("/v1/organisations", params={"name": "_100%"}).json()["items"]] == ["Zoek_100%"]  # literally
    bad = world.operator.get("/v1/organisations", params={"name": "zoek", "cursor": "bm90LWEtY3Vyc29y"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"
    assert head.get("/v1/organisations", params={"name": "zoek"}).status_code == 403  # the helpdesk's search only


def test_administrators_list_the_members_with_their_membership_and_current_rights(world, school):
    organisation_id, head, ruben, nele = school
    assert grant(head, organisation_id, ruben, "dwse_organisation_officer", "training_database").status_code == 201
    assert grant(head, organisation_id, ruben, "dwse_organisation_officer", "platos", valid_from=TODAY + timedelta(days=5)).status_code == 201
    ended = grant(head, organisation_id, ruben, "dwse_organisation_officer", "training_leave", valid_from=TODAY - timedelta(days=9), valid_until=TODAY)
    assert ended.status_code == 201
    right_id = ended.json()["right_id"]
    assert (
        head.patch(
            f"/v1/organisations/{organisation_id}/rights/{right_id}",
            {"valid_from": (TODAY - timedelta(days=9)).isoformat(), "valid_until": (TODAY - timedelta(days=1)).isoformat()},
        ).status_code
        == 200
    )
    response = head.get(f"/v1/organisations/{organisation_id}/members")
    assert response.status_code == 200, response.text
    members = {m["first_name"]: m for m in response.json()["items"]}
    assert [m["first_name"] for m in response.json()["items"]] == ["Hanna", "Nele", "Ruben"]  # by last name: Hoofd, Niets, Rechten
    assert members["Hanna"]["membership"] == "head_administrator"
    assert members["Nele"]["membership"] == "user" and members["Nele"]["rights"] == []  # a member without rights is listed too
    rights = {(r["context"], r["active"]) for r in members["Ruben"]["rights"]}
    assert rights == {("training_database", True), ("platos", False)}  # the one that ended yesterday is not current
    assert members["Ruben"]["email"] == "ruben@school.example"
    first = head.get(f"/v1/organisations/{organisation_id}/members", params={"limit": 1}).json()
    second = head.get(f"/v1/organisations/{organisation_id}/members", params={"limit": 1, "cursor": first["next_cursor"]}).json()
    assert [m["first_name"] for m in first["items"] + second["items"]] == ["Hanna", "Nele"]
    member = sign_in(world.url, national_register_number(date(1991, 5, 5), 605)).act_for(organisation_id)
    assert member.get(f"/v1/organisations/{organisation_id}/members").status_code == 403  # members do not manage


def test_a_person_lists_their_own_rights_and_requests_and_withdraws_a_pending_request(world, school):
    organisation_id, head, _, _ = school
    born = date(1992, 6, 6)
    wim = world.register_person(head, born=born, sequence=609, first_name="Wim", last_name="Weg")
    assert head.post(f"/v1/organisations/{organisation_id}/members", {"person_id": str(wim)}).status_code == 204
    assert grant(head, organisation_id, wim, "user", "mijn_onderwijs").status_code == 201
    me = sign_in(world.url, national_register_number(born, 609)).act_for(organisation_id)
    rights = me.get("/v1/me/rights")
    assert rights.status_code == 200, rights.text
    assert [(r["organisation_name"], r["role"], r["context"], r["active"]) for r in rights.json()["items"]] == [
        ("Sint-Portaalinstituut", "user", "mijn_onderwijs", True)
    ]
    asked = me.post(f"/v1/organisations/{organisation_id}/right-requests", {"role": "dwse_organisation_officer", "context": "platos", "reason": "Erkenning"})
    assert asked.status_code == 201
    request_id = asked.json()["request_id"]
    mine = me.get("/v1/me/right-requests").json()["items"]
    assert [(r["request_id"], r["status"], r["organisation_name"]) for r in mine] == [(request_id, "pending", "Sint-Portaalinstituut")]

    assert sign_in(world.url, national_register_number(date(1990, 4, 4), 603)).post(f"/v1/me/right-requests/{request_id}/withdraw").status_code == 404
    withdrawn = me.post(f"/v1/me/right-requests/{request_id}/withdraw")
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "cancelled" and withdrawn.json()["decision_reason"] == "withdrawn by the requester"
    assert me.post(f"/v1/me/right-requests/{request_id}/withdraw").status_code == 409  # no longer pending
    assert [r["status"] for r in me.get("/v1/me/right-requests", params={"status": "pending"}).json()["items"]] == []
    trail = head.get(f"/v1/organisations/{organisation_id}/audit").json()["items"]
    assert any(e["action"] == "right_request.withdrawn" and e["actor_id"] == str(wim) and e["details"]["request_id"] == request_id for e in trail)
    assert me.post(f"/v1/me/right-requests/{uuid4()}/withdraw").status_code == 404


async def test_a_withdrawn_request_is_published_as_cancelled(world, school):
    organisation_id, head, ruben, _ = school
    member = sign_in(world.url, national_register_number(date(1990, 4, 4), 603)).act_for(organisation_id)
    request_id = member.post(
        f"/v1/organisations/{organisation_id}/right-requests", {"role": "administrator", "context": "dual_workplace", "reason": "Beheer"}
    ).json()["request_id"]
    assert member.post(f"/v1/me/right-requests/{request_id}/withdraw").status_code == 200
    connection = await connect(world.identity.env["IDENTITY_DATABASE_URL"])
    try:
        rows = await connection.fetch("SELECT value FROM outbox WHERE event_type LIKE '%right_request_decided%'")
    finally:
        await connection.close()
    [event] = [e for e in (json.loads(row["value"]) for row in rows) if e["request_id"] == request_id]
    assert event["outcome"] == "cancelled" and event["decided_by"] == str(ruben) and event["person_id"] == str(ruben)


def test_granting_to_an_unknown_person_is_a_404_and_a_grant_that_ends_before_today_a_422_on_valid_until(world, school):
    organisation_id, head, ruben, _ = school
    unknown = grant(head, organisation_id, uuid4(), "dwse_organisation_officer", "platos")
    assert unknown.status_code == 404, unknown.text
    past = grant(head, organisation_id, ruben, "administrator", "mijn_onderwijs", valid_from=TODAY - timedelta(days=30), valid_until=TODAY - timedelta(days=1))
    assert past.status_code == 422
    assert past.json()["errors"] == [{"field": "valid_until", "reason": past.json()["errors"][0]["reason"], "rule": "ID-14"}]
    assert grant(head, organisation_id, ruben, "administrator", "mijn_onderwijs", valid_from=TODAY - timedelta(days=30), valid_until=TODAY).status_code == 201


def test_id_13_themes_come_from_the_departments_catalogue(world, school):
    organisation_id, head, ruben, _ = school
    catalogue = [t["theme"] for t in world.operator.get("/v1/themes").json()["items"]]
    assert "leerlingenbegeleiding" in catalogue and catalogue == sorted(catalogue)
    unknown = head.post(f"/v1/organisations/{organisation_id}/themes", {"person_id": str(ruben), "theme": "personel"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "theme" and unknown.json()["errors"][0]["rule"] == "ID-13"
    assert head.post(f"/v1/organisations/{organisation_id}/themes", {"person_id": str(ruben), "theme": "personeel"}).status_code == 204
    assert head.post(f"/v1/organisations/{organisation_id}/themes", {"person_id": str(uuid4()), "theme": "personeel"}).status_code == 404


async def test_a_patch_that_changes_nothing_publishes_nothing_and_audits_nothing(world):
    organisation_id = world.organisation("Onveranderd Centrum", contact_email="info@onveranderd.example")
    connection = await connect(world.identity.env["IDENTITY_DATABASE_URL"])

    async def changes() -> tuple[int, int]:
        events = await connection.fetchval(
            "SELECT count(*) FROM outbox WHERE event_type LIKE '%organisation_changed%' AND convert_from(key, 'UTF8') = $1", str(organisation_id)
        )
        audits = await connection.fetchval("SELECT count(*) FROM audit_log WHERE action = 'organisation.changed' AND organisation_id = $1", organisation_id)
        return events, audits

    try:
        same = world.operator.patch(f"/v1/organisations/{organisation_id}", {"name": "Onveranderd Centrum", "contact_email": "info@onveranderd.example"})
        assert same.status_code == 200 and same.json()["name"] == "Onveranderd Centrum"
        assert world.operator.patch(f"/v1/organisations/{organisation_id}", {}).status_code == 200
        assert world.operator.put(f"/v1/organisations/{organisation_id}/quality-registration", {"status": "none"}).status_code == 200
        assert await changes() == (0, 0)
        assert world.operator.patch(f"/v1/organisations/{organisation_id}", {"name": "Veranderd Centrum"}).json()["name"] == "Veranderd Centrum"
        assert await changes() == (1, 1)  # a real change still does both
    finally:
        await connection.close()


async def test_the_bootstrap_events_carry_a_correlation_id_of_their_own(world):
    connection = await connect(world.identity.env["IDENTITY_DATABASE_URL"])
    try:
        rows = await connection.fetch(
            "SELECT event_type, headers FROM outbox WHERE event_type LIKE ANY (ARRAY['%organisation_registered%', '%right_granted%']) ORDER BY id LIMIT 2"
        )
        audit = await connection.fetch("SELECT correlation_id FROM audit_log WHERE actor_id IS NULL AND action = 'organisation.registered'")
    finally:
        await connection.close()
    correlation_ids = {dict((name, value) for name, value in row["headers"])["ce_correlationid"] for row in rows}
    [correlation_id] = correlation_ids  # one run, one id, on both events
    assert correlation_id.startswith("bootstrap-") and len(correlation_id) > len("bootstrap-") + 30
    assert [r["correlation_id"] for r in audit] == [correlation_id]
