"""The attestation service's contracts, over the real stack: the OpenAPI document validates, types
every answer and is complete (every operation with its id, summary, security, the problems it
answers, request models that refuse unknown fields, pages with a limit and a cursor); the service
reads bodies, text and parameters exactly as the document says; answers carry exactly the
documented fields; no answer and no error carries a national register number, but for the
department's reimbursement export (by design, audited) and the masked look-up; the AsyncAPI
document lists every event the service publishes and what it consumes."""

from __future__ import annotations

import ast
import asyncio
import base64
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel

import attestation as attestation_package
import wse_contracts.attestation
import wse_contracts.emails
from attestation.definition import service as attestation_service
from attestation.views.schemas import (
    AttestationOut,
    AttestedOut,
    HistoryOut,
    ReceiptOut,
    SearchItem,
    StudentOut,
    TrainingLeaveOut,
)
from service_runtime import pii
from tests import contract
from tests.attestation.conftest import attendance, enrolment, nrn
from wse_contracts import Event
from wse_contracts.identity import PersonRegisteredV1
from wse_contracts.notification import NotificationRequestedV1
from wse_contracts.registration import TrainingRegisteredV1, TrainingReplacedV1, TrainingStoppedV1

pytestmark = pytest.mark.slow

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
TOKEN = [{"platformToken": []}]

# Every operation, its success status and the problems it answers: 401 and 403 for a token without
# the right, 422 for a parameter or body field, 400 and 413 for a JSON body, and what its use case
# answers (404 unknown or another organisation's, 409 not in a state that allows it).
BODY = {"400", "413", "422"}
SIGNED_IN = {"401", "403"}
OPERATIONS: dict[str, tuple[str, set[str]]] = {
    "POST /v1/provider/enrolments": ("201", SIGNED_IN | BODY),
    "GET /v1/provider/enrolments": ("200", SIGNED_IN | {"422"}),
    "GET /v1/provider/enrolments/{attestation_id}": ("200", SIGNED_IN | {"404", "422"}),
    "PUT /v1/provider/enrolments/{attestation_id}": ("200", SIGNED_IN | BODY | {"404"}),
    "DELETE /v1/provider/enrolments/{attestation_id}": ("200", SIGNED_IN | {"404", "409", "422"}),
    "GET /v1/provider/enrolments/{attestation_id}/history": ("200", SIGNED_IN | {"404", "422"}),
    "POST /v1/provider/attendances": ("201", SIGNED_IN | BODY),
    "GET /v1/provider/attendances": ("200", SIGNED_IN | {"422"}),
    "GET /v1/provider/attendances/{attestation_id}": ("200", SIGNED_IN | {"404", "422"}),
    "DELETE /v1/provider/attendances/{attestation_id}": ("200", SIGNED_IN | {"404", "409", "422"}),
    "GET /v1/provider/attendances/{attestation_id}/history": ("200", SIGNED_IN | {"404", "422"}),
    # The raw file as the body (CSV or JSON Lines), not JSON: no 400; 415 for another media type.
    "POST /v1/provider/bulk": ("201", SIGNED_IN | {"413", "415", "422"}),
    "GET /v1/provider/receipts": ("200", SIGNED_IN | {"422"}),
    "GET /v1/provider/receipts/{receipt_id}": ("200", SIGNED_IN | {"404", "422"}),
    "GET /v1/provider/receipts/{receipt_id}/problems": ("200", SIGNED_IN | {"404", "422"}),
    "GET /v1/back-office/attestations": ("200", SIGNED_IN | {"422"}),
    "POST /v1/back-office/students": ("200", SIGNED_IN | BODY | {"404"}),
    "GET /v1/back-office/entitlements.csv": ("200", SIGNED_IN | {"422"}),
    "GET /v1/citizen/training-leave": ("200", SIGNED_IN),
}
LISTS = {
    "GET /v1/provider/enrolments",
    "GET /v1/provider/attendances",
    "GET /v1/provider/receipts",
    "GET /v1/provider/receipts/{receipt_id}/problems",
    "GET /v1/back-office/attestations",
}
NOT_JSON = {"GET /v1/back-office/entitlements.csv": "text/csv"}  # the export's answer
FILE_BODY = {"POST /v1/provider/bulk"}  # the body is the file itself


