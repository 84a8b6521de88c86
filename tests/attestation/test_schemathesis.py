"""The attestation service's OpenAPI document is its contract: schemathesis, run as a portal team
would run it (`schemathesis run <document> --checks all`), finds no request whose answer differs
from the document, anonymously (nothing is public: every operation answers 401), as provider staff
(dwse_organisation_officer@training_database) on their own attestations and receipts, as the
department (case_handler@training_leave) and as a citizen (their own training leave, ID-10).

The runtime runs in this process (the `attestation` fixture); here it is also served over HTTP
(uvicorn, in the test's event loop, on a free port) and schemathesis runs as a separate process
against it, so that the loop keeps answering while the process sends. Every check runs; the few
relaxations live in tests/attestation/schemathesis.toml, each with its reason.

The ids of the provider's own attestations and receipt are pinned per operation (an
`[[operations]]` block per operation, appended to a copy of that file), so that requests get past
the look-up into the use cases, and every pinned operation must answer at least one request with
a success. The document's examples (ENROLMENT_EXAMPLE, ATTENDANCE_EXAMPLE: the student
85073003328 on ODB-12345, a number the register does not know, so held) are the provider's own
enrolment here, so that the correction, the attendance, the department's look-up and the
citizen's view each meet a real student; the withdrawals get attestations of their own.

Bounded and derandomized (a failure reproduces on the next run): MAX_EXAMPLES per operation and
phase.

By hand, against `./dev up` (TOKEN: a provider's access token):

    uv run schemathesis --config-file tests/attestation/schemathesis.toml run \\
        http://127.0.0.1:8004/schema/openapi.json --checks all -H "Authorization: Bearer $TOKEN" \\
        --max-examples 10 --generation-deterministic
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from attestation.views.schemas import ATTENDANCE_EXAMPLE, ENROLMENT_EXAMPLE
from tests import contract
from tests.attestation.conftest import Attestation, attendance, enrolment, nrn
from tests.registration.conftest import Actor

pytestmark = pytest.mark.slow

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 20

# An operation's own data: its method and path, and the values of its parameters.
Pin = tuple[str, str, dict[str, str]]

# Operations left out of the run, each with why (none today).
NOT_RUN: dict[str, str] = {}


@pytest.fixture(scope="module")
async def served(attestation) -> AsyncIterator[str]:
    async with contract.served(attestation.app) as url:
        yield url


def pinned(config: Path, pins: list[Pin], path: Path) -> Path:
    """The repository's configuration with one block per pinned operation. Schemathesis takes an
    operation's `parameters` from the first block that sets them (whole, not merged), so each
    block names all of its operation's ids."""
    blocks = [config.read_text()]
    for label in NOT_RUN:
        blocks.append(f"[[operations]]\ninclude-name = {json.dumps(label)}\nenabled = false\n")
    for method, operation_path, parameters in pins:
        # By its name: a block's include-path and include-method would select either (OR), not both.
        lines = ["[[operations]]", f"include-name = {json.dumps(f'{method} {operation_path}')}"]
        lines.append("parameters = { " + ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in parameters.items()) + " }")
        blocks.append("\n".join(lines) + "\n")
    path.write_text("\n".join(blocks))
    return path


def answers(report: Path) -> list[tuple[str, dict[str, str], int]]:
    """From schemathesis's NDJSON report: every request's operation ("METHOD /path"), path
    parameters and answered status."""
    found = []
    for line in report.read_text().splitlines():
        scenario = json.loads(line).get("ScenarioFinished")
        if not scenario:
            continue
        recorder = scenario["recorder"]
        for case_id, interaction in (recorder.get("interactions") or {}).items():
            case, response = recorder["cases"][case_id]["value"], interaction.get("response")
            if isinstance(response, dict):
                found.append((f"{case['method']} {case['path']}", case.get("path_parameters") or {}, response["status_code"]))
    return found


def answers_with_own_ids(report: Path, pins: list[Pin]) -> dict[str, Counter[int]]:
    """For each pinned operation, how often each status was answered to the requests that carried the pinned ids."""
    own = {f"{method} {path}": parameters for method, path, parameters in pins}
    found: dict[str, Counter[int]] = {label: Counter() for label in own}
    for label, parameters, status in answers(report):
        if label in own and parameters == own[label]:
            found[label][status] += 1
    return found


async def _provider_data(attestation: Attestation, provider: Actor) -> list[Pin]:
    """The provider's own: the documented example enrolment (held: the register does not know
    ODB-12345), an enrolment on a registered training with attendance and a correction (its
    receipt too), and one enrolment and one attendance to withdraw."""
    example = await provider.client.post("/v1/provider/enrolments", json=ENROLMENT_EXAMPLE)
    assert example.status_code == 201 and example.json()["outcome"] == "held", example.text
    odb = await attestation.training(provider)
    enrolled = enrolment(odb, nrn())
    made = await provider.client.post("/v1/provider/enrolments", json=enrolled)
    assert made.status_code == 201 and made.json()["outcome"] == "accepted", made.text
    enrolment_id = made.json()["attestation"]["attestation_id"]
    corrected = await provider.client.put(f"/v1/provider/enrolments/{enrolment_id}", json={**enrolled, "ends_on": "2027-05-31"})
    assert corrected.status_code == 200, corrected.text
    attended = await provider.client.post("/v1/provider/attendances", json=attendance(enrolled))
    assert attended.status_code == 201, attended.text
    attendance_id = attended.json()["attestation"]["attestation_id"]
    to_withdraw = await provider.client.post("/v1/provider/enrolments", json=enrolment(odb, nrn()))
    assert to_withdraw.status_code == 201, to_withdraw.text
    also = await provider.client.post("/v1/provider/attendances", json=attendance(enrolled, period_from="2027-01-01", period_to="2027-03-31"))
    assert also.status_code == 201, also.text

    enrolments, attendances, receipts = (
        "/v1/provider/enrolments/{attestation_id}",
        "/v1/provider/attendances/{attestation_id}",
        "/v1/provider/receipts/{receipt_id}",
    )
    mine, receipt = {"attestation_id": enrolment_id}, {"receipt_id": made.json()["receipt"]["receipt_id"]}
    return [
        ("GET", enrolments, mine),
        ("GET", f"{enrolments}/history", mine),
        # The example's content again (unchanged) succeeds; other content is checked as a correction.
        ("PUT", enrolments, {"attestation_id": example.json()["attestation"]["attestation_id"]}),
        ("DELETE", enrolments, {"attestation_id": to_withdraw.json()["attestation"]["attestation_id"]}),
        ("GET", attendances, {"attestation_id": attendance_id}),
        ("GET", f"{attendances}/history", {"attestation_id": attendance_id}),
        ("DELETE", attendances, {"attestation_id": also.json()["attestation"]["attestation_id"]}),
        ("GET", receipts, receipt),
        ("GET", f"{receipts}/problems", receipt),
    ]


