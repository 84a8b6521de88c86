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

import asyncio
import json
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from tests.notification.conftest import operator_client
from tests.notification.test_delivery import SUBMITTED

pytestmark = pytest.mark.slow

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 25


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
async def served(notifications) -> AsyncIterator[str]:
    """The in-process app over HTTP (its runtime is already started: no lifespan here)."""
    port = _free_port()
    config = uvicorn.Config(notifications.runtime.app(), host="127.0.0.1", port=port, lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, timeout=30)


def _config_with(parameters: dict[str, str], path: Path) -> Path:
    """The repository's configuration, with the caller's own ids for the operations whose path has them."""
    blocks = [CONFIG.read_text()]
    for name, value in parameters.items():
        blocks.append(f'[[operations]]\ninclude-path-regex = "\\\\{{{name}\\\\}}"\nparameters = {{ {name} = {json.dumps(value)} }}\n')
    path.write_text("\n".join(blocks))
    return path


async def _schemathesis(url: str, config: Path, headers: dict[str, str]) -> tuple[int, str]:
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
        *(part for name, value in headers.items() for part in ("-H", f"{name}: {value}")),
    ]
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), timeout=600)
    return process.returncode or 0, output.decode(errors="replace")


def _summary(text: str) -> str:
    """The part of the output that names failures (the whole output can be long)."""
    marker = text.find("FAILURES")
    return text[marker:][-20_000:] if marker >= 0 else text[-20_000:]


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
        code, output = await _schemathesis(served, _config_with(parameters, tmp_path / f"{who}.toml"), headers)
        print(f"--- {who}: exit {code}\n{output[-3000:]}")
        if code != 0:
            failures.append(f"--- {who} (exit {code}):\n{_summary(output)}")
    assert not failures, "\n".join(failures)
