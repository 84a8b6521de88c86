"""What issue 11 asks of the notification service's API, over the real stack: the document validates
and types every answer; every operation documents the problems it answers and needs a token;
answers carry exactly the documented fields; both lists are pages walked with a keyset cursor (a
cursor the service did not give out is a 422 on `cursor`); the preview's body is required."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from notification.schemas import DeliveryLogEntryOut, NotificationOut, NotificationSummaryOut, PreviewOut, TemplateOut
from tests import contract
from tests.notification.conftest import operator_client
from tests.notification.test_delivery import SUBMITTED

pytestmark = pytest.mark.slow


@pytest.fixture
async def operator(notifications, registration, department):
    async with await operator_client(notifications, registration, department) as client:
        yield client


@pytest.fixture
async def anonymous(notifications):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=notifications.runtime.app()), base_url="http://notification") as client:
        yield client


async def _document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


async def test_the_document_validates_types_every_answer_and_documents_the_problems(anonymous):
    document = await _document(anonymous)
    validate(document)
    operations = {f"{method.upper()} {path}": operation for path, item in document["paths"].items() for method, operation in item.items()}
    assert set(operations) == {
        "GET /v1/notifications",
        "GET /v1/notifications/{notification_id}",
        "GET /v1/templates",
        "POST /v1/templates/{template_id}/preview",
    }
    for label, operation in operations.items():
        assert operation["security"] == [{"platformToken": []}], label
        success = operation["responses"]["200"]["content"]
        assert list(success) == ["application/json"], label
        assert contract.resolve(document, success["application/json"]["schema"]).get("properties"), label
        assert {"401", "403"} <= set(operation["responses"]), label
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                assert response["content"] == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}, (label, status)
    assert "404" in operations["GET /v1/notifications/{notification_id}"]["responses"]
    preview = operations["POST /v1/templates/{template_id}/preview"]
    assert {"400", "404", "413", "422"} <= set(preview["responses"]) and preview["requestBody"]["required"] is True
    assert contract.resolve(document, preview["requestBody"]["content"]["application/json"]["schema"])["additionalProperties"] is False
    for label in ("GET /v1/notifications", "GET /v1/templates"):
        page = contract.resolve(document, operations[label]["responses"]["200"]["content"]["application/json"]["schema"])
        assert set(page["properties"]) == {"items", "next_cursor"}, label
        names = {p["name"] for p in operations[label]["parameters"]}
        assert {"limit", "cursor"} <= names, label


async def test_answers_carry_exactly_the_documented_fields(notifications, operator):
    request = await notifications.request(template_id="registration.application_submitted", personalisation=SUBMITTED)
    await notifications.settled(request.reference, "delivered")
    listed = (await operator.get("/v1/notifications", params={"reference": request.reference})).json()
    assert set(listed) == {"items", "next_cursor"} and listed["next_cursor"] is None
    [item] = listed["items"]
    assert set(item) == set(NotificationSummaryOut.model_fields)
    one = (await operator.get(f"/v1/notifications/{item['notification_id']}")).json()
    assert set(one) == set(NotificationOut.model_fields) and all(set(line) == set(DeliveryLogEntryOut.model_fields) for line in one["log"])
    assert one["personalisation"] == SUBMITTED and one["recipient_name"] == "Contact Persoon"
    templates = (await operator.get("/v1/templates")).json()
    assert all(set(t) == set(TemplateOut.model_fields) for t in templates["items"])
    preview = (await operator.post("/v1/templates/registration.application_submitted/preview", json={"personalisation": SUBMITTED})).json()
    assert set(preview) == set(PreviewOut.model_fields)


async def test_the_delivery_log_and_the_templates_are_pages_walked_with_a_cursor(notifications, operator):
    reference = f"dossier-{uuid.uuid4().hex[:8]}"
    for _ in range(3):
        request = await notifications.request(template_id="registration.application_submitted", personalisation=SUBMITTED, reference=reference)
    await notifications.settled(request.reference, "delivered")
    everything = (await operator.get("/v1/notifications", params={"reference": reference})).json()["items"]
    assert len(everything) == 3 and [n["created_at"] for n in everything] == sorted((n["created_at"] for n in everything), reverse=True)
    seen, cursor = [], None
    while True:
        page = (await operator.get("/v1/notifications", params={"reference": reference, "limit": 2, **({"cursor": cursor} if cursor else {})})).json()
        assert len(page["items"]) <= 2
        seen += [n["notification_id"] for n in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == [n["notification_id"] for n in everything]
    all_templates = (await operator.get("/v1/templates", params={"limit": 100})).json()
    first = (await operator.get("/v1/templates", params={"limit": 3})).json()
    rest = (await operator.get("/v1/templates", params={"limit": 100, "cursor": first["next_cursor"]})).json()
    assert first["items"] + rest["items"] == all_templates["items"] and rest["next_cursor"] is None and len(all_templates["items"]) > 3
    keys = [(t["template_id"], t["version"]) for t in all_templates["items"]]
    assert keys == sorted(keys)


# Not base64 of a list; a list of the wrong length; null; not base64url; and for the log a moment
# without its zone (["2026-01-01T00:00:00","1"]), for the templates a version that is no integer.
@pytest.mark.parametrize(("path", "wrong_key"), [("/v1/notifications", "WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwiMSJd"), ("/v1/templates", "WyJhLmIiLCJ2MSJd")])
async def test_a_cursor_the_service_did_not_give_out_is_a_field_error(operator, path, wrong_key):
    for cursor in ("nonsense", "WzEsMl0", "bnVsbA", "€", wrong_key):
        response = await operator.get(path, params={"cursor": cursor})
        assert response.status_code == 422, (cursor, response.text)
        assert [e["field"] for e in response.json()["errors"]] == ["cursor"]
    assert (await operator.get(path, params={"limit": 101})).status_code == 422
    assert (await operator.get(path, params={"limit": 0})).status_code == 422


async def test_the_preview_needs_its_body_and_a_template_id_of_the_documented_form(operator):
    missing = await operator.post("/v1/templates/registration.application_submitted/preview")
    assert missing.status_code == 422 and [e["field"] for e in missing.json()["errors"]] == ["body"], missing.text
    broken = await operator.post("/v1/templates/registration.application_submitted/preview", content=b"{", headers={"content-type": "application/json"})
    assert broken.status_code == 400 and broken.headers["content-type"].startswith("application/problem+json"), broken.text
    assert (await operator.post("/v1/templates/Not-A-Template/preview", json={})).status_code == 422
    assert (await operator.post("/v1/templates/registration.no_such_email/preview", json={})).status_code == 404


async def test_without_a_token_every_operation_answers_401_with_www_authenticate(anonymous):
    for method, path in [
        ("GET", "/v1/notifications"),
        ("GET", f"/v1/notifications/{uuid.uuid4()}"),
        ("GET", "/v1/templates"),
        ("POST", "/v1/templates/registration.application_submitted/preview"),
    ]:
        response = await anonymous.request(method, path, json={} if method == "POST" else None)
        assert response.status_code == 401 and response.headers["www-authenticate"].startswith("Bearer"), (path, response.text)
