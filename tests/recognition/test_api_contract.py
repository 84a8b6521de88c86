"""The recognition service's contracts, over the real stack: the OpenAPI document validates, types
every answer and is complete (every operation with its id, summary, security, the problems it
answers and request models that refuse unknown fields; each part's PUT with the part's own model);
the service reads bodies, text and parameters exactly as the document says, and answers no 500 at
the edges of the calendar; answers carry exactly the documented fields; the AsyncAPI document lists
every event the service publishes and the delivery facts it consumes."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel

import recognition as recognition_package
import wse_contracts.recognition
from recognition.parts import PART_MODELS
from recognition.views.schemas import (
    ApplicationSummary,
    BackOfficeApplication,
    ChangeReportItem,
    ProviderApplication,
    QueueItem,
    RecognisedProvider,
    RecognitionOut,
)
from tests import contract
from tests.recognition.conftest import back_office, decided, draft, examined, simplified, submitted, territory
from wse_contracts import Event
from wse_contracts.notification import NotificationDeliveredV1, NotificationFailedV1, NotificationRequestedV1

pytestmark = pytest.mark.slow

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
TOKEN = [{"platformToken": []}]

# Every operation, its success status and the problems it answers: 401 and 403 for a token without
# the right, 422 for a parameter or body field, 400 and 413 for a JSON body, and what its use case
# answers (404 unknown, 409 not in a state that allows it).
BODY = {"400", "413", "422"}
SIGNED_IN = {"401", "403"}
OPERATIONS: dict[str, tuple[str, set[str]]] = {
    "POST /v1/provider/applications": ("201", SIGNED_IN | {"404", "409", "422"}),
    "GET /v1/provider/applications": ("200", SIGNED_IN | {"422"}),
    "GET /v1/provider/applications/{application_id}": ("200", SIGNED_IN | {"404", "422"}),
    **{f"PUT /v1/provider/applications/{{application_id}}/parts/{name}": ("200", SIGNED_IN | BODY | {"404", "409"}) for name in PART_MODELS},
    "POST /v1/provider/applications/{application_id}/submit": ("200", SIGNED_IN | {"404", "409", "422"}),
    "POST /v1/provider/applications/{application_id}/information-requests/{request_id}/answer": ("200", SIGNED_IN | BODY | {"404", "409"}),
    "POST /v1/provider/applications/{application_id}/reconsideration": ("200", SIGNED_IN | BODY | {"404", "409"}),
    "GET /v1/provider/recognitions": ("200", SIGNED_IN),
    "GET /v1/provider/recognitions/{recognition_id}": ("200", SIGNED_IN | {"404", "422"}),
    "POST /v1/provider/recognitions/{recognition_id}/assignments": ("201", SIGNED_IN | BODY | {"404", "409"}),
    "POST /v1/provider/recognitions/{recognition_id}/assignments/{assignment_id}/end": ("200", SIGNED_IN | BODY | {"404"}),
    "POST /v1/provider/recognitions/{recognition_id}/change-reports": ("201", SIGNED_IN | BODY | {"404", "409"}),
    "GET /v1/back-office/queue": ("200", SIGNED_IN | {"422"}),
    "GET /v1/back-office/applications/{application_id}": ("200", SIGNED_IN | {"404", "422"}),
    "POST /v1/back-office/applications/{application_id}/admissibility": ("200", SIGNED_IN | BODY | {"404", "409"}),
    "POST /v1/back-office/applications/{application_id}/information-requests": ("201", SIGNED_IN | BODY | {"404", "409"}),
    "POST /v1/back-office/applications/{application_id}/advice": ("200", SIGNED_IN | BODY | {"404", "409"}),
    "POST /v1/back-office/applications/{application_id}/decision": ("200", SIGNED_IN | BODY | {"404", "409"}),
    "POST /v1/back-office/applications/{application_id}/reconsideration/hearing": ("200", SIGNED_IN | BODY | {"404", "409"}),
    "POST /v1/back-office/applications/{application_id}/reconsideration/advice": ("200", SIGNED_IN | BODY | {"404", "409"}),
    "POST /v1/back-office/applications/{application_id}/reconsideration/decision": ("200", SIGNED_IN | BODY | {"404", "409"}),
    "GET /v1/back-office/change-reports": ("200", SIGNED_IN | {"422"}),
    "POST /v1/back-office/change-reports/{report_id}/review": ("200", SIGNED_IN | BODY | {"404", "409"}),
    "GET /v1/back-office/recognitions/{recognition_id}": ("200", SIGNED_IN | {"404", "422"}),
    "GET /v1/recognised-providers": ("200", {"422"}),
}
LISTS = {"GET /v1/provider/applications", "GET /v1/back-office/queue", "GET /v1/back-office/change-reports", "GET /v1/recognised-providers"}


async def _document(client) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{method.upper()} {path}": operation for path, item in document["paths"].items() for method, operation in item.items()}


def _body_schema(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    return contract.resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])


async def test_the_document_validates_and_types_every_success_answer(public_client):
    document = await _document(public_client)
    validate(document)
    assert not contract.untyped_success_answers(document)
    for label, operation in _operations(document).items():
        success = [status for status in operation["responses"] if status.startswith("2")]
        assert len(success) == 1 and list(operation["responses"][success[0]]["content"]) == ["application/json"], label


async def test_every_operation_is_documented_with_its_id_summary_security_and_problems(public_client):
    operations = _operations(await _document(public_client))
    assert set(operations) == set(OPERATIONS), set(operations) ^ set(OPERATIONS)
    ids = [operation["operationId"] for operation in operations.values()]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[A-Za-z0-9]+", i) for i in ids), ids
    summaries = [(operation["tags"][0], operation["summary"]) for operation in operations.values()]
    assert len(set(summaries)) == len(summaries) and all(summary.strip() for _, summary in summaries), summaries
    for label, operation in operations.items():
        success, problems = OPERATIONS[label]
        assert set(operation["responses"]) == {success} | problems, (label, set(operation["responses"]) ^ ({success} | problems))
        for status in problems:
            assert operation["responses"][status]["content"] == PROBLEM, (label, status)
        if "401" in problems:
            assert "WWW-Authenticate" in operation["responses"]["401"]["headers"], label
        public = label == "GET /v1/recognised-providers"
        assert operation["security"] == ([] if public else TOKEN), label
        assert operation["tags"] == ["public" if public else "provider" if "/provider/" in label else "back office"], label


async def test_every_body_is_required_json_of_a_model_that_refuses_unknown_fields(public_client):
    document = await _document(public_client)
    for label, operation in _operations(document).items():
        if "requestBody" not in operation:
            assert label.startswith("GET ") or label in {"POST /v1/provider/applications", "POST /v1/provider/applications/{application_id}/submit"}, label
            continue
        body = operation["requestBody"]
        assert body["required"] is True and list(body["content"]) == ["application/json"], label
        assert _body_schema(document, operation)["additionalProperties"] is False, label
    # Every object the service takes or answers says exactly its fields; the runtime's generic
    # page is {items, next_cursor} and Problem is the runtime's (both checked here too).
    for name, schema in document["components"]["schemas"].items():
        if schema.get("type") != "object":
            continue
        if name.startswith("Page_"):
            assert set(schema["properties"]) == {"items", "next_cursor"} and schema["required"] == ["items"], name
        else:
            assert schema.get("additionalProperties") is False, name


async def test_each_part_is_saved_by_its_own_operation_with_the_parts_own_model(public_client):
    document = await _document(public_client)
    operations = _operations(document)
    for number, (name, model) in enumerate(PART_MODELS.items(), start=1):
        operation = operations[f"PUT /v1/provider/applications/{{application_id}}/parts/{name}"]
        assert operation["requestBody"]["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{model.__name__}"}, name
        schema = _body_schema(document, operation)
        assert set(schema["properties"]) == set(model.model_fields), name
        assert set(schema.get("required", [])) == {field for field, info in model.model_fields.items() if info.is_required()}, name
        assert operation["summary"] == f"Save part {number} ({name})" and "E-3" in operation["description"], name


async def test_lists_are_pages_with_a_limit_and_a_cursor(public_client):
    document = await _document(public_client)
    for label, operation in _operations(document).items():
        names = {parameter["name"] for parameter in operation.get("parameters", [])}
        if label in LISTS:
            answer = contract.resolve(document, operation["responses"]["200"]["content"]["application/json"]["schema"])
            assert set(answer["properties"]) == {"items", "next_cursor"} and {"limit", "cursor"} <= names, label
        else:
            assert not {"limit", "cursor"} & names, label
    queue = {p["name"]: p for p in _operations(document)["GET /v1/back-office/queue"]["parameters"]}
    assert queue["status"]["schema"] == {
        "type": "string",
        "enum": [
            "submitted",
            "in_examination",
            "awaiting_information",
            "advised",
            "reconsideration_requested",
            "reconsideration_heard",
            "reconsideration_advised",
        ],
        "description": "only applications in this state",
    }


# ------------------------------------------------------------------------------- read as documented


async def test_a_body_is_read_as_strictly_as_the_document_types_it(provider, case_handler, recognition):
    """JSON's types, not Python's lax conversions: 0 is no boolean, "40" no integer, a number no date."""
    application = await draft(provider)
    parts = f"/v1/provider/applications/{application['application_id']}/parts"
    for name, body, field, rule in [
        ("simplified", {**simplified(), "simplified": 0}, "simplified", "E-3"),
        ("territory", territory(capacity="40"), "capacity", "E-2"),
        ("territory", territory(capacity=True), "capacity", "E-2"),
    ]:
        refused = await provider.client.put(f"{parts}/{name}", json=body)
        assert refused.status_code == 422, (name, refused.text)
        assert [(e["field"], e["rule"]) for e in refused.json()["errors"]] == [(field, rule)], refused.text
    assert (await provider.client.get(f"/v1/provider/applications/{application['application_id']}")).json()["parts"] == {}
    recognised = await recognition.provider()
    recognition_id = (await decided(recognition, recognised, case_handler))["recognition"]["recognition_id"]
    refused = await recognised.client.post(f"/v1/provider/recognitions/{recognition_id}/assignments", json={"employer_name": "Bakkerij", "starts_on": 0})
    assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == ["starts_on"], refused.text
    not_an_object = await recognised.client.post(f"/v1/provider/recognitions/{recognition_id}/change-reports", json=["Een begeleider vertrekt."])
    assert not_an_object.status_code == 422 and not_an_object.json()["errors"] == [{"field": "body", "reason": "the body must be a JSON object"}]


async def test_a_body_that_is_no_json_is_a_400_and_a_missing_one_names_the_body(provider):
    application = await draft(provider)
    path = f"/v1/provider/applications/{application['application_id']}/parts/declaration"
    for raw in (b"{", b'{"signed_by": "\xff"}', '{"signed_by": "\udc80"}'.encode("utf-8", "surrogatepass")):  # the last two: no UTF-8
        response = await provider.client.put(path, content=raw, headers={"content-type": "application/json"})
        assert response.status_code == 400 and response.headers["content-type"].startswith("application/problem+json"), (raw, response.text)
        assert response.json()["detail"].startswith("The body is not valid JSON"), response.text
    missing = await provider.client.put(path)
    assert missing.status_code == 422 and [e["field"] for e in missing.json()["errors"]] == ["body"], missing.text


async def test_text_the_document_refuses_the_service_refuses_and_what_it_allows_it_takes(recognition, provider, case_handler, public_client):
    """A NUL character (PostgreSQL cannot store it) or only spaces (stripped, nothing is left)."""
    schemas = (await _document(public_client))["components"]["schemas"]
    reasons = schemas["AdmissibilityIn"]["properties"]["reasons"]["anyOf"][0]
    reconsideration = schemas["ReconsiderationIn"]["properties"]["motivation"]
    application = await submitted(provider)
    for text in ("Goed\x00gemotiveerd", " \t\u3000"):
        assert not re.fullmatch(reasons["pattern"], text), text
        refused = await case_handler.client.post(f"{back_office(application)}/admissibility", json={"outcome": "inadmissible", "reasons": text})
        assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == ["reasons"], refused.text
    assert re.fullmatch(reconsideration["pattern"], "  " + "x" * 40 + " ") and not re.fullmatch(reconsideration["pattern"], " " + "x" * 39 + "  ")
    assert re.fullmatch(reasons["pattern"], "\x1c")  # not a space Pydantic strips: taken as it is
    judged = await case_handler.client.post(f"{back_office(application)}/admissibility", json={"outcome": "inadmissible", "reasons": "  Onvolledig.  "})
    assert judged.status_code == 200 and judged.json()["admissibility_reasons"] == "Onvolledig.", judged.text


async def test_the_queue_status_is_one_of_its_enum_and_null_is_no_status(case_handler):
    for status in ("null", "draft", "granted"):
        refused = await case_handler.client.get("/v1/back-office/queue", params={"status": status})
        assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == ["status"], (status, refused.text)
    assert (await case_handler.client.get("/v1/back-office/queue", params={"status": "submitted"})).status_code == 200


async def test_an_id_that_is_no_uuid_is_a_documented_404(case_handler, provider):
    for client, path in [
        (case_handler, "/v1/back-office/change-reports/null/review"),
        (case_handler, "/v1/back-office/applications/0/decision"),
        (provider, "/v1/provider/recognitions/x/assignments"),
    ]:
        response = await client.client.post(path, json={})
        assert response.status_code == 404 and response.headers["content-type"].startswith("application/problem+json"), (path, response.text)


async def test_days_whose_terms_end_beyond_the_calendar_are_refused_by_name_not_a_500(recognition, provider, case_handler):
    """E-8's 5 years and E-9's 2 years are counted from the day given: the last days the calendar
    holds them for are the last days taken."""
    granted = await decided(recognition, provider, case_handler)
    recognition_id = granted["recognition"]["recognition_id"]
    today = recognition.today().isoformat()
    path = f"/v1/provider/recognitions/{recognition_id}/assignments"
    too_late = await provider.client.post(path, json={"employer_name": "Bakkerij", "starts_on": today, "ends_on": "9999-12-31"})
    assert too_late.status_code == 422 and [(e["field"], e["rule"]) for e in too_late.json()["errors"]] == [("ends_on", "E-9")], too_late.text
    assert "9997-11-29" in too_late.json()["errors"][0]["reason"]
    last = await provider.client.post(path, json={"employer_name": "Bakkerij", "starts_on": today, "ends_on": "9997-11-29"})
    assert last.status_code == 201, last.text
    assignment_id = last.json()["assignments"][-1]["assignment_id"]
    ended = await provider.client.post(f"{path}/{assignment_id}/end", json={"ends_on": "9999-12-31"})
    assert ended.status_code == 422 and [e["field"] for e in ended.json()["errors"]] == ["ends_on"], ended.text

    with_the_minister = await examined(recognition, await recognition.provider(), case_handler)
    advised = await case_handler.client.post(f"{back_office(with_the_minister)}/advice", json={"advice": "favourable", "motivation": "Voldoet."})
    assert advised.status_code == 200, advised.text
    for starts_on, status in [("9999-12-31", 422), ("9994-12-01", 422), ("9994-11-30", 200)]:
        response = await case_handler.client.post(
            f"{back_office(with_the_minister)}/decision", json={"outcome": "granted", "decided_on": today, "recognition_starts_on": starts_on}
        )
        assert response.status_code == status, (starts_on, response.text)
        if status == 422:
            assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [("recognition_starts_on", "E-8")], response.text
    assert response.json()["recognition"]["valid_until"] == "9999-11-29"


# ------------------------------------------------------------------------------- answers


def _exactly(model: type[BaseModel], answer: dict[str, Any]) -> None:
    assert set(answer) == set(model.model_fields), set(answer) ^ set(model.model_fields)
    model.model_validate(answer)


async def test_answers_carry_exactly_their_documented_fields(recognition, provider, case_handler, public_client):
    granted = await decided(recognition, provider, case_handler)
    mine = (await provider.client.get(f"/v1/provider/applications/{granted['application_id']}")).json()
    _exactly(ProviderApplication, mine)
    for internal in ("advice", "advice_motivation", "commission_advice", "history", "quality_registration", "deadline", "idempotency_key", "version"):
        assert internal not in mine
    _exactly(BackOfficeApplication, granted)
    recognition_id = granted["recognition"]["recognition_id"]
    _exactly(RecognitionOut, (await provider.client.get(f"/v1/provider/recognitions/{recognition_id}")).json())
    _exactly(RecognitionOut, (await case_handler.client.get(f"/v1/back-office/recognitions/{recognition_id}")).json())
    for item in (await provider.client.get("/v1/provider/recognitions")).json():
        _exactly(RecognitionOut, item)
    for item in (await provider.client.get("/v1/provider/applications")).json()["items"]:
        _exactly(ApplicationSummary, item)
    reported = await provider.client.post(f"/v1/provider/recognitions/{recognition_id}/change-reports", json={"description": "Een begeleider vertrekt."})
    assert reported.status_code == 201
    await submitted(await recognition.provider())
    for path, model in [("/v1/back-office/queue", QueueItem), ("/v1/back-office/change-reports", ChangeReportItem)]:
        page = (await case_handler.client.get(path, params={"limit": 100})).json()
        assert set(page) == {"items", "next_cursor"} and page["items"], path
        for item in page["items"]:
            _exactly(model, item)
    public = (await public_client.get("/v1/recognised-providers", params={"limit": 100})).json()
    assert public["items"]
    for item in public["items"]:
        _exactly(RecognisedProvider, item)


# ------------------------------------------------------------------------------- AsyncAPI


# What the service publishes: every event of its contracts, and the emails it asks the notification service for.
PUBLISHED: list[type[Event]] = [
    value
    for name, value in vars(wse_contracts.recognition).items()
    if isinstance(value, type) and issubclass(value, Event) and value.__module__ == wse_contracts.recognition.__name__ and not name.startswith("_")
] + [NotificationRequestedV1]


def _events_the_code_builds() -> set[str]:
    """The events the service's code constructs, by name: its own, and a notification request
    wherever it sends an email (the runtime's `send_email`, or wse_contracts.emails.email_request)."""
    names = {event.__name__ for event in PUBLISHED}
    built = set()
    for source in Path(recognition_package.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in names:
                    built.add(node.func.id)
                elif node.func.id in ("email_request", "send_email"):
                    built.add(NotificationRequestedV1.__name__)
    return built


def _message_payload(document: dict[str, Any], channel: dict[str, Any]) -> list[dict[str, Any]]:
    return [document["components"]["messages"][message["$ref"].rsplit("/", 1)[-1]]["payload"] for message in channel["messages"].values()]


def _channels(document: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [document["channels"][o["channel"]["$ref"].rsplit("/", 1)[-1]] for o in document["operations"].values() if o["action"] == action]


def test_the_asyncapi_document_lists_every_event_the_service_publishes(recognition):
    document = recognition.runtime.asyncapi()
    assert document["asyncapi"].startswith("3.")
    # What the code builds is what the contracts define: no event goes undocumented, none is never sent.
    assert _events_the_code_builds() == {event.__name__ for event in PUBLISHED}
    sent: dict[str, str] = {}
    for channel in _channels(document, "send"):
        for payload in _message_payload(document, channel):
            sent[payload["$ref"].rsplit("/", 1)[-1]] = channel["address"]
    assert set(sent) == {event.__name__ for event in PUBLISHED} | {"DeadLetterV1"}, set(sent) ^ {event.__name__ for event in PUBLISHED}
    for event in PUBLISHED:
        assert sent[event.__name__] == event.topic, event.__name__
        assert set(document["components"]["schemas"][event.__name__]["properties"]) == set(event.model_fields), event.__name__
    assert set(sent.values()) == {"recognition.applications", "recognition.recognitions", "notification.requests", "recognition.dead-letters"}


def test_the_asyncapi_document_lists_the_delivery_facts_it_consumes(recognition):
    document = recognition.runtime.asyncapi()
    received = {channel["address"]: channel for channel in _channels(document, "receive")}
    assert set(received) == {"notification.deliveries", "identity.rights", "identity.organisations"}
    [payload] = _message_payload(document, received["notification.deliveries"])
    assert payload == {"oneOf": [{"$ref": f"#/components/schemas/{model.__name__}"} for model in (NotificationDeliveredV1, NotificationFailedV1)]}
    for model in (NotificationDeliveredV1, NotificationFailedV1):
        assert set(document["components"]["schemas"][model.__name__]["properties"]) == set(model.model_fields), model.__name__
