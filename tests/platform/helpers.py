"""Running the probe service as real processes, and waiting for what they do."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer

from devstack import postgres
from devstack.config import REPO_ROOT, StackConfig
from service_runtime.db import configure_connection
from service_runtime.outbox import ensure_topics


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


class ServiceProcess:
    """A service as a real process (`python -m <module> serve`), its log in a file, on a free port."""

    def __init__(self, module: str, *, name: str, log_path: Path, env: dict[str, str]) -> None:
        self.module, self.name, self.log_path, self.env = module, name, log_path, env
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def process_env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(REPO_ROOT), **self.env}

    def start(self, *, wait: bool = True) -> ServiceProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115  # the child process writes to it for its whole life
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, "serve"], env=self.process_env(), stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT
        )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process and self.process.poll() is None, f"{self.name} exited: {self.log_tail()}"
            try:
                if httpx.get(self.url + "/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.name} not ready: {self.log_tail()}")

    def wait_exit(self, timeout: float = 30) -> int:
        assert self.process
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def terminate(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Probe(ServiceProcess):
    """One probe service process (python -m tests.platform.probe serve)."""

    def __init__(self, stack: StackConfig, *, database_url: str, topic: str, roles: str, log_dir: Path, name: str, **env: str) -> None:
        super().__init__("tests.platform.probe", name=name, log_path=log_dir / f"{name}.log", env=env)
        self.stack, self.database_url, self.topic, self.roles = stack, database_url, topic, roles
        self.failpoints = ""

    def process_env(self) -> dict[str, str]:
        return {
            **super().process_env(),
            "PROBE_DATABASE_URL": self.database_url,
            "PROBE_HTTP_PORT": str(self.port),
            "KAFKA_BOOTSTRAP_SERVERS": self.stack.kafka_bootstrap,
            "PROBE_TOPIC": self.topic,
            "PROBE_ROLES": self.roles,
            "WSE_FAILPOINTS": self.failpoints,
            **self.env,
        }

    def start(self, *, failpoints: str = "", wait: bool = True) -> Probe:
        self.failpoints = failpoints
        super().start(wait=wait)
        return self

    def post_events(self, aggregate: str, *, count: int = 1, first_seq: int = 0, correlation_id: str | None = None, **extra: Any) -> list[str]:
        headers = {"X-Correlation-ID": correlation_id} if correlation_id else {}
        response = httpx.post(
            self.url + "/probe/events", json={"aggregate": aggregate, "count": count, "first_seq": first_seq, **extra}, headers=headers, timeout=10
        )
        assert response.status_code == 201, response.text
        return response.json()["event_ids"]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The service's command line (migrate, dead-letters ...), against this probe's database."""
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO_ROOT),
            "PROBE_DATABASE_URL": self.database_url,
            "PROBE_TOPIC": self.topic,
            "PROBE_ROLES": self.roles,
            "KAFKA_BOOTSTRAP_SERVERS": self.stack.kafka_bootstrap,
            "PROBE_LOG_LEVEL": "WARNING",
        }
        return subprocess.run([sys.executable, "-m", "tests.platform.probe", *args], env=env, capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)


async def new_database(stack: StackConfig, prefix: str) -> str:
    return await postgres.recreate_database(stack, unique(prefix))


async def connect(url: str) -> asyncpg.Connection:
    connection = await asyncpg.connect(url)
    await configure_connection(connection)
    return connection


async def new_topic(stack: StackConfig, partitions: int = 3) -> str:
    name = unique("probe").replace("_", ".")
    await ensure_topics(stack.kafka_bootstrap, {name: partitions})
    return name


async def eventually(check: Callable[[], Awaitable[Any]], *, timeout: float = 60, interval: float = 0.1, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last value: {last!r}")


async def records_on_topic(stack: StackConfig, topic: str, *, timeout_ms: int = 3000) -> list[Any]:
    """Everything on the topic, read by a throw-away consumer (no group)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=stack.kafka_bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    records: list[Any] = []
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=timeout_ms)
            if not batch:
                return records
            for partition_records in batch.values():
                records.extend(partition_records)
    finally:
        await consumer.stop()


@contextlib.contextmanager
def serve_jwks(keys: list[dict[str, Any]]) -> Iterator[str]:
    """A JWKS endpoint on loopback serving `keys` as they are at each request; yields its URL."""

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"keys": keys}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", free_port()), Keys)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/jwks.json"
    finally:
        server.shutdown()
