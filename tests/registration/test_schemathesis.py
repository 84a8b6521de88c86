"""The registration service's OpenAPI document is its contract: schemathesis, run as a portal team
would run it (`schemathesis run <document> --checks all`), finds no request whose answer differs
from the document, anonymously (the public register), as provider staff
(dwse_organisation_officer@training_database) on their own dossier, document and training, and as
a case handler on a submitted dossier.

The runtime runs in this process (the `registration` fixture); here it is also served over HTTP
(uvicorn, in the test's event loop, on a free port) and schemathesis runs as a separate process
against it, so that the loop keeps answering while the process sends. Every check runs; the few
relaxations live in tests/registration/schemathesis.toml, each with its reason. The ids of the
caller's own data are pinned per operation (a `parameters` block appended to a copy of that file),
so that requests get past the look-up into the use cases.

Bounded and derandomized (a failure reproduces on the next run): MAX_EXAMPLES per operation and
phase; the whole module takes about two minutes.

By hand, against `./dev up` (TOKEN: a provider's access token, see docs/registration-journey.sh):

    uv run schemathesis --config-file tests/registration/schemathesis.toml run \\
        http://127.0.0.1:8002/schema/openapi.json --checks all -H "Authorization: Bearer $TOKEN" \\
        --max-examples 10 --generation-deterministic
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from tests.registration.conftest import Actor, contact, deciding_body, draft, self_analysis, submitted, training

pytestmark = pytest.mark.slow

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 8
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
async def served(registration) -> AsyncIterator[str]:
    """The in-process app over HTTP (its runtime is already started: no lifespan here)."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(registration.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, timeout=30)


def _config_with(parameters: dict[str, dict[str, str]], path: Path) -> Path:
    """The repository's configuration, with the caller's own ids for the operations whose path has them."""
    blocks = [CONFIG.read_text()]
    for name, value in parameters.items():
        blocks.append(f'[[operations]]\ninclude-path-regex = "\\\\{{{name}\\\\}}"\nparameters = {{ {name} = {json.dumps(value)} }}\n')
    path.write_text("\n".join(blocks))
    return path


async def _schemathesis(url: str, config: Path, report: Path, headers: dict[str, str]) -> tuple[int, str, int]:
    """`schemathesis run --checks all` against the served app, as its own process."""
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "run",
        f"{url}/schema/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--generation-deterministic",
        "--phases",
        "examples,coverage,fuzzing",
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--no-color",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
        *(part for name, value in headers.items() for part in ("-H", f"{name}: {value}")),
    ]
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), timeout=600)
    text = output.decode(errors="replace")
    # The answers that got through to a use case and succeeded, from the run's report.
    successes = len(re.findall(rb'"status_code":2[0-9][0-9]', report.read_bytes())) if report.exists() else 0
    return process.returncode or 0, text, successes


def _summary(text: str) -> str:
    """The part of the output that names failures (the whole output can be long)."""
    marker = text.find("FAILURES")
    return text[marker:][-20_000:] if marker >= 0 else text[-20_000:]


async def _own_data(registration, provider: Actor, case_handler: Actor) -> tuple[dict[str, str], dict[str, str]]:
    """The ids of each caller's own data: (the provider's, the case handler's)."""
    registered = await submitted(provider)
    path = f"/v1/back-office/applications/{registered['application_id']}"
    assert (await case_handler.client.post(f"{path}/forward", json={})).status_code == 200
    decided = await case_handler.client.post(f"{path}/decision", json={"outcome": "approved"})
    assert decided.status_code == 200, decided.text
    complete_draft = await draft(provider, contact=contact(), training=training(), self_analysis=self_analysis(), deciding_body=deciding_body())
    in_review = await submitted(provider)
    uploaded = await provider.client.post(
        "/v1/provider/documents", params={"purpose": "extra", "filename": "plan.pdf"}, content=PDF, headers={"content-type": "application/pdf"}
    )
    assert uploaded.status_code == 201, uploaded.text
    document_id = uploaded.json()["document_id"]
    odb_number = decided.json()["odb_number"]
    mine = {"application_id": complete_draft["application_id"], "document_id": document_id, "odb_number": odb_number}
    back_office = {"application_id": in_review["application_id"], "document_id": document_id, "odb_number": odb_number}
    return mine, back_office


async def test_the_served_document_is_the_one_the_code_makes(served, registration):
    """What `schemathesis run <url>` and client generators start from."""
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{served}/schema/openapi.json")
    assert response.status_code == 200
    assert set(response.json()["paths"]) == set(registration.app.openapi_schema.to_schema()["paths"])


async def test_schemathesis_with_every_check_finds_nothing(served, registration, department, tmp_path):
    provider = await registration.actor(organisation_id=await registration.organisation(), role="dwse_organisation_officer")
    case_handler = await registration.actor(organisation_id=department, role="case_handler")
    await provider.client.put("/v1/provider/organisation", json={"contact": contact(), "general_contact": contact(), "lms": "moodle"})
    mine, back_office = await _own_data(registration, provider, case_handler)
    failures = []
    for who, token, parameters, least in [
        ("anonymous", None, {}, 10),  # the register and the joint committees
        ("provider", provider.client.headers["authorization"], mine, 50),
        ("case handler", case_handler.client.headers["authorization"], back_office, 20),
    ]:
        name = who.replace(" ", "_")
        config = _config_with(parameters, tmp_path / f"{name}.toml")
        code, output, successes = await _schemathesis(served, config, tmp_path / f"{name}.ndjson", {"Authorization": token} if token else {})
        print(f"--- {who}: exit {code}, {successes} successful answers\n{output[-3000:]}")
        if code != 0:
            failures.append(f"--- {who} (exit {code}):\n{_summary(output)}")
        # Requests that only ever meet a refusal test nothing behind it: each caller's get through.
        assert successes >= least, f"{who}: only {successes} requests got a 2xx answer\n{output[-5000:]}"
    assert not failures, "\n".join(failures)
