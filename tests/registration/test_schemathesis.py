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

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests import contract
from tests.registration.conftest import Actor, contact, deciding_body, draft, self_analysis, submitted, training

pytestmark = pytest.mark.slow

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 8
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(scope="module")
async def served(registration) -> AsyncIterator[str]:
    async with contract.served(registration.app) as url:
        yield url


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
        config = contract.config_with(CONFIG, parameters, tmp_path / f"{name}.toml")
        headers = {"Authorization": token} if token else {}
        code, output, successes = await contract.run(served, config, headers, max_examples=MAX_EXAMPLES, report=tmp_path / f"{name}.ndjson")
        print(f"--- {who}: exit {code}, {successes} successful answers\n{output[-3000:]}")
        if code != 0:
            failures.append(f"--- {who} (exit {code}):\n{contract.summary(output)}")
        # Requests that only ever meet a refusal test nothing behind it: each caller's get through.
        assert successes >= least, f"{who}: only {successes} requests got a 2xx answer\n{output[-5000:]}"
    assert not failures, "\n".join(failures)
