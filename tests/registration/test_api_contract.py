"""What issue 11 asks of the registration service's API, over the real stack: the document
validates and types every answer; the answers carry exactly the documented fields (the public
register's pre-built JSON included); lists are pages with a keyset cursor; a required body and
header are required, an optional one is documented as optional; the provider's view of a dossier
leaves out what is internal."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from openapi_spec_validator import validate

from registration.views.schemas import ApplicationSummary, DocumentOut, ProviderApplication, RegisteredTraining, RegisteredTrainingDetail
from tests import contract
from tests.registration.conftest import contact, deciding_body, draft, registered, self_analysis, submit, submitted, training

pytestmark = pytest.mark.slow

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def _served_document(client) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


async def test_the_document_validates_and_types_every_success_answer(public_client):
    document = await _served_document(public_client)
    validate(document)
    assert not contract.untyped_success_answers(document)
    for path, item in document["paths"].items():
        for operation in item.values():
            for status, response in operation["responses"].items():
                for media, content in response.get("content", {}).items() if status.startswith("2") else ():
                    if media != "application/json":  # a file: its bytes
                        assert contract.resolve(document, content["schema"]) == {"type": "string", "format": "binary", "description": "the file's bytes"}, (
                            path,
                            media,
                        )


async def test_uploads_and_downloads_are_documented_with_their_file_types(public_client):
    document = await _served_document(public_client)
    upload = document["paths"]["/v1/provider/documents"]["post"]
    assert upload["requestBody"]["required"] is True
    assert {"application/pdf", "image/png", "image/jpeg", "application/octet-stream"} <= set(upload["requestBody"]["content"])
    assert "415" in upload["responses"] and "413" in upload["responses"] and "Location" in upload["responses"]["201"]["headers"]
    for path in ("/v1/provider/documents/{document_id}", "/v1/back-office/documents/{document_id}"):
        download = document["paths"][path]["get"]["responses"]["200"]
        assert "application/json" not in download["content"] and "application/pdf" in download["content"]
        assert {"Content-Disposition", "Repr-Digest", "X-Content-Type-Options"} <= set(download["headers"])


async def test_every_route_documents_the_problems_its_use_case_answers(public_client):
    paths = (await _served_document(public_client))["paths"]
    assert {"404", "409", "422"} <= set(paths["/v1/provider/applications/{application_id}/submit"]["post"]["responses"])
    assert {"404", "503"} <= set(paths["/v1/register/trainings/{odb_number}"]["get"]["responses"])
    assert paths["/v1/register/trainings"]["get"]["security"] == []
    for item in paths.values():
        for operation in item.values():
            assert "400" not in operation["responses"] or operation["responses"]["400"]["content"] == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }


async def test_the_draft_body_is_optional_and_says_so(provider, public_client):
    """It only carries `replaces_odb_number`: a new application needs nothing."""
    operation = (await _served_document(public_client))["paths"]["/v1/provider/applications"]["post"]
    assert operation["requestBody"]["required"] is False
    assert (await provider.client.post("/v1/provider/applications")).status_code == 201
    assert (await provider.client.post("/v1/provider/applications", json={})).status_code == 201
    refused = await provider.client.post("/v1/provider/applications", json={"replaces_odb_number": "not a number"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "replaces_odb_number"


async def test_a_section_without_its_body_is_refused_by_name(provider):
    application = await draft(provider)
    response = await provider.client.put(f"/v1/provider/applications/{application['application_id']}/sections/contact")
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "body"
    unknown = await provider.client.put(f"/v1/provider/applications/{application['application_id']}/sections/nonsense", json={})
    assert unknown.status_code in (404, 405)


async def test_submit_without_or_with_a_malformed_idempotency_key_names_the_header(provider, public_client):
    application = await draft(provider)
    path = f"/v1/provider/applications/{application['application_id']}/submit"
    missing = await provider.client.post(path)
    assert missing.status_code == 422, missing.text
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in missing.json()["errors"]] == ["idempotency-key"]
    short = await provider.client.post(path, headers={"idempotency-key": "short"})
    assert short.status_code == 422 and [e["field"] for e in short.json()["errors"]] == ["idempotency-key"]
    parameters = (await _served_document(public_client))["paths"]["/v1/provider/applications/{application_id}/submit"]["post"]["parameters"]
    header = next(p for p in parameters if p["name"] == "Idempotency-Key")
    assert header["required"] is True and header["schema"]["type"] == "string" and header["schema"]["minLength"] == 8


async def test_the_provider_sees_its_dossier_without_internal_fields_the_back_office_with_them(provider, case_handler):
    result = await submitted(provider)
    mine = (await provider.client.get(f"/v1/provider/applications/{result['application_id']}")).json()
    assert set(mine) == set(ProviderApplication.model_fields)
    for internal in ("idempotency_key", "created_by", "version", "submitted_by", "flags", "advice", "deciding_body", "history"):
        assert internal not in mine and internal not in result
    theirs = (await case_handler.client.get(f"/v1/back-office/applications/{result['application_id']}")).json()
    assert {"created_by", "flags", "history", "advice"} <= set(theirs) and "idempotency_key" not in theirs and "version" not in theirs
    assert theirs["created_by"] == str(provider.person_id)


async def test_lists_are_pages_walked_with_a_cursor(provider):
    for i in range(3):
        uploaded = await provider.client.post(
            "/v1/provider/documents", params={"purpose": "extra", "filename": f"plan-{i}.pdf"}, content=PDF, headers={"content-type": "application/pdf"}
        )
        assert uploaded.status_code == 201
    seen, cursor = [], None
    while True:
        page = (await provider.client.get("/v1/provider/documents", params={"limit": 2, **({"cursor": cursor} if cursor else {})})).json()
        assert set(page) == {"items", "next_cursor"} and len(page["items"]) <= 2
        assert all(set(item) == set(DocumentOut.model_fields) for item in page["items"])
        seen += [item["document_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    everything = (await provider.client.get("/v1/provider/documents")).json()
    assert seen == [item["document_id"] for item in everything["items"]] and len(seen) == 3 and everything["next_cursor"] is None
    await draft(provider)
    await draft(provider)
    first = (await provider.client.get("/v1/provider/applications", params={"limit": 1})).json()
    assert set(first["items"][0]) == set(ApplicationSummary.model_fields) and first["next_cursor"]
    second = (await provider.client.get("/v1/provider/applications", params={"limit": 1, "cursor": first["next_cursor"]})).json()
    assert second["items"][0]["application_id"] != first["items"][0]["application_id"]


@pytest.mark.parametrize("path", ["/v1/provider/documents", "/v1/provider/applications", "/v1/provider/trainings"])
async def test_a_cursor_this_service_did_not_give_out_is_a_field_error(provider, path):
    for cursor in ("nonsense", "WzEsMl0", "bnVsbA", "€"):
        response = await provider.client.get(path, params={"cursor": cursor})
        assert response.status_code == 422, (cursor, response.text)
        assert [e["field"] for e in response.json()["errors"]] == ["cursor"]
    assert (await provider.client.get(path, params={"limit": 101})).status_code == 422


async def test_the_queue_and_the_joint_committees_are_pages(case_handler, public_client, provider):
    await submitted(provider)
    queue = await case_handler.client.get("/v1/back-office/queue", params={"limit": 1})
    assert queue.status_code == 200 and len(queue.json()["items"]) == 1 and queue.json()["next_cursor"]
    following = await case_handler.client.get("/v1/back-office/queue", params={"limit": 1, "cursor": queue.json()["next_cursor"]})
    assert following.status_code == 200 and following.json()["items"][0]["application_id"] != queue.json()["items"][0]["application_id"]
    committees = (await public_client.get("/v1/register/joint-committees", params={"limit": 2})).json()
    rest = (await public_client.get("/v1/register/joint-committees", params={"cursor": committees["next_cursor"]})).json()
    assert [c["number"] for c in committees["items"] + rest["items"]] == sorted(c["number"] for c in committees["items"] + rest["items"])
    assert len(committees["items"]) == 2 and rest["items"] and rest["next_cursor"] is None


async def test_the_registers_json_is_exactly_its_documented_model(provider, case_handler, public_client):
    """The search and the detail are bytes PostgreSQL writes; their models in the document must say what those bytes hold."""
    name = f"Contracttraining {uuid.uuid4().hex[:8]}"
    number = (await registered(provider, case_handler, training_overrides={"name": name, "own_reference": uuid.uuid4().hex[:10]}))["odb_number"]
    for params in ({"odb_number": number}, {"q": name, "provider": str(provider.organisation_id)}):
        page = (await public_client.get("/v1/register/trainings", params=params)).json()
        assert set(page) == {"items", "next_cursor"} and page["items"], params
        item = page["items"][0]
        assert set(item) == set(RegisteredTraining.model_fields), set(item) ^ set(RegisteredTraining.model_fields)
        RegisteredTraining.model_validate(item)
        assert (item["match"] is None) == ("q" not in params)
    detail = (await public_client.get(f"/v1/register/trainings/{number}")).json()
    assert set(detail) == set(RegisteredTrainingDetail.model_fields), set(detail) ^ set(RegisteredTrainingDetail.model_fields)
    RegisteredTrainingDetail.model_validate(detail)


async def test_a_repeated_submission_answers_the_same_dossier(provider):
    application = await draft(provider, contact=contact(), training=training(), self_analysis=self_analysis(), deciding_body=deciding_body())
    key = uuid.uuid4().hex
    first = await submit(provider, application["application_id"], key)
    again = await submit(provider, application["application_id"], key)
    assert first.status_code == again.status_code == 200
    assert first.json()["dossier_number"] == again.json()["dossier_number"] and set(again.json()) == set(ProviderApplication.model_fields)


async def test_the_back_office_dossier_names_its_organisation_and_the_reference_of_its_emails(registration, provider, case_handler):
    # N-1: a portal finds the dossier's emails in the notification log by this reference.
    result = await submitted(provider)
    dossier = (await case_handler.client.get(f"/v1/back-office/applications/{result['application_id']}")).json()
    assert dossier["organisation_name"] == await registration.fetchval(
        "SELECT name FROM organisations_projection WHERE organisation_id = $1", provider.organisation_id
    )
    requested = await registration.emails(dossier["notification_reference"])
    assert [e["template_id"] for e in requested] == ["registration.application_submitted"]
