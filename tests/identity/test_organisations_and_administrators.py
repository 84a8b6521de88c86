"""Organisations, head and local administrators (ID-1, ID-2, ID-3, ID-9, ID-11, ID-12)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.identity.conftest import sign_in

pytestmark = pytest.mark.slow


def test_id_1_operator_records_the_head_administrator_and_id_9_anyone_may_ask_who_it_is(world):
    organisation_id, head = world.organisation_with_head("Opleidingscentrum Noord", "Nora", sequence=11)
    import httpx

    answer = httpx.get(f"{world.url}/v1/organisations/{organisation_id}/administrators")  # no token at all
    assert answer.status_code == 200
    body = answer.json()
    assert [(a["first_name"], a["role"]) for a in body["administrators"]] == [("Nora", "head_administrator")]
    assert "national_register_number" not in answer.text and "80010" not in answer.text  # ID-9: never the number


def test_id_2_only_a_head_appoints_local_administrators(world):
    organisation_id, head = world.organisation_with_head("Opleidingscentrum Oost", "Olga", sequence=13)
    lars = world.register_person(head, born=date(1990, 5, 5), sequence=21, first_name="Lars")
    assert head.post(f"/v1/organisations/{organisation_id}/members", {"person_id": str(lars)}).status_code == 204
    assert head.post(f"/v1/organisations/{organisation_id}/administrators", {"person_id": str(lars)}).status_code == 204

    # Lars is a local administrator now, but not a head: he cannot appoint another.
    from tests.identity.conftest import national_register_number

    lars_session = sign_in(world.url, national_register_number(date(1990, 5, 5), 21)).act_for(organisation_id)
    mia = world.register_person(lars_session, born=date(1991, 6, 6), sequence=23, first_name="Mia")
    assert lars_session.post(f"/v1/organisations/{organisation_id}/members", {"person_id": str(mia)}).status_code == 204
    refused = lars_session.post(f"/v1/organisations/{organisation_id}/administrators", {"person_id": str(mia)})
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    # ... and the head removes him again (ID-2: both can change at any time).
    assert head.delete(f"/v1/organisations/{organisation_id}/administrators/{lars}").status_code == 204
    roles = {a["first_name"]: a["role"] for a in head.get(f"/v1/organisations/{organisation_id}/administrators").json()["administrators"]}
    assert roles == {"Olga": "head_administrator"}


def test_id_1_the_last_head_cannot_be_removed_without_a_successor(world):
    organisation_id, head = world.organisation_with_head("Opleidingscentrum Zuid", "Zita", sequence=15)
    refused = world.operator.delete(f"/v1/organisations/{organisation_id}/head-administrators/{head.person_id}")
    assert refused.status_code == 409
    successor = world.register_person(world.operator, born=date(1982, 2, 2), sequence=31, first_name="Sam")
    assert world.operator.post(f"/v1/organisations/{organisation_id}/head-administrators", {"person_id": str(successor)}).status_code == 204
    assert world.operator.delete(f"/v1/organisations/{organisation_id}/head-administrators/{head.person_id}").status_code == 204


def test_id_3_an_administrator_never_acts_outside_their_organisation_and_the_attempt_is_audited_id_12(world):
    own, head = world.organisation_with_head("Opleidingscentrum West", "Wout", sequence=17)
    other, other_head = world.organisation_with_head("Ander Centrum", "Anna", sequence=19)
    stranger = world.register_person(other_head, born=date(1995, 3, 3), sequence=41, first_name="Stijn")
    # Acting for their own organisation, against the other one:
    refused = head.post(f"/v1/organisations/{other}/members", {"person_id": str(stranger)})
    assert refused.status_code == 403
    # Acting as themselves (no organisation chosen):
    citizen = head.act_for(None)
    assert citizen.post(f"/v1/organisations/{own}/members", {"person_id": str(stranger)}).status_code == 403
    trail = other_head.get(f"/v1/organisations/{other}/audit").json()["items"]
    denied = [e for e in trail if e["outcome"] == "denied"]
    assert denied and denied[0]["actor_id"] == str(head.person_id)
    assert denied[0]["action"] == f"POST /v1/organisations/{other}/members"


def test_id_11_secondary_schools_are_imported_in_bulk_and_adult_education_centres_need_their_institution_number(world):
    schools = {"schools": [{"name": "Sint-Jozefsinstituut", "institution_number": "030001"}, {"name": "Atheneum", "institution_number": "030002"}]}
    assert world.operator.post("/v1/secondary-schools/import", schools).json() == {"added": 2, "updated": 0}
    schools["schools"][0]["name"] = "Sint-Jozefsinstituut Kortrijk"
    assert world.operator.post("/v1/secondary-schools/import", schools).json() == {"added": 0, "updated": 2}
    refused = world.operator.post("/v1/organisations", {"name": "CVO Leerpunt", "kind": "adult_education_centre"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "institution_number"
    added = world.operator.post("/v1/organisations", {"name": "CVO Leerpunt", "kind": "adult_education_centre", "institution_number": "123456"})
    assert added.status_code == 201


def test_only_operators_register_organisations(world):
    organisation_id, head = world.organisation_with_head("Centrum Midden", "Mats", sequence=25)
    assert head.post("/v1/organisations", {"name": "Nep", "kind": "other"}).status_code == 403


def test_an_invalid_enterprise_number_is_a_422_naming_the_field_and_writes_nothing(world):
    refused = world.operator.post("/v1/organisations", {"name": "Foutief", "kind": "other", "enterprise_number": "0403170702"})
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"field": "enterprise_number", "reason": refused.json()["errors"][0]["reason"]}]
    assert "check" in refused.json()["errors"][0]["reason"]


def test_there_is_one_department_and_an_operator_cannot_make_a_second_one(world):
    refused = world.operator.post("/v1/organisations", {"name": "Tweede departement", "kind": "department"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "kind"
    assert world.operator.get("/v1/audit").status_code == 200  # still the operator


def test_text_with_a_nul_character_is_refused_not_a_server_error(world):
    body = world.operator.post("/v1/organisations", {"name": "Nul\u0000centrum", "kind": "other"})
    assert body.status_code == 422 and body.json()["errors"][0]["field"] == "name"
    query = world.operator.get(
        "/v1/check", params={"person_id": str(world.operator.person_id), "organisation_id": str(world.department_id), "role": "x\x00", "context": "y"}
    )
    assert query.status_code == 422


def test_the_openapi_document_is_served_to_anyone(world):
    import httpx

    document = httpx.get(world.url + "/schema/openapi.json")
    assert document.status_code == 200
    assert "/v1/check" in document.json()["paths"]