async def _document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{method.upper()} {path}": operation for path, item in document["paths"].items() for method, operation in item.items()}


@pytest.fixture
async def public_client(attestation):
    async with attestation.client() as client:
        yield client


async def test_the_document_validates_and_types_every_success_answer(public_client):
    document = await _document(public_client)
    validate(document)
    assert not contract.untyped_success_answers(document)
    for label, operation in _operations(document).items():
        success = [status for status in operation["responses"] if status.startswith("2")]
        assert len(success) == 1 and list(operation["responses"][success[0]]["content"]) == [NOT_JSON.get(label, "application/json")], label


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
        assert "WWW-Authenticate" in operation["responses"]["401"]["headers"], label
        # Nothing is public (health is not in the document): every operation needs a platform token.
        assert operation["security"] == TOKEN, label
        audience = label.split()[1].split("/")[2]
        assert operation["tags"] == [{"provider": "provider", "back-office": "back office", "citizen": "citizen"}[audience]], label


async def test_every_body_is_required_json_of_a_model_that_refuses_unknown_fields(public_client):
    document = await _document(public_client)
    for label, operation in _operations(document).items():
        if "requestBody" not in operation:
            assert label.startswith(("GET ", "DELETE ")), label
            continue
        body = operation["requestBody"]
        assert body["required"] is True, label
        if label in FILE_BODY:
            assert set(body["content"]) == {"text/csv", "application/jsonl", "application/x-ndjson"}, label
            assert all((content["schema"]["type"], content["schema"]["format"]) == ("string", "binary") for content in body["content"].values()), label
            continue
        assert list(body["content"]) == ["application/json"], label
        assert contract.resolve(document, body["content"]["application/json"]["schema"])["additionalProperties"] is False, label
    # Every object the service takes or answers says exactly its fields; the runtime's generic
    # page is {items, next_cursor} and Problem is the runtime's (both checked here too).
    for name, schema in document["components"]["schemas"].items():
        if schema.get("type") != "object":
            continue
        if name.startswith("Page_"):
            assert set(schema["properties"]) == {"items", "next_cursor"} and schema["required"] == ["items"], name
        else:
            assert schema.get("additionalProperties") is False, name
            for field, property_schema in schema["properties"].items():
                assert not contract.untyped(document, property_schema) or property_schema == {"type": "null"}, (name, field)


async def test_lists_are_pages_with_a_limit_and_a_cursor(public_client):
    document = await _document(public_client)
    for label, operation in _operations(document).items():
        names = {parameter["name"] for parameter in operation.get("parameters", [])}
        if label in LISTS:
            answer = contract.resolve(document, operation["responses"]["200"]["content"]["application/json"]["schema"])
            assert set(answer["properties"]) == {"items", "next_cursor"} and {"limit", "cursor"} <= names, label
        else:
            assert not {"limit", "cursor"} & names, label


# ------------------------------------------------------------------------------- read as documented


async def test_a_body_is_read_as_strictly_as_the_document_types_it(attestation, provider):
    """JSON's types, not Python's lax conversions: a number of seconds is no date, "true" no
    boolean, a number no reference, true no number of hours."""
    odb = await attestation.training(provider)
    seconds = int(datetime(2026, 9, 15, tzinfo=UTC).timestamp())
    for path, body, field, rule in [
        ("/v1/provider/enrolments", enrolment(odb, nrn(), starts_on=seconds), "starts_on", "A-2"),
        ("/v1/provider/enrolments", enrolment(odb, nrn(), reference=20260001), "reference", "A-2"),
    ]:
        refused = await provider.client.post(path, json=body)
        assert refused.status_code == 422, (field, refused.text)
        assert [(e["field"], e["rule"]) for e in refused.json()["errors"]] == [(field, rule)], refused.text
    enrolled = enrolment(odb, nrn())
    assert (await provider.client.post("/v1/provider/enrolments", json=enrolled)).status_code == 201
    for overrides, field, rule in [({"completed": "true"}, "completed", "A-5"), ({"hours": True}, "hours", "A-2"), ({"period_from": 0}, "period_from", "A-2")]:
        refused = await provider.client.post("/v1/provider/attendances", json=attendance(enrolled, **overrides))
        assert refused.status_code == 422, (overrides, refused.text)
        assert [(e["field"], e["rule"]) for e in refused.json()["errors"]] == [(field, rule)], refused.text
    assert (await provider.client.get("/v1/provider/attendances", params={"odb_number": odb})).json()["items"] == []
    not_an_object = await provider.client.post("/v1/provider/enrolments", json=[enrolled])
    assert not_an_object.status_code == 422 and not_an_object.json()["errors"] == [{"field": "body", "reason": "the body must be a JSON object"}]


