"""The recognition service's OpenAPI document is its contract: schemathesis, run as a portal team
would run it (`schemathesis run <document> --checks all`), finds no request whose answer differs
from the document, anonymously (the public list of recognised providers), as provider staff
(dwse_organisation_officer@platos) on their own draft, applications and recognition, and as a case
handler (case_handler@platos) on applications in the state each back-office step needs.

The runtime runs in this process (the `recognition` fixture); here it is also served over HTTP
(uvicorn, in the test's event loop, on a free port) and schemathesis runs as a separate process
against it, so that the loop keeps answering while the process sends. Every check runs; the few
relaxations live in tests/recognition/schemathesis.toml, each with its reason.

The ids of the caller's own data are pinned per operation (an `[[operations]]` block per operation,
appended to a copy of that file), so that requests get past the look-up into the use cases, and
every pinned operation must answer at least one request with a success. Each back-office step gets
an application in the state it needs (submitted, in examination, advised, reconsideration asked,
heard, advised), so that its first valid request succeeds. An organisation has one open
application at a time (E-5): submitting and answering a question are done by staff of two other
provider organisations, each on their own application (those operations' blocks carry their
token), so that the first provider's draft stays a draft for the parts.

Bounded and derandomized (a failure reproduces on the next run): MAX_EXAMPLES per operation and
phase; the module takes about a minute.

By hand, against `./dev up` (TOKEN: a provider's access token):

    uv run schemathesis --config-file tests/recognition/schemathesis.toml run \\
        http://127.0.0.1:8003/schema/openapi.json --checks all -H "Authorization: Bearer $TOKEN" \\
        --max-examples 10 --generation-deterministic
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import contract
from tests.recognition.conftest import Recognition, back_office, complete_parts, decided, draft, examined, submitted
from tests.registration.conftest import Actor

pytestmark = pytest.mark.slow

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 8
MOTIVATION = "Het bezwaar steunt op de ervaring die wij sinds 2012 opbouwden met begeleiding op de werkvloer."

# An operation's own data: its method and path, the values of its parameters, and headers that
# replace the caller's (the token of the organisation whose application it is).
Pin = tuple[str, str, dict[str, str], dict[str, str]]


@pytest.fixture(scope="module")
async def served(recognition) -> AsyncIterator[str]:
    async with contract.served(recognition.app) as url:
        yield url


def pinned(config: Path, pins: list[Pin], path: Path) -> Path:
    """The repository's configuration with one block per pinned operation. Schemathesis takes an
    operation's `parameters` from the first block that sets them (whole, not merged), so each
    block names all of its operation's ids."""
    blocks = [config.read_text()]
    for method, operation_path, parameters, headers in pins:
        # By its name: a block's include-path and include-method would select either (OR), not both.
        lines = ["[[operations]]", f"include-name = {json.dumps(f'{method} {operation_path}')}"]
        if parameters:
            lines.append("parameters = { " + ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in parameters.items()) + " }")
        if headers:
            lines.append("headers = { " + ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in headers.items()) + " }")
        blocks.append("\n".join(lines) + "\n")
    path.write_text("\n".join(blocks))
    return path


def answers_with_own_ids(report: Path, pins: list[Pin]) -> dict[str, Counter[int]]:
    """From schemathesis's NDJSON report: for each pinned operation ("METHOD /path"), how often
    each status was answered to the requests that carried the pinned ids."""
    own = {f"{method} {path}": {k: v for k, v in parameters.items() if f"{{{k}}}" in path} for method, path, parameters, _ in pins}
    found: dict[str, Counter[int]] = {label: Counter() for label in own}
    for line in report.read_text().splitlines():
        scenario = json.loads(line).get("ScenarioFinished")
        if not scenario:
            continue
        recorder = scenario["recorder"]
        for case_id, interaction in (recorder.get("interactions") or {}).items():
            case, response = recorder["cases"][case_id]["value"], interaction.get("response")
            label = f"{case['method']} {case['path']}"
            if label in own and isinstance(response, dict) and (case.get("path_parameters") or {}) == own[label]:
                found[label][response["status_code"]] += 1
    return found


# Pinned operations whose schema-valid requests rarely keep the rules behind them, so that a
# bounded run may see none succeed (they must still reach the caller's own data).
MAY_NOT_SUCCEED = {
    # E-3: a coach shows all four core competences; the declaration gives every commitment.
    "PUT /v1/provider/applications/{application_id}/parts/experience",
    "PUT /v1/provider/applications/{application_id}/parts/declaration",
    # E-10: heard between the request for reconsideration (today) and today: one day of the calendar.
    "POST /v1/back-office/applications/{application_id}/reconsideration/hearing",
}


