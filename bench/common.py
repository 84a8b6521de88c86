"""What the benchmarks here share: the run's time limit, its stack (started, and stopped whatever
happens), the service process under test, CPU accounting from /proc, the load shapes (closed and
open loop) with the open loop's HTTP client, platform tokens (signed here, their key served as JWKS)
and raw requests, wrk, the figures of a run and their table, py-spy's
stacks summarised, which code was measured, and the data generators' helpers.

The scripts run as `uv run python bench/<name>/run.py` from the repository root; each puts the
root on sys.path and imports this as `bench.common` (the figures themselves are in bench/stats.py).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import platform
import random
import re
import resource
import shutil
import socket
import string
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import jwt
from aiokafka import AIOKafkaClient, AIOKafkaConsumer, AIOKafkaProducer
from cryptography.hazmat.primitives.asymmetric import rsa

from bench.stats import latency_summary
from devstack import processes, stack
from devstack.config import StackConfig
from devstack.processes import StackError
from service_runtime.migrations import apply_migrations, discover
from service_runtime.outbox import ensure_topics

REPO_ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


class Deadline:
    """The hard time limit of the whole run; every wait is bounded by it."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise TimeoutError("the benchmark's time limit was reached")
        return left


# -- the stack ---------------------------------------------------------------------------------------


class BenchStack:
    """A benchmark's run on its stack: `with BenchStack(config) as run:` first stops whatever an
    interrupted run left behind; `run.start(timeout)` brings the infrastructure up and starts the
    run's time limit. On leaving, a failure (time-out, Ctrl-C, a stack error, any other exception,
    with its traceback) is kept as the text `run.error`, not raised; then the functions given to
    `run.on_exit` run (the last one given first), and the stack is stopped, whatever happened."""

    def __init__(
        self,
        config: StackConfig,
        *,
        timeouts: tuple[type[BaseException], ...] = (TimeoutError, subprocess.TimeoutExpired),
        timed_out: Callable[[BaseException], str] = lambda failure: f"timed out: {failure}",
    ) -> None:
        self.config = config
        self.timeouts, self.timed_out = timeouts, timed_out
        self.error: str | None = None
        self.cleanups: list[Callable[[], Any]] = []

    def __enter__(self) -> BenchStack:
        stack.down(self.config)  # whatever an interrupted run left behind
        return self

    def start(self, timeout: float) -> Deadline:
        """The infrastructure up; returns the run's time limit, `timeout` seconds from now."""
        started = time.monotonic()
        stack.start_infrastructure(self.config)
        print(f"Infrastructure up in {time.monotonic() - started:.1f} s.", flush=True)
        return Deadline(timeout)

    def on_exit(self, cleanup: Callable[[], Any]) -> None:
        """Run `cleanup` (stop a service process ...) before the stack goes down."""
        self.cleanups.append(cleanup)

    def __exit__(self, kind: type[BaseException] | None, failure: BaseException | None, trace: Any) -> bool:
        handled = True
        if failure is None:
            pass
        elif isinstance(failure, self.timeouts):
            self.error = self.timed_out(failure)
        elif isinstance(failure, KeyboardInterrupt):
            self.error = "interrupted"
        elif isinstance(failure, StackError):
            self.error = f"stack: {failure}"
        elif isinstance(failure, Exception):  # reported below; the stack still goes down
            traceback.print_exception(kind, failure, trace)
            self.error = repr(failure)
        else:
            handled = False
        for cleanup in reversed(self.cleanups):  # the last started stops first
            cleanup()
        print("Stopping the benchmark stack ...", flush=True)
        stack.down(self.config)
        return handled


def generate(script: Path, arguments: list[str], deadline: Deadline) -> dict[str, Any]:
    """Run a data generator (bench/<name>/generate.py) and return the JSON report of its last line."""
    generated = subprocess.run(
        [sys.executable, str(script), *arguments],
        capture_output=True,
        text=True,
        timeout=min(600, deadline.left()),
        cwd=REPO_ROOT,
        env={**os.environ, "LOG_LEVEL": "WARNING"},
    )
    if generated.returncode != 0:
        raise RuntimeError(f"generate.py failed:\n{generated.stdout[-3000:]}\n{generated.stderr[-3000:]}")
    return json.loads(generated.stdout.strip().splitlines()[-1])