async def test_a_body_that_is_no_json_is_a_400_and_a_missing_one_names_the_body(provider, department_staff):
    for client, path in [(provider.client, "/v1/provider/enrolments"), (department_staff.client, "/v1/back-office/students")]:
        for raw in (b"{", b'{"national_register_number": "\xff"}', '{"national_register_number": "\udc80"}'.encode("utf-8", "surrogatepass")):
            response = await client.post(path, content=raw, headers={"content-type": "application/json"})
            assert response.status_code == 400 and response.headers["content-type"].startswith("application/problem+json"), (raw, response.text)
            assert response.json()["detail"].startswith("The body is not valid JSON"), response.text
        missing = await client.post(path)
        assert missing.status_code == 422 and [e["field"] for e in missing.json()["errors"]] == ["body"], missing.text


async def test_text_the_document_refuses_the_service_refuses(attestation, provider, public_client):
    """A NUL character (PostgreSQL cannot store it) or only spaces (stripped, nothing is left);
    a module may be empty (an integral training) but holds no NUL either."""
    schemas = (await _document(public_client))["components"]["schemas"]
    reference, module = schemas["EnrolmentIn"]["properties"]["reference"], schemas["EnrolmentIn"]["properties"]["module"]
    odb = await attestation.training(provider)
    for field, text in [("reference", "INS\x00-1"), ("reference", " \t\u3000"), ("last_name", "Pee\x00ters"), ("module", "Las\x00sen")]:
        assert not re.fullmatch((module if field == "module" else reference)["pattern"], text), text
        refused = await provider.client.post("/v1/provider/enrolments", json=enrolment(odb, nrn(), **{field: text}))
        assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == [field], refused.text
    assert re.fullmatch(module["pattern"], "") and re.fullmatch(reference["pattern"], "  INS-1 ")
    taken = await provider.client.post("/v1/provider/enrolments", json=enrolment(odb, nrn(), reference="  INS-contract-1 "))
    assert taken.status_code == 201 and taken.json()["attestation"]["reference"] == "INS-contract-1", taken.text


async def test_hours_are_taken_exactly_in_the_documented_forms(attestation, provider, public_client):
    hours = (await _document(public_client))["components"]["schemas"]["AttendanceIn"]["properties"]["hours"]
    [number, text] = hours["anyOf"]
    assert number == {"type": "number", "minimum": 0, "maximum": 10000}
    odb = await attestation.training(provider)
    enrolled = enrolment(odb, nrn())
    assert (await provider.client.post("/v1/provider/enrolments", json=enrolled)).status_code == 201
    for month, (given, stored) in enumerate([("7.5", "7.50"), ("0", "0.00"), (7.25, "7.25"), (3, "3.00"), ("0012.1", "12.10")], start=1):
        assert not isinstance(given, str) or re.fullmatch(text["pattern"], given), given
        period = {"period_from": f"2027-0{month}-01", "period_to": f"2027-0{month}-28"}
        taken = await provider.client.post("/v1/provider/attendances", json=attendance(enrolled, hours=given, **period))
        assert taken.status_code == 201 and taken.json()["attestation"]["hours"] == stored, (given, taken.text)
    for given in ("7.555", "abc", " 7", "1e3", "NaN", "-1", "10000.01", 7.555, 10000.5, "", None):
        assert not isinstance(given, str) or not re.fullmatch(text["pattern"], given), given
        refused = await provider.client.post(
            "/v1/provider/attendances", json=attendance(enrolled, hours=given, period_from="2027-06-01", period_to="2027-06-30")
        )
        assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == ["hours"], (given, refused.text)