async def _reconsideration(recognition: Recognition, case_handler: Actor, *, until: str) -> str:
    """A refused application of a new provider whose reconsideration was asked, and then heard and
    advised (`until`)."""
    applicant = await recognition.provider()
    refused = await decided(recognition, applicant, case_handler, outcome="refused")
    asked = await applicant.client.post(f"/v1/provider/applications/{refused['application_id']}/reconsideration", json={"motivation": MOTIVATION})
    assert asked.status_code == 200, asked.text
    if until in ("heard", "advised"):
        heard = await case_handler.client.post(f"{back_office(refused)}/reconsideration/hearing", json={"heard_on": recognition.today().isoformat()})
        assert heard.status_code == 200, heard.text
    if until == "advised":
        advised = await case_handler.client.post(
            f"{back_office(refused)}/reconsideration/advice", json={"advice": "favourable", "motivation": "Ervaring aangetoond."}
        )
        assert advised.status_code == 200, advised.text
    return str(refused["application_id"])


async def _provider_data(recognition: Recognition, provider: Actor, case_handler: Actor) -> tuple[list[Pin], dict[str, str]]:
    """The provider's own: a recognition (granted first) with an assignment and a reported change,
    a refusal it may still contest (E-10) and its open draft; another provider's complete draft to
    submit and a third one's application awaiting an answer (E-6)."""
    granted = await decided(recognition, provider, case_handler, outcome="granted")
    recognition_id = str(granted["recognition"]["recognition_id"])
    assignment = await provider.client.post(
        f"/v1/provider/recognitions/{recognition_id}/assignments", json={"employer_name": "Bakkerij Janssens", "starts_on": recognition.today().isoformat()}
    )
    assert assignment.status_code == 201, assignment.text
    assignment_id = assignment.json()["assignments"][0]["assignment_id"]
    reported = await provider.client.post(f"/v1/provider/recognitions/{recognition_id}/change-reports", json={"description": "Een begeleider vertrekt."})
    assert reported.status_code == 201, reported.text
    report_id = reported.json()["change_reports"][0]["report_id"]
    refused = await decided(recognition, provider, case_handler, outcome="refused")
    key = f"contract-{uuid.uuid4()}"
    started = await provider.client.post("/v1/provider/applications", headers={"Idempotency-Key": key})
    assert started.status_code == 201, started.text
    mine = started.json()["application_id"]

    submitting = await recognition.provider()
    complete = await draft(submitting, **complete_parts())
    answering = await recognition.provider()
    waiting = await examined(recognition, answering, case_handler)
    asked = await case_handler.client.post(f"{back_office(waiting)}/information-requests", json={"question": "Welke diploma's hebben de begeleiders?"})
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["information_requests"][0]["request_id"]

    applications = "/v1/provider/applications/{application_id}"
    recognitions = "/v1/provider/recognitions/{recognition_id}"
    pins: list[Pin] = [
        ("POST", "/v1/provider/applications", {"Idempotency-Key": key}, {}),  # the same key again: the draft it started
        ("GET", applications, {"application_id": mine}, {}),
        *[("PUT", f"{applications}/parts/{name}", {"application_id": mine}, {}) for name in complete_parts()],
        ("POST", f"{applications}/submit", {"application_id": str(complete["application_id"])}, {"Authorization": submitting.client.headers["authorization"]}),
        ("POST", f"{applications}/reconsideration", {"application_id": str(refused["application_id"])}, {}),
        (
            "POST",
            f"{applications}/information-requests/{{request_id}}/answer",
            {"application_id": str(waiting["application_id"]), "request_id": request_id},
            {"Authorization": answering.client.headers["authorization"]},
        ),
        ("GET", recognitions, {"recognition_id": recognition_id}, {}),
        ("POST", f"{recognitions}/assignments", {"recognition_id": recognition_id}, {}),
        ("POST", f"{recognitions}/assignments/{{assignment_id}}/end", {"recognition_id": recognition_id, "assignment_id": assignment_id}, {}),
        ("POST", f"{recognitions}/change-reports", {"recognition_id": recognition_id}, {}),
    ]
    return pins, {"recognition_id": recognition_id, "report_id": report_id}