def report_load(load: Callable[[Any], Awaitable[dict[str, Any]]], args: Any) -> int:
    """A data generator's end: run its load, then print its report, with the seconds it took, as
    the one JSON line `generate` reads."""
    started = time.monotonic()
    report = asyncio.run(load(args))
    report["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(report))
    return 0


# -- processes ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def live_pid(process: subprocess.Popen[Any] | None) -> int | None:
    return process.pid if process and process.poll() is None else None


def stop_process(process: subprocess.Popen[Any] | None, *, wait: float = 30, kill_wait: float = 10) -> None:
    """SIGTERM, and SIGKILL when it has not ended after `wait` seconds."""
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(kill_wait)


def wait_ready(url: str, what: str, seconds: float, *, running: Callable[[], bool], log: Callable[[], str], poll: float = 0.1) -> None:
    """Poll GET {url}/health/ready until it answers 200; fail at once if the process ended, or after `seconds`."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        if not running():
            raise RuntimeError(f"{what} exited while starting:\n" + log())
        try:
            if httpx.get(url + "/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(poll)
    raise RuntimeError(f"{what} did not become ready:\n" + log())


class ServiceProcess:
    """ONE `python -m <service> serve` on a free loopback port (LOG_LEVEL=WARNING, its output in
    `log_path`), started here, outside devstack's process table; `cli` runs the service's other
    commands (migrate, bootstrap ...) with the same environment."""

    ready_seconds = 60.0

    def __init__(self, service: str, config: StackConfig, database_url: str, log_path: Path, **extra_env: str) -> None:
        self.service = service
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        prefix = service.upper()
        self.env = {
            **os.environ,
            f"{prefix}_DATABASE_URL": database_url,
            f"{prefix}_HTTP_PORT": str(self.port),
            f"{prefix}_HTTP_HOST": "127.0.0.1",
            "KAFKA_BOOTSTRAP_SERVERS": config.kafka_bootstrap,
            "LOG_LEVEL": "WARNING",
            f"{prefix}_LOG_LEVEL": "WARNING",
            **config.pii_env(),  # as production does: real keys for national register numbers
            **extra_env,
        }
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str, timeout: float = 120) -> str:
        result = subprocess.run([sys.executable, "-m", self.service, *args], env=self.env, capture_output=True, text=True, cwd=REPO_ROOT, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"{self.service} {args[0]} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def start(self, deadline: Deadline) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.service, "serve"], env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=REPO_ROOT
            )
        wait_ready(
            self.url,
            self.service,
            min(self.ready_seconds, deadline.left()),
            running=lambda: self.pid is not None,
            log=lambda: self.log_path.read_text()[-3000:],
        )

    @property
    def pid(self) -> int | None:
        return live_pid(self.process)

    def stop(self) -> None:
        stop_process(self.process)


# -- CPU accounting (/proc; no psutil here) ----------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float, float] | None:
    """(parent pid, own CPU seconds, CPU seconds of its exited children) of a process, None if gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK, (int(fields[13]) + int(fields[14])) / TICK


def _children(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat and stat[0] == parent:
                found.append(int(entry))
    return found


def _machine() -> tuple[float, float, float, float]:
    """(busy, total, irq + softirq, steal) jiffies of all CPUs."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    total = sum(values[:8])
    return total - values[3] - values[4], total, values[5] + values[6], values[7]


class CpuMeter:
    """CPU used during a run by the service, PostgreSQL (postmaster + backends), Kafka, this
    process (an in-process load generator), the children it waited for (wrk), and the machine."""

    def __init__(self, config: StackConfig, service_pid: Callable[[], int | None]) -> None:
        self.config = config
        self.service_pid = service_pid

    @staticmethod
    def _tree_seconds(root: int) -> float:
        """CPU of a process and all its children, living or exited (PostgreSQL's backends come and
        go: an exited one's time moves into the postmaster's cutime/cstime)."""
        stat = _stat(root)
        if stat is None:
            return 0.0
        return stat[1] + stat[2] + sum(child[1] for pid in _children(root) if (child := _stat(pid)))

    def snapshot(self) -> dict[str, Any]:
        roots = {
            "service": self.service_pid(),
            "postgres": processes.running_pid(self.config, "postgres"),
            "kafka": processes.running_pid(self.config, "kafka"),
        }
        per_pid = {name: {pid: self._tree_seconds(pid)} for name, pid in roots.items() if pid}
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {
            "at": time.monotonic(),
            "pids": per_pid,
            "self": own.ru_utime + own.ru_stime,
            "children": children.ru_utime + children.ru_stime,
            "machine": _machine(),
        }

    @staticmethod
    def delta(before: dict[str, Any], after: dict[str, Any], *, child: bool = False) -> dict[str, float]:
        wall = after["at"] - before["at"]
        out: dict[str, float] = {}
        for name, pids in after["pids"].items():
            used = sum(seconds - before["pids"].get(name, {}).get(pid, 0.0) for pid, seconds in pids.items())
            out[name] = round(100 * used / wall, 1)
        out["generator"] = round(100 * ((after["children"] - before["children"]) if child else (after["self"] - before["self"])) / wall, 1)
        busy = after["machine"][0] - before["machine"][0]
        total = after["machine"][1] - before["machine"][1]
        out["machine_busy_pct_of_all"] = round(100 * busy / total, 1) if total else math.nan
        out["cores"] = os.cpu_count() or 0
        cores = out["cores"]
        out["irq_softirq"] = round(100 * cores * (after["machine"][2] - before["machine"][2]) / total, 1) if total else math.nan
        out["steal"] = round(100 * cores * (after["machine"][3] - before["machine"][3]) / total, 1) if total else math.nan
        # What the rest of the (shared) machine used meanwhile: other people's stacks and tests.
        ours = sum(out.get(k, 0.0) for k in ("service", "postgres", "kafka", "generator"))
        out["others"] = round(out["cores"] * out["machine_busy_pct_of_all"] - ours, 1) if total else math.nan
        return out

    async def measure(self, load: Awaitable[T]) -> tuple[T, dict[str, float]]:
        """Await `load` (a load generator in this process) and return its result and the CPU used meanwhile."""
        before = self.snapshot()
        result = await load
        return result, self.delta(before, self.snapshot())


def fmt_cpu(cpu: dict[str, float]) -> str:
    return (
        " ".join(f"{k} {cpu[k]:.0f}%" for k in ("service", "postgres", "generator", "kafka", "others") if k in cpu)
        + f" (machine busy {cpu.get('machine_busy_pct_of_all', math.nan):.0f}% of {cpu.get('cores', 0)} cores)"
    )


# -- the figures of a run --------------------------------------------------------------------------


@dataclass
class Run:
    name: str  # http / sql-tx / sql / inproc-projection / inproc-identity
    mode: str  # max / steady / sequential
    client: str
    requests: int
    seconds: float
    per_s: float
    latency: dict[str, float]
    errors: int = 0
    wrong_answers: int = 0
    cpu: dict[str, float] = field(default_factory=dict)  # % of ONE core, over the run
    details: dict[str, Any] = field(default_factory=dict)


def make_run(name: str, mode: str, client: str, figures: dict[str, Any], cpu: dict[str, float], **details: Any) -> Run:
    """A Run from the figures of closed_loop or open_loop (the open loop's latency from the scheduled time, `from_send` from the actual send)."""
    latency = latency_summary(figures["latencies"])
    if "service" in figures:
        details["from_send"] = latency_summary(figures["service"])
        details.update({k: figures[k] for k in ("offered", "shed", "max_schedule_lag_ms")})
    run = Run(
        name,
        mode,
        client,
        figures["requests"],
        round(figures["seconds"], 2),
        round(figures["requests"] / figures["seconds"], 1),
        latency,
        errors=figures["errors"],
        wrong_answers=figures["wrong"],
        cpu=cpu,
        details=details,
    )
    return run


def cpu_per_request(run: Run) -> dict[str, float]:
    """CPU microseconds per answered request: of the Python process doing the work (the service
    for http runs; this process for sql and inproc runs; pgbench for pgbench runs) and of PostgreSQL."""
    if not run.requests or not run.seconds or not run.cpu:
        return {}
    python = run.cpu.get("service", 0.0) if run.name.startswith("http") else run.cpu.get("generator", 0.0)
    scale = run.seconds * 1e6 / 100 / run.requests
    return {"client_or_service_us": round(python * scale, 1), "postgres_us": round(run.cpu.get("postgres", 0.0) * scale, 1)}


def print_run(run: Run) -> None:
    print(
        f"   {run.requests} requests in {run.seconds} s: {run.per_s:.0f}/s, p50 {run.latency['p50_ms']:.2f} ms, p99 {run.latency['p99_ms']:.2f} ms, "
        f"errors {run.errors}, wrong {run.wrong_answers}; CPU {fmt_cpu(run.cpu)}",
        flush=True,
    )


def run_table(runs: list[Run], *, first: str, width: int) -> str:
    """One line a run; `first` heads the name column, `width` wide."""
    header = (
        f"{first:<{width}} {'mode':<12} {'requests':>8} {'per s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'p99.9':>7} {'max ms':>7} {'err':>4} {'wrong':>5}  {'CPU % of a core: svc / pg / gen / others':<40} {'CPU us/req: py / pg':<20}"
    )
    lines = [header, "-" * len(header)]
    for r in runs:
        c = r.cpu
        cpu = f"{c.get('service', 0):>4.0f} / {c.get('postgres', 0):>4.0f} / {c.get('generator', 0):>4.0f} / {c.get('others', math.nan):>4.0f}"
        mode = f"{r.mode} {r.details['rate']:g}" if "rate" in r.details else r.mode
        per = cpu_per_request(r)
        lines.append(
            f"{r.name:<{width}} {mode:<12} {r.requests:>8} {r.per_s:>8.0f} {r.latency['p50_ms']:>7.2f} {r.latency['p95_ms']:>7.2f} "
            f"{r.latency['p99_ms']:>7.2f} {r.latency['p99.9_ms']:>7.2f} {r.latency['max_ms']:>7.1f} {r.errors:>4} {r.wrong_answers:>5}  {cpu:<40} "
            f"{per.get('client_or_service_us', math.nan):>6.0f} / {per.get('postgres_us', math.nan):>4.0f}"
        )
    return "\n".join(lines)


# -- load shapes: closed loop (max) and open loop (steady) ---------------------------------------

Fire = Callable[[int], Awaitable[tuple[float, bool]]]  # i -> (time the request left, answer as expected)


async def closed_loop(fire: Fire, *, concurrency: int, seconds: float, deadline: Deadline, total: int | None = None, reserve: float = 0.0) -> dict[str, Any]:
    """`concurrency` workers, each sending its next request when the previous one is answered, for
    `seconds` (at most until `reserve` seconds before the deadline). With `total`, over requests
    0 .. total-1 used once each: it also ends when they run out, and says so (`ran_out`)."""
    latencies: list[float] = []
    errors = wrong = 0
    taken = 0
    end = time.perf_counter() + min(seconds, deadline.left() - reserve)

    async def worker() -> None:
        nonlocal errors, wrong, taken
        while time.perf_counter() < end and (total is None or taken < total):
            i = taken
            taken += 1
            started = time.perf_counter()
            try:
                _, ok = await asyncio.wait_for(fire(i), 5)
            except Exception:
                errors += 1
                continue
            latencies.append(time.perf_counter() - started)
            wrong += not ok

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*[worker() for _ in range(concurrency)]), seconds + 15)
    elapsed = time.perf_counter() - started
    figures = {"requests": len(latencies), "seconds": elapsed, "latencies": latencies, "errors": errors, "wrong": wrong}
    if total is not None:
        figures["ran_out"] = taken >= total
    return figures


async def open_loop(fire: Fire, *, rate: float, seconds: float, deadline: Deadline, max_in_flight: int = 2_000) -> dict[str, Any]:
    """Request i is due at start + i/rate and is sent then, whatever happened to the others;
    latency counts from the time it was due (coordinated omission corrected), `service` from the
    time it actually left."""
    total = int(rate * min(seconds, deadline.left() - 20))
    latencies: list[float] = []
    service: list[float] = []
    errors = wrong = shed = 0
    max_lag = 0.0
    in_flight: set[asyncio.Task[None]] = set()

    async def one(i: int, due: float) -> None:
        nonlocal errors, wrong
        try:
            sent, ok = await asyncio.wait_for(fire(i), 5)
        except Exception:
            errors += 1
            return
        done = time.perf_counter()
        latencies.append(done - due)
        service.append(done - sent)
        wrong += not ok

    start = time.perf_counter() + 0.05
    i = 0
    while i < total:
        now = time.perf_counter()
        while i < total and start + i / rate <= now:
            due = start + i / rate
            max_lag = max(max_lag, now - due)
            if len(in_flight) >= max_in_flight:
                shed += 1  # far behind: not sent, counted as an error
            else:
                task = asyncio.create_task(one(i, due))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            i += 1
        if i < total:
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        deadline.left()
    if in_flight:
        await asyncio.wait(set(in_flight), timeout=10)
    elapsed = time.perf_counter() - start
    return {
        "requests": len(latencies),
        "offered": total,
        "seconds": elapsed,
        "latencies": latencies,
        "service": service,
        "errors": errors + shed,
        "shed": shed,
        "wrong": wrong,
        "max_schedule_lag_ms": round(max_lag * 1000, 2),
    }


class RawHttp:
    """Keep-alive HTTP/1.1 connections on asyncio streams, one request at a time per connection:
    enough for answers with Content-Length bodies, far cheaper per request than httpx."""

    def __init__(self, port: int, connections: int) -> None:
        self.port, self.count = port, connections
        self.idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
        self.all: list[asyncio.StreamWriter] = []

    async def _open(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.all.append(writer)
        self.idle.put_nowait((reader, writer))

    async def start(self) -> None:
        await asyncio.gather(*[self._open() for _ in range(self.count)])

    async def get(self, raw_request: bytes) -> tuple[float, int, bytes]:
        reader, writer = await self.idle.get()
        try:
            sent = time.perf_counter()
            writer.write(raw_request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            if length is None:
                raise RuntimeError("response without Content-Length")
            body = await reader.readexactly(int(length.group(1)))
        except BaseException:
            writer.close()
            asyncio.ensure_future(self._open())  # replace it
            raise
        self.idle.put_nowait((reader, writer))
        return sent, status, body

    async def close(self) -> None:
        for writer in self.all:
            writer.close()


# -- wrk ----------------------------------------------------------------------------------------

# wrk's figures as one line, `WRK_JSON {...}`, read back by run_wrk.
WRK_REPORT = r"""function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p95_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
"""

_WRK_PATHS = string.Template(r"""
-- Generated by ${about}
local paths = {}
for line in io.lines("${paths}") do paths[#paths + 1] = line end
local n = #paths
${headers}local threads = 0
local counter = 0

function setup(thread)
  thread:set("offset", threads * ${step})
  threads = threads + 1
end

function init(args)
  counter = offset or 0
end

function request()
  counter = counter + 1
  return wrk.format(nil, paths[(counter % n) + 1])
end

""")


def wrk_paths_script(about: str, paths: Path, *, offset_step: int, headers: dict[str, str] | None = None) -> str:
    """A wrk script that cycles through the request paths of the file `paths` (one a line), each
    thread from an offset of its own, with `headers` on every request, and reports as WRK_REPORT."""
    lines = "".join(f'wrk.headers["{name}"] = "{value}"\n' for name, value in (headers or {}).items())
    return _WRK_PATHS.substitute(about=about, paths=paths, headers=lines, step=offset_step) + WRK_REPORT


def run_wrk(url: str, script: Path, *, threads: int, connections: int, seconds: float, deadline: Deadline) -> dict[str, Any]:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "5s", "-s", str(script), url]
    timeout = min(seconds + 30, deadline.left())
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    match = re.search(r"^WRK_JSON (\{.*\})$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or not match:
        raise RuntimeError(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    figures = json.loads(match.group(1))
    figures["command"] = " ".join(command[:-3] + ["-s", "check.lua", url])
    return figures


def wrk_run(
    name: str, meter: CpuMeter, url: str, script: Path, *, threads: int, connections: int, seconds: float, deadline: Deadline, expected_non_2xx: float = 0.0
) -> Run:
    """wrk at full speed, as a Run (its CPU counts as the generator's). wrk counts every non-2xx
    answer as a "status" error; `expected_non_2xx` is the share of requests answered so on purpose."""
    before = meter.snapshot()
    figures = run_wrk(url, script, threads=threads, connections=connections, seconds=seconds, deadline=deadline)
    cpu = meter.delta(before, meter.snapshot(), child=True)
    seconds = figures["duration_us"] / 1e6
    unexpected_status = max(0, figures["status"] - round(expected_non_2xx * figures["requests"] * 1.5))
    errors = figures["connect"] + figures["read"] + figures["write"] + figures["timeout"] + unexpected_status
    latency = {
        k: round(figures[f"{n}_us"] / 1000, 3)
        for k, n in (("p50_ms", "p50"), ("p90_ms", "p90"), ("p95_ms", "p95"), ("p99_ms", "p99"), ("p99.9_ms", "p999"), ("max_ms", "max"))
    }
    latency["mean_ms"] = round(figures["mean_us"] / 1000, 3)
    return Run(
        name,
        "max",
        f"wrk -t{threads} -c{connections}",
        figures["requests"],
        round(seconds, 2),
        round(figures["requests"] / seconds, 1),
        latency,
        errors=errors,
        cpu=cpu,
        details={"wrk": figures},
    )


# -- Kafka ---------------------------------------------------------------------------------------


async def new_topic(config: StackConfig, prefix: str, deadline: Deadline, *, partitions: int) -> str:
    """A fresh topic of `partitions` partitions, returned once every partition has a leader."""
    topic = f"bench.{prefix}.{uuid.uuid4().hex[:8]}"
    await ensure_topics(config.kafka_bootstrap, {topic: partitions})
    client = AIOKafkaClient(bootstrap_servers=config.kafka_bootstrap, client_id="bench-admin")
    await client.bootstrap()
    try:
        while True:
            cluster = await client.fetch_all_metadata()
            if len(cluster.available_partitions_for_topic(topic) or ()) == partitions:
                return topic
            deadline.left()
            await asyncio.sleep(0.1)
    finally:
        await client.close()


def relay_producer(config: StackConfig, client_id: str) -> AIOKafkaProducer:
    """A producer configured as the outbox relay's (service_runtime.outbox._producer)."""
    return AIOKafkaProducer(
        bootstrap_servers=config.kafka_bootstrap,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        max_batch_size=256 * 1024,
        request_timeout_ms=15_000,
    )


def raw_consumer(config: StackConfig, topic: str) -> AIOKafkaConsumer:
    """A consumer of a group of its own reading `topic` from the start, committing by hand."""
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=config.kafka_bootstrap,
        client_id="bench-raw-consumer",
        group_id=f"bench-raw-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )


# -- platform tokens ------------------------------------------------------------------------------


class Tokens:
    """Platform tokens as identity signs them (RS256 here), verified by the service through a JWKS
    endpoint on loopback (`<SERVICE>_JWKS_URL=tokens.url`): the service's own verification, without
    an identity process. (bench/registration/run.py has its own copy, from before this one.)"""

    def __init__(self, kid: str = "bench") -> None:
        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key())), "kid": kid, "use": "sig", "alg": "RS256"}
        body = json.dumps({"keys": [public]}).encode()

        class Keys(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", free_port()), Keys)
        self.url = f"http://127.0.0.1:{self.server.server_port}/.well-known/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, person: uuid.UUID, organisation: uuid.UUID | None, *, lifetime_s: int = 900) -> str:
        now = int(time.time())
        claims = {"iss": "wse-identity", "aud": "wse-platform", "sub": str(person), "iat": now, "exp": now + lifetime_s, "jti": uuid.uuid4().hex}
        if organisation is not None:
            claims["org"] = str(organisation)
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def raw_request(method: str, path: str, port: int, token: str | None, body: Any = None, headers: dict[str, str] | None = None) -> bytes:
    """One HTTP/1.1 request as bytes, for RawHttp: a bearer token, a JSON body, extra headers."""
    payload = b"" if body is None else json.dumps(body).encode()
    head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Content-Length: {len(payload)}"]
    if token is not None:
        head.append(f"Authorization: Bearer {token}")
    if body is not None:
        head.append("Content-Type: application/json")
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


# -- py-spy ---------------------------------------------------------------------------------------


def py_spy() -> list[str] | None:
    """The py-spy command: on PATH, else through uvx (from PyPI); None without either."""
    return [shutil.which("py-spy")] if shutil.which("py-spy") else ([shutil.which("uvx"), "py-spy"] if shutil.which("uvx") else None)


def summarise_stacks(
    path: Path,
    components: list[tuple[str, tuple[str, ...]]],
    stages: list[tuple[str, tuple[str, ...]]],
    *,
    other: str,
    unmatched: tuple[re.Pattern[str], str] | None = None,
    top: int = 20,
    empty_stages: bool = True,
) -> dict[str, Any]:
    """py-spy raw (collapsed) stacks: shares of the busy samples by component (exclusive: the
    innermost frame that matches one; `unmatched` = (pattern, label) stops the search at a frame of
    that pattern first; else `other`), by stage (inclusive), and the `top` leaf frames by self time."""
    by_component: Counter[str] = Counter()
    by_stage: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack_text.split(";")
        self_time[frames[-1]] += count
        label = other
        for frame in reversed(frames):
            match = next((name for name, needles in components if any(needle in frame for needle in needles)), None)
            if match:
                label = match
                break
            if unmatched and unmatched[0].search(frame):
                label = unmatched[1]
                break
        by_component[label] += count
        for name, needles in stages:
            if any(any(needle in frame for needle in needles) for frame in frames):
                by_stage[name] += count
    share = (lambda n: round(100 * n / total, 1)) if total else (lambda n: 0.0)
    return {
        "samples": total,
        "components_pct": {name: share(n) for name, n in by_component.most_common()},
        "stages_pct": {name: share(by_stage[name]) for name, _ in stages if empty_stages or by_stage[name]},
        "top_self_pct": [(frame, share(n)) for frame, n in self_time.most_common(top)],
    }


# -- output ---------------------------------------------------------------------------------------


def code_state(*paths: str) -> dict[str, Any]:
    """Which code was measured: the commit, and the files under `paths` with uncommitted changes; {} without git."""
    try:

        def git(*command: str) -> str:
            return subprocess.run(["git", *command], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=True).stdout

        return {
            "commit": git("rev-parse", "--short", "HEAD").strip(),
            "uncommitted": [line[3:] for line in git("status", "--porcelain", "--", *paths).splitlines() if line.strip()],
        }
    except (OSError, subprocess.SubprocessError):
        return {}


def print_verdicts(checks: list[dict[str, Any]]) -> None:
    """MET / MISSED (blank: for information) target: measured [baseline]."""
    for check in checks:
        print(
            f"  {'      ' if check['met'] is None else 'MET   ' if check['met'] else 'MISSED'} {check['target']}: {check['measured']}"
            + (f"  [baseline: {check['baseline']}]" if check["baseline"] else "")
        )


def print_code(at_start: dict[str, Any] | None, now: dict[str, Any]) -> None:
    """The code measured, or a note that it changed while the benchmark ran."""
    if at_start and at_start != now:
        print(f"  NOTE: the code changed during the run: the service loaded {at_start}, now {now}")
    elif now:
        print(f"  Code measured: commit {now.get('commit')}" + (f" + uncommitted {now['uncommitted']}" if now.get("uncommitted") else ""))


def settings_of(args: Any) -> dict[str, Any]:
    """The command's options, as JSON."""
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}


def results_head(benchmark: str, script: str, argv: list[str] | None, *, shared: str) -> dict[str, Any]:
    """The first keys of a results file: which benchmark, when, the command, the machine (its cores shared by `shared`)."""
    return {
        "benchmark": benchmark,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": f"uv run python {script} " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(), "shared": shared},
    }


def write_results(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"Written to {path}")


# -- the data generators ---------------------------------------------------------------------------


def brussels_today() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo("Europe/Brussels")).date()


def new_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


async def migrate_empty(connection: asyncpg.Connection, service: str, *, empty: str) -> float:
    """The runtime's and `service`'s migrations (the files `python -m <service> migrate` applies);
    fails unless table `empty` holds no rows yet. Returns the seconds the migrations took."""
    started = time.monotonic()
    await apply_migrations(connection, discover("runtime", "service_runtime.sql") + discover(service, f"{service}.migrations"))
    seconds = time.monotonic() - started
    if await connection.fetchval(f"SELECT count(*) FROM {empty}"):
        raise SystemExit(f"the {service} database already holds {empty}: load into a freshly migrated database")
    return seconds


async def copy(connection: asyncpg.Connection, table: str, columns: list[str], rows: list[tuple]) -> float:
    """COPY rows into a table; returns the seconds it took."""
    started = time.monotonic()
    await connection.copy_records_to_table(table, records=rows, columns=columns)
    return time.monotonic() - started