async def test_an_odb_number_filter_is_an_odb_number(attestation, provider, department_staff, public_client):
    """As the document's pattern says: what the forms take, in either case; not text of any kind."""
    operations = _operations(await _document(public_client))
    patterns = {
        label: next(p["schema"]["pattern"] for p in operations[label]["parameters"] if p["name"] == "odb_number")
        for label in ("GET /v1/provider/enrolments", "GET /v1/provider/attendances", "GET /v1/back-office/attestations")
    }
    odb = await attestation.training(provider)
    assert (await provider.client.post("/v1/provider/enrolments", json=enrolment(odb, nrn()))).status_code == 201
    for client, path in [(provider.client, "/v1/provider/enrolments"), (department_staff.client, "/v1/back-office/attestations")]:
        pattern = patterns[f"GET {path}"]
        for given in (odb, odb.lower()):
            assert re.fullmatch(pattern, given)
            found = await client.get(path, params={"odb_number": given})
            assert found.status_code == 200 and len(found.json()["items"]) == 1, found.text
        for given in (f" {odb}", f"{odb}\x00", "Lastechnieken", "ODB-"):
            assert not re.fullmatch(pattern, given), given
            refused = await client.get(path, params={"odb_number": given})
            assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == ["odb_number"], (given, refused.text)


async def test_an_id_that_is_no_uuid_is_a_documented_404(provider):
    for method, path in [
        ("GET", "/v1/provider/enrolments/null"),
        ("DELETE", "/v1/provider/attendances/0"),
        ("GET", "/v1/provider/receipts/x/problems"),
    ]:
        response = await provider.client.request(method, path)
        assert response.status_code == 404 and response.headers["content-type"].startswith("application/problem+json"), (path, response.text)


async def test_the_same_attestation_sent_twice_at_once_is_stored_once_not_a_500(attestation, provider):
    """A double click or a retry after a timeout: each answered as documented (201), one accepted
    and the others unchanged (idempotent on the reference), each with its receipt (A-9)."""
    odb = await attestation.training(provider)
    enrolled = enrolment(odb, nrn())
    for path, body in [("/v1/provider/enrolments", enrolled), ("/v1/provider/attendances", attendance(enrolled))]:
        answered = await asyncio.gather(*[provider.client.post(path, json=body) for _ in range(4)])
        assert [r.status_code for r in answered] == [201] * 4, [r.text for r in answered]
        assert sorted(r.json()["outcome"] for r in answered) == ["accepted", "unchanged", "unchanged", "unchanged"], [r.text for r in answered]
        assert len({r.json()["attestation"]["attestation_id"] for r in answered}) == 1 and len({r.json()["receipt"]["receipt_id"] for r in answered}) == 4
    for kind in ("enrolments", "attendances"):
        assert len((await provider.client.get(f"/v1/provider/{kind}", params={"odb_number": odb})).json()["items"]) == 1, kind


async def test_a_report_cursor_beyond_the_row_numbers_is_no_500(provider, attestation):
    """The report's cursor carries a row number: any the cursor's reader takes, the query takes."""
    odb = await attestation.training(provider)
    receipt_id = (await provider.client.post("/v1/provider/enrolments", json=enrolment(odb, nrn()))).json()["receipt"]["receipt_id"]
    for row_number in ("2147483648", "-9999999999", str(2**63 - 1)):
        cursor = base64.urlsafe_b64encode(json.dumps([row_number, "odb_number"]).encode()).decode().rstrip("=")
        page = await provider.client.get(f"/v1/provider/receipts/{receipt_id}/problems", params={"cursor": cursor})
        assert page.status_code == 200 and page.json() == {"items": [], "next_cursor": None}, (row_number, page.text)


# ------------------------------------------------------------------------------- answers


def _exactly(model: type[BaseModel], answer: dict[str, Any]) -> None:
    """The model's fields, no more and no fewer; the nested ones too (every answer model forbids
    unknown fields and requires each of its own)."""
    assert set(answer) == set(model.model_fields), set(answer) ^ set(model.model_fields)
    model.model_validate(answer)