async def _case_handler_data(recognition: Recognition, case_handler: Actor, recognised: dict[str, str]) -> list[Pin]:
    """For each back-office step an application in the state it needs, each of its own
    organisation (one open application per organisation, E-5)."""
    in_review = await submitted(await recognition.provider())
    for_questions = await examined(recognition, await recognition.provider(), case_handler)
    for_advice = await examined(recognition, await recognition.provider(), case_handler)
    with_the_minister = await examined(recognition, await recognition.provider(), case_handler)
    advised = await case_handler.client.post(f"{back_office(with_the_minister)}/advice", json={"advice": "favourable", "motivation": "Voldoet."})
    assert advised.status_code == 200, advised.text
    asked = await _reconsideration(recognition, case_handler, until="asked")
    heard = await _reconsideration(recognition, case_handler, until="heard")
    commission_advised = await _reconsideration(recognition, case_handler, until="advised")

    def application(state: dict[str, Any] | str) -> dict[str, str]:
        return {"application_id": state if isinstance(state, str) else str(state["application_id"])}

    applications = "/v1/back-office/applications/{application_id}"
    return [
        ("GET", applications, application(in_review), {}),
        ("POST", f"{applications}/admissibility", application(in_review), {}),
        ("POST", f"{applications}/information-requests", application(for_questions), {}),
        ("POST", f"{applications}/advice", application(for_advice), {}),
        ("POST", f"{applications}/decision", application(with_the_minister), {}),
        ("POST", f"{applications}/reconsideration/hearing", application(asked), {}),
        ("POST", f"{applications}/reconsideration/advice", application(heard), {}),
        ("POST", f"{applications}/reconsideration/decision", application(commission_advised), {}),
        ("POST", "/v1/back-office/change-reports/{report_id}/review", {"report_id": recognised["report_id"]}, {}),
        ("GET", "/v1/back-office/recognitions/{recognition_id}", {"recognition_id": recognised["recognition_id"]}, {}),
    ]


@pytest.fixture(scope="module")
async def callers(recognition, recognition_department) -> dict[str, tuple[str, list[Pin]]]:
    """Each caller's token and pinned operations."""
    provider = await recognition.provider()
    case_handler = await recognition.actor(organisation_id=recognition_department, role="case_handler")
    provider_pins, recognised = await _provider_data(recognition, provider, case_handler)
    case_handler_pins = await _case_handler_data(recognition, case_handler, recognised)
    return {
        "anonymous": ("", []),
        "provider": (provider.client.headers["authorization"], provider_pins),
        "case handler": (case_handler.client.headers["authorization"], case_handler_pins),
    }


async def test_the_served_document_is_the_one_the_code_makes(served, recognition):
    """What `schemathesis run <url>` and client generators start from."""
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{served}/schema/openapi.json")
    assert response.status_code == 200
    assert set(response.json()["paths"]) == set(recognition.app.openapi_schema.to_schema()["paths"])


async def test_every_operation_with_ids_is_pinned(recognition, callers):
    """A path parameter left to schemathesis is a random id: every request would stop at the look-up."""
    with_ids = {
        (method.upper(), path) for path, item in recognition.app.openapi_schema.to_schema()["paths"].items() for method in item if re.search(r"\{\w+\}", path)
    }
    pinned_operations = {(method, path) for _, pins in callers.values() for method, path, _, _ in pins}
    assert with_ids <= pinned_operations, with_ids - pinned_operations


async def test_schemathesis_with_every_check_finds_nothing(served, callers, tmp_path):
    failures = []
    for who, (token, pins) in callers.items():
        name = who.replace(" ", "_")
        config = pinned(CONFIG, pins, tmp_path / f"{name}.toml")
        headers = {"Authorization": token} if token else {}
        report = tmp_path / f"{name}.ndjson"
        code, output, successes = await contract.run(served, config, headers, max_examples=MAX_EXAMPLES, report=report)
        (tmp_path / f"{name}.out").write_text(output)
        print(f"--- {who}: exit {code}, {successes} successful answers ({tmp_path / name}.out)\n{output[-3000:]}")
        if code != 0:
            failures.append(f"--- {who} (exit {code}):\n{contract.summary(output)}")
        # Requests that only ever meet a refusal test nothing behind it: every pinned operation is
        # sent the caller's own ids (never refused as another's, 403, or unknown, 404) and, but
        # for the few above, succeeds at least once; the anonymous caller gets the public list.
        if not pins:
            if successes == 0:
                failures.append(f"--- {who}: no request succeeded")
            continue
        for label, answers in answers_with_own_ids(report, pins).items():
            if not answers or answers[403] or answers[404]:
                failures.append(f"--- {who}: {label} did not reach the caller's own data: {dict(answers)}")
            elif label not in MAY_NOT_SUCCEED and not any(200 <= status < 300 for status in answers):
                failures.append(f"--- {who}: {label} never succeeded: {dict(answers)}")
    assert not failures, "\n".join(failures)
