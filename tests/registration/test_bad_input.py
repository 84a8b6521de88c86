"""Bad input gets a clear error and changes nothing: every field of every section, and of the
organisation data, replaced in turn by values of the wrong kind, too long, out of range or with a
NUL character, gives 200 (when the value happens to be acceptable) or a 422 problem naming a
field, never a server error, and a refused section leaves the saved one as it was."""

from __future__ import annotations

import copy

import pytest

from tests.registration.conftest import contact, deciding_body, draft, module, self_analysis, training

pytestmark = pytest.mark.slow

ODD_VALUES = [None, "", "x" * 20_000, -1, 10**30, 1.5e308, [], {}, "nul\x00char", True, "2027-13-45", "' OR 1=1 --", {"$gt": ""}]


def variants(body: dict):
    for field in body:
        for value in ODD_VALUES:
            changed = copy.deepcopy(body)
            changed[field] = value
            yield field, changed
    yield "unknown", {**body, "unknown_field": 1}


async def check(client, application_id: str, section: str, body, saved: dict) -> dict:
    """PUT the section; returns what is saved afterwards (a 422 must not have changed it)."""
    path = f"/v1/provider/applications/{application_id}/sections/{section}"
    response = await client.put(path, json=body)
    assert response.status_code in (200, 422), (body, response.text)
    if response.status_code == 200:
        return response.json()["sections"][section]
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"] and all(e["field"] for e in response.json()["errors"]), response.text
    current = (await client.get(f"/v1/provider/applications/{application_id}")).json()["sections"][section]
    assert current == saved, "a refused section leaves what was saved"
    return saved


@pytest.mark.parametrize(
    ("section", "valid"),
    [
        ("contact", contact()),
        ("training", training()),
        ("self_analysis", self_analysis()),
        ("deciding_body", deciding_body()),
        ("documents", {"document_ids": []}),
    ],
)
async def test_every_field_of_every_section_refused_cleanly(provider, section, valid):
    application = await draft(provider, **{section: valid})
    application_id = application["application_id"]
    saved = application["sections"][section]
    for _field, body in variants(valid):
        saved = await check(provider.client, application_id, section, body, saved)
    if section == "training":
        for _field, body in variants(module()):
            saved = await check(provider.client, application_id, section, training(modules=[body]), saved)
    for body in (None, [], "text", 12, {"": ""}):
        response = await provider.client.put(f"/v1/provider/applications/{application_id}/sections/{section}", json=body)
        assert response.status_code in (400, 422), (body, response.text)


async def test_a_refused_section_keeps_the_saved_one(provider):
    application = await draft(provider, training=training(name="Eerste versie"))
    refused = await provider.client.put(f"/v1/provider/applications/{application['application_id']}/sections/training", json=training(name="x" * 400))
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "name"
    current = (await provider.client.get(f"/v1/provider/applications/{application['application_id']}")).json()
    assert current["sections"]["training"]["name"] == "Eerste versie"


async def test_organisation_data_and_back_office_bodies_refused_cleanly(provider, case_handler):
    valid = {"contact": contact(), "general_contact": contact(), "lms": "moodle"}
    for _field, body in variants(valid):
        response = await provider.client.put("/v1/provider/organisation", json=body)
        assert response.status_code in (200, 422), (body, response.text)
    for path, body in [
        ("/v1/back-office/applications/00000000-0000-0000-0000-000000000000/forward", {"deciding_body": "x" * 100}),
        ("/v1/back-office/applications/00000000-0000-0000-0000-000000000000/decision", {"outcome": "maybe"}),
        ("/v1/back-office/applications/00000000-0000-0000-0000-000000000000/information-requests", {"question": "nul\x00"}),
        ("/v1/back-office/trainings/ODB-1/evaluations", {"year": 1800, "outcome": "negative"}),
    ]:
        response = await case_handler.client.post(path, json=body)
        assert response.status_code == 422, (path, response.text)
    assert (await case_handler.client.get("/v1/back-office/queue", params={"limit": 0})).status_code == 422
    assert (await case_handler.client.get("/v1/back-office/applications/not-a-uuid")).status_code in (400, 404)