async def test_answers_carry_exactly_their_documented_fields(attestation, provider, department_staff):
    number = nrn(date(1991, 2, 3))
    odb = await attestation.training(provider)
    enrolled = enrolment(odb, number)
    made = await provider.client.post("/v1/provider/enrolments", json=enrolled)
    _exactly(AttestedOut, made.json())
    for internal in ("organisation_id", "receipt_id", "enrolment_id", "created_at", "national_register_number", "nrn_index", "nrn_encrypted"):
        assert internal not in made.json()["attestation"]
    enrolment_id = made.json()["attestation"]["attestation_id"]
    _exactly(AttestedOut, (await provider.client.put(f"/v1/provider/enrolments/{enrolment_id}", json={**enrolled, "ends_on": "2027-05-31"})).json())
    kept = await provider.client.post("/v1/provider/attendances", json=attendance(enrolled, period_from="2027-01-01", period_to="2027-01-31", hours="8"))
    _exactly(AttestedOut, kept.json())
    attended = await provider.client.post("/v1/provider/attendances", json=attendance(enrolled, hours="32"))
    _exactly(AttestedOut, attended.json())
    attendance_id = attended.json()["attestation"]["attestation_id"]
    corrected = await provider.client.post("/v1/provider/attendances", json=attendance(enrolled, hours="33.5"))
    assert corrected.status_code == 201 and corrected.json()["attestation"]["version"] == 2, corrected.text
    _exactly(AttestationOut, (await provider.client.delete(f"/v1/provider/attendances/{attendance_id}")).json())
    for kind, attestation_id, actions in [("enrolments", enrolment_id, ["corrected"]), ("attendances", attendance_id, ["corrected", "withdrawn"])]:
        _exactly(AttestationOut, (await provider.client.get(f"/v1/provider/{kind}/{attestation_id}")).json())
        history = (await provider.client.get(f"/v1/provider/{kind}/{attestation_id}/history")).json()
        assert [h["action"] for h in history] == actions, history
        for version in history:
            _exactly(HistoryOut, version)
        page = (await provider.client.get(f"/v1/provider/{kind}", params={"odb_number": odb})).json()
        assert set(page) == {"items", "next_cursor"} and attestation_id in [item["attestation_id"] for item in page["items"]], page
        for item in page["items"]:
            _exactly(AttestationOut, item)
    # what a correction replaced: the earlier hours and period, in the version's own fields
    assert history[0]["content"]["hours"] == "32.00" and history[0]["content"]["period_from"] == "2026-09-15" and history[1]["content"]["hours"] == "33.50"
    receipt_id = made.json()["receipt"]["receipt_id"]
    _exactly(ReceiptOut, (await provider.client.get(f"/v1/provider/receipts/{receipt_id}")).json())
    for item in (await provider.client.get("/v1/provider/receipts", params={"limit": 100})).json()["items"]:
        _exactly(ReceiptOut, item)
    problems = (await provider.client.get(f"/v1/provider/receipts/{receipt_id}/problems")).json()
    assert problems == {"items": [], "next_cursor": None}
    # the department's and the citizen's
    found = (await department_staff.client.get("/v1/back-office/attestations", params={"odb_number": odb})).json()
    assert set(found) == {"items", "next_cursor"} and len(found["items"]) == 1
    _exactly(SearchItem, found["items"][0])
    student = await department_staff.client.post("/v1/back-office/students", json={"national_register_number": number})
    _exactly(StudentOut, student.json())
    assert student.json()["school_years"][0]["counted_hours"] == "8.00" and len(student.json()["attestations"]) == 3, student.text
    citizen = await attestation.citizen(number)
    async with citizen:
        _exactly(TrainingLeaveOut, (await citizen.get("/v1/citizen/training-leave")).json())


# ------------------------------------------------------------------------------- national register numbers


def _forms(number: str) -> list[str]:
    """A number as it may appear: its digits, and as people type it (85.07.30-033.28, 850730-033-28)."""
    return [number, f"{number[:2]}.{number[2:4]}.{number[4:6]}-{number[6:9]}.{number[9:]}", f"{number[:6]}-{number[6:9]}-{number[9:]}"]


