"""The notification service's OpenAPI document is its contract: schemathesis, run as a portal or
back-office team would run it (`schemathesis run <document> --checks all`), finds no request whose
answer differs from the document, anonymously (every operation needs a token: 401) and as the
department's operator (operator@department, the back office's right) with a real notification's id
and a real template's id.

The runtime runs in this process (the `notifications` fixture); here it is also served over HTTP
(uvicorn, in the test's event loop, on a free port) and schemathesis runs as a separate process
against it, so that the loop keeps answering while the process sends. Every check runs; the few
relaxations live in tests/notification/schemathesis.toml, each with its reason. The ids of the
caller's own data are pinned per operation (a `parameters` block appended to a copy of that file),
so that requests get past the look-up into the use cases.

Bounded and derandomized (a failure reproduces on the next run): MAX_EXAMPLES per operation and
phase.

By hand, against `./dev up` (TOKEN: an operator's access token, see docs/identity-journey.sh):

    uv run schemathesis --config-file tests/notification/schemathesis.toml run \\
        http://127.0.0.1:8005/schema/openapi.json --checks all -H "Authorization: Bearer $TOKEN" \\
        --max-examples 10 --generation-deterministic
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests import contract
from tests.notification.conftest import operator_client
from tests.notification.test_delivery import SUBMITTED

pytestmark = pytest.mark.slow

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
async def served(notifications) -> AsyncIterator[str]:
    async with contract.served(notifications.runtime.app()) as url:
        yield url


async def test_the_served_document_is_the_one_the_code_makes(served, notifications):
    """What `schemathesis run <url>` and client generators start from."""
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{served}/schema/openapi.json")
    assert response.status_code == 200
    assert set(response.json()["paths"]) == set(notifications.runtime.app().openapi_schema.to_schema()["paths"])


async def test_schemathesis_with_every_check_finds_nothing(served, notifications, registration, department, tmp_path):
    request = await notifications.request(template_id="registration.application_submitted", personalisation=SUBMITTED)
    delivered = await notifications.settled(request.reference, "delivered")
    async with await operator_client(notifications, registration, department) as operator:
        token = operator.headers["authorization"]
    mine = {"notification_id": str(delivered["notification_id"]), "template_id": "registration.application_submitted"}
    failures = []
    for who, headers, parameters in [("anonymous", {}, {}), ("operator", {"Authorization": token}, mine)]:
        code, output, _ = await contract.run(served, contract.config_with(CONFIG, parameters, tmp_path / f"{who}.toml"), headers, max_examples=MAX_EXAMPLES)
        print(f"--- {who}: exit {code}\n{output[-3000:]}")
        if code != 0:
            failures.append(f"--- {who} (exit {code}):\n{contract.summary(output)}")
    assert not failures, "\n".join(failures)
