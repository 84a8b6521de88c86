"""Checking a service against its own OpenAPI document, the same way for every service: schemathesis
run as a portal team would run it (`schemathesis run <document> --checks all`, as its own
process, with the repository's configuration and the caller's own ids), and the document's own
checks (it validates; no success answer is an untyped object).

Bounded and derandomized, so that a failure reproduces on the next run.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn

# The phases that need no links in the document (the stateful phase follows links between operations).
PHASES = "examples,coverage,fuzzing"


@asynccontextmanager
async def served(app: Any) -> AsyncIterator[str]:
    """An in-process app (whose runtime the session already started: no lifespan here) over HTTP
    on a free port, in the test's event loop, so schemathesis can run as a process of its own."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)


def config_with(config: Path, parameters: dict[str, Any], path: Path) -> Path:
    """The repository's configuration, with the caller's own ids for the operations whose path has them."""
    blocks = [config.read_text()]
    for name, value in parameters.items():
        blocks.append(f'[[operations]]\ninclude-path-regex = "\\\\{{{name}\\\\}}"\nparameters = {{ {name} = {json.dumps(value)} }}\n')
    path.write_text("\n".join(blocks))
    return path


def command(url: str, config: Path, headers: dict[str, str], *, max_examples: int, report: Path | None = None) -> list[str]:
    return [
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
        str(max_examples),
        "--generation-deterministic",
        "--phases",
        PHASES,
        "--workers",
        "1",  # with threads, Hypothesis's lambda descriptions can crash CPython 3.11's ast.parse
        "--request-timeout",
        "20",
        "--no-color",
        *(["--report", "ndjson", "--report-ndjson-path", str(report)] if report else []),
        *(part for name, value in headers.items() for part in ("-H", f"{name}: {value}")),
    ]


async def run(url: str, config: Path, headers: dict[str, str], *, max_examples: int, report: Path | None = None) -> tuple[int, str, int]:
    """`schemathesis run --checks all` as its own process: (exit code, output, answers with a 2xx from the report)."""
    process = await asyncio.create_subprocess_exec(
        *command(url, config, headers, max_examples=max_examples, report=report), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=900)
    # The answers that got through to a use case and succeeded: a run of refusals only tests nothing behind them.
    successes = len(re.findall(rb'"status_code":2[0-9][0-9]', report.read_bytes())) if report and report.exists() else 0
    return process.returncode or 0, output.decode(errors="replace"), successes


def summary(text: str) -> str:
    """The part of schemathesis's output that names the failures (the whole output can be long)."""
    marker = text.find("FAILURES")
    return text[marker:][-20_000:] if marker >= 0 else text[-20_000:]


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def untyped(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    """An object without properties (a `dict` in a generated client), or a union with one."""
    schema = resolve(document, schema)
    if "oneOf" in schema or "anyOf" in schema:
        return any(untyped(document, option) for option in schema.get("oneOf", schema.get("anyOf", [])))
    return schema.get("type") in ("object", None) and not schema.get("properties") and "items" not in schema and schema.get("type") != "null"


def untyped_success_answers(document: dict[str, Any]) -> list[str]:
    """Every success answer whose JSON schema is untyped, as "METHOD path status"."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation.get("responses", {}).items():
                if status.startswith("2"):
                    for media_type, content in response.get("content", {}).items():
                        if media_type == "application/json" and untyped(document, content.get("schema", {})):
                            found.append(f"{method.upper()} {path} {status}")
    return found