async def test_no_answer_or_error_carries_a_national_register_number(attestation, provider, other_provider, department_staff):
    """Every answer and refusal about a student, to the provider, the department and the citizen;
    the department's look-up shows it masked, and only the reimbursement export carries it."""
    number, other, typo = nrn(date(1992, 4, 5)), nrn(date(1993, 6, 7)), nrn(date(1994, 8, 9))
    typo = typo[:-1] + str((int(typo[-1]) + 1) % 10)  # a check digit off
    typed = _forms(number)[1]
    odb = await attestation.training(provider)
    enrolled = enrolment(odb, typed)
    answers: list[httpx.Response] = []

    async def seen(response: Any) -> httpx.Response:
        response = await response
        answers.append(response)
        return response

    made = await seen(provider.client.post("/v1/provider/enrolments", json=enrolled))
    assert made.status_code == 201, made.text
    enrolment_id, receipt_id = made.json()["attestation"]["attestation_id"], made.json()["receipt"]["receipt_id"]
    await seen(provider.client.post("/v1/provider/enrolments", json=enrolled))  # unchanged
    assert (await seen(provider.client.put(f"/v1/provider/enrolments/{enrolment_id}", json={**enrolled, "ends_on": "2027-05-31"}))).status_code == 200
    attended = await seen(provider.client.post("/v1/provider/attendances", json=attendance(enrolled, hours="32")))
    assert attended.status_code == 201, attended.text
    # refusals: a typo in the number, another student on the reference, the wrong number on the attendance
    for path, body in [
        ("/v1/provider/enrolments", enrolment(odb, typo)),
        ("/v1/provider/enrolments", {**enrolled, "national_register_number": other}),
        ("/v1/provider/attendances", attendance({**enrolled, "national_register_number": other})),
        ("/v1/provider/enrolments", {**enrolled, "national_register_number": f"{number}0"}),
        ("/v1/provider/enrolments", {**enrolled, "national_register_number": number, "nrn": number}),
    ]:
        refused = await seen(provider.client.post(path, json=body))
        assert refused.status_code == 422, refused.text
    for path in (
        f"/v1/provider/enrolments/{enrolment_id}",
        f"/v1/provider/enrolments/{enrolment_id}/history",
        "/v1/provider/enrolments",
        "/v1/provider/attendances",
        f"/v1/provider/attendances/{attended.json()['attestation']['attestation_id']}/history",
        f"/v1/provider/receipts/{receipt_id}",
        f"/v1/provider/receipts/{receipt_id}/problems",
        "/v1/provider/receipts",
    ):
        assert (await seen(provider.client.get(path))).status_code == 200, path
        assert (await seen(other_provider.client.get(path))).status_code in (200, 404), path
    assert (await seen(provider.client.delete(f"/v1/provider/attendances/{attended.json()['attestation']['attestation_id']}"))).status_code == 200
    # the department: the search, a look-up of an unknown number and of a typo
    assert (await seen(department_staff.client.get("/v1/back-office/attestations", params={"odb_number": odb}))).status_code == 200
    assert (await seen(department_staff.client.post("/v1/back-office/students", json={"national_register_number": other}))).status_code == 404
    assert (await seen(department_staff.client.post("/v1/back-office/students", json={"national_register_number": typo}))).status_code == 422
    # the citizen
    citizen = await attestation.citizen(number)
    async with citizen:
        assert (await seen(citizen.get("/v1/citizen/training-leave"))).status_code == 200
    for response in answers:
        for form in (*_forms(number), *_forms(other), *_forms(typo)):
            assert form not in response.text, (response.request.method, response.request.url.path, response.status_code)

    # The department's look-up shows the number masked, and only so.
    looked_up = await department_staff.client.post("/v1/back-office/students", json={"national_register_number": number})
    assert (
        looked_up.status_code == 200 and looked_up.json()["national_register_number"] == pii.mask(number) == f"{number[:2]}.{number[2:4]}.{number[4:6]}-***.**"
    )
    assert not any(form in looked_up.text for form in _forms(number))
    # The reimbursement export carries it by design (the process pays the student), audited.
    school_year = attended.json()["attestation"]["school_year"]
    exported = await department_staff.client.get("/v1/back-office/entitlements.csv", params={"school_year": school_year})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    [row] = [line for line in exported.text.splitlines() if line.startswith(number)]
    student_id = pii.pseudonym(pii.keys_for(attestation.runtime.settings), number)
    assert row.split(";")[-1] == student_id, row
    assert await attestation.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'attestation.entitlements.export' AND actor_id = $1 AND subject = $2",
        department_staff.person_id,
        school_year,
    )


# ------------------------------------------------------------------------------- AsyncAPI