@pytest.fixture(scope="module")
async def callers(attestation) -> dict[str, tuple[str, list[Pin]]]:
    """Each caller's token and pinned operations."""
    provider = await attestation.provider()
    provider_pins = await _provider_data(attestation, provider)
    department = await attestation.organisation(kind="department", name="Departement Werk en Sociale Economie")
    case_handler = await attestation.grant(organisation_id=department, role="case_handler", context="training_leave")
    citizen = await attestation.citizen(ENROLMENT_EXAMPLE["national_register_number"])
    assert ATTENDANCE_EXAMPLE["reference"] == ENROLMENT_EXAMPLE["reference"]
    return {
        "anonymous": ("", []),
        "provider": (provider.client.headers["authorization"], provider_pins),
        "department": (f"Bearer {attestation.token(person=case_handler, organisation=department)}", []),
        "citizen": (citizen.headers["authorization"], []),
    }


async def test_the_served_document_is_the_one_the_code_makes(served, attestation):
    """What `schemathesis run <url>` and client generators start from."""
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{served}/schema/openapi.json")
    assert response.status_code == 200
    assert set(response.json()["paths"]) == set(attestation.app.openapi_schema.to_schema()["paths"])


def _operations(attestation: Attestation) -> set[str]:
    return {f"{method.upper()} {path}" for path, item in attestation.app.openapi_schema.to_schema()["paths"].items() for method in item}


async def test_every_operation_with_ids_is_pinned(attestation, callers):
    """A path parameter left to schemathesis is a random id: every request would stop at the look-up."""
    with_ids = {label for label in _operations(attestation) if re.search(r"\{\w+\}", label)} - set(NOT_RUN)
    pinned_operations = {f"{method} {path}" for _, pins in callers.values() for method, path, _ in pins}
    assert with_ids <= pinned_operations, with_ids - pinned_operations


# The operations each caller must get a success from (besides the pinned ones).
SUCCEEDS = {
    "department": {"GET /v1/back-office/attestations", "POST /v1/back-office/students", "GET /v1/back-office/entitlements.csv"},
    "citizen": {"GET /v1/citizen/training-leave"},
    "provider": {"POST /v1/provider/enrolments", "POST /v1/provider/attendances", "GET /v1/provider/enrolments", "GET /v1/provider/receipts"},
}


async def test_schemathesis_with_every_check_finds_nothing(served, attestation, callers, tmp_path):
    failures = []
    operations = _operations(attestation) - set(NOT_RUN)
    for who, (token, pins) in callers.items():
        config = pinned(CONFIG, pins, tmp_path / f"{who}.toml")
        headers = {"Authorization": token} if token else {}
        report = tmp_path / f"{who}.ndjson"
        code, output, successes = await contract.run(served, config, headers, max_examples=MAX_EXAMPLES, report=report)
        (tmp_path / f"{who}.out").write_text(output)
        print(f"--- {who}: exit {code}, {successes} successful answers ({tmp_path / who}.out)\n{output[-3000:]}")
        if code != 0:
            failures.append(f"--- {who} (exit {code}):\n{contract.summary(output)}")
        answered: dict[str, Counter[int]] = {}
        for label, _, status in answers(report):
            answered.setdefault(label, Counter())[status] += 1
        if who == "anonymous":
            # Nothing is public: every operation is asked for a token, and none answers anything else.
            for label in sorted(operations):
                statuses = answered.get(label, Counter())
                if not statuses[401] or any(200 <= status < 300 for status in statuses):
                    failures.append(f"--- anonymous: {label} answered {dict(statuses)}")
            continue
        # Requests that only ever meet a refusal test nothing behind them: every pinned operation is
        # sent the caller's own ids (never refused as another's, 403, or unknown, 404) and succeeds.
        for label, statuses in answers_with_own_ids(report, pins).items():
            if not statuses or statuses[403] or statuses[404]:
                failures.append(f"--- {who}: {label} did not reach the caller's own data: {dict(statuses)}")
            elif not any(200 <= status < 300 for status in statuses):
                failures.append(f"--- {who}: {label} never succeeded: {dict(statuses)}")
        for label in sorted(SUCCEEDS.get(who, set())):
            if not any(200 <= status < 300 for status in answered.get(label, Counter())):
                failures.append(f"--- {who}: {label} never succeeded: {dict(answered.get(label, Counter()))}")
    assert not failures, "\n".join(failures)