def _constructed(names: set[str]) -> set[str]:
    """The classes of `names` the service's code calls, and a notification request wherever it
    builds an email (wse_contracts.emails.email_request)."""
    built = set()
    for source in Path(attestation_package.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in names:
                    built.add(node.func.id)
                elif node.func.id == "email_request":
                    built.add(NotificationRequestedV1.__name__)
    return built


def _message_payload(document: dict[str, Any], channel: dict[str, Any]) -> list[dict[str, Any]]:
    return [document["components"]["messages"][message["$ref"].rsplit("/", 1)[-1]]["payload"] for message in channel["messages"].values()]


def _channels(document: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [document["channels"][o["channel"]["$ref"].rsplit("/", 1)[-1]] for o in document["operations"].values() if o["action"] == action]


_NATIONAL_NUMBER_FIELD = re.compile(r"national|register|nrn|insz|rijksregister", re.IGNORECASE)


def test_the_asyncapi_document_lists_every_event_the_service_publishes(attestation):
    document = attestation.runtime.asyncapi()
    assert document["asyncapi"].startswith("3.")
    published: list[type[Event]] = list(attestation_service.publishes)
    # Every event of the attestation contracts is published, and what the code builds is what the
    # service declares: no event goes undocumented, none is documented and never sent.
    contracts = {
        value
        for name, value in vars(wse_contracts.attestation).items()
        if isinstance(value, type) and issubclass(value, Event) and value.__module__ == wse_contracts.attestation.__name__ and not name.startswith("_")
    }
    assert contracts <= set(published), contracts - set(published)
    assert _constructed({event.__name__ for event in (*contracts, NotificationRequestedV1)}) == {event.__name__ for event in published}
    sent: dict[str, str] = {}
    for channel in _channels(document, "send"):
        for payload in _message_payload(document, channel):
            sent[payload["$ref"].rsplit("/", 1)[-1]] = channel["address"]
    assert set(sent) == {event.__name__ for event in published} | {"DeadLetterV1"}, set(sent) ^ {event.__name__ for event in published}
    for event in published:
        assert sent[event.__name__] == event.topic, event.__name__
        schema = document["components"]["schemas"][event.__name__]
        assert set(schema["properties"]) == set(event.model_fields), event.__name__
        # Events carry the student's pseudonym (student_id), never a national register number.
        assert not [field for field in event.model_fields if _NATIONAL_NUMBER_FIELD.search(field)], event.__name__
    assert (
        {"attestation.attestations", "attestation.dead-letters"}
        <= set(sent.values())
        <= {"attestation.attestations", "notification.requests", "attestation.dead-letters"}
    )
    # Nor does an email it asks for.
    emails = {model.__name__: model for model in wse_contracts.emails.EMAILS.values()}
    for name in _constructed(set(emails)) & set(emails):
        assert not [field for field in emails[name].model_fields if _NATIONAL_NUMBER_FIELD.search(field)], name


def test_the_asyncapi_document_lists_what_it_consumes(attestation):
    """Registration's trainings (the register attestations are checked against), identity's persons
    (a citizen's student pseudonym), organisations (the providers' names) and rights (A-1)."""
    document = attestation.runtime.asyncapi()
    received = {channel["address"]: channel for channel in _channels(document, "receive")}
    assert set(received) == {"registration.trainings", "identity.persons", "identity.organisations", "identity.rights"}
    [trainings] = _message_payload(document, received["registration.trainings"])
    assert trainings == {
        "oneOf": [{"$ref": f"#/components/schemas/{model.__name__}"} for model in (TrainingRegisteredV1, TrainingStoppedV1, TrainingReplacedV1)]
    }
    [persons] = _message_payload(document, received["identity.persons"])
    assert persons == {"$ref": f"#/components/schemas/{PersonRegisteredV1.__name__}"}
    for model in (TrainingRegisteredV1, TrainingStoppedV1, TrainingReplacedV1, PersonRegisteredV1):
        assert set(document["components"]["schemas"][model.__name__]["properties"]) == set(model.model_fields), model.__name__
    for address in ("identity.organisations", "identity.rights"):
        [payload] = _message_payload(document, received[address])
        for option in payload.get("oneOf", [payload]):
            assert document["components"]["schemas"][option["$ref"].rsplit("/", 1)[-1]]["properties"], (address, option)
