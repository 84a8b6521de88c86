"""Rights-check benchmark: GET /v1/check on ONE identity service process, side by side with the
same check as raw SQL (asyncpg) and with the in-process check other services make from their
rights projection.

    uv run python bench/identity/run.py [--profile] [options]      (from the repository root)

It starts the bench stack of its own (devstack, .run/bench, PostgreSQL/Kafka/mail sink on the
bench ports, 127.0.0.1 only), loads 10,000 organisations, 100,000 persons and 300,000 rights with
bench/identity/generate.py (plus the same rights in a projection database), bootstraps the
department's operator, starts one `python -m identity serve` (LOG_LEVEL=WARNING, the service's
default pool of 10 connections, uvicorn's default uvloop + httptools), signs in through the
development identity provider for a platform token, checks that every answer is the expected one,
and then measures, in this order:

  http   max      wrk -t2 -c32 -d20s (closed loop), requests spread over 10,000 real tuples;
  http-floor max  wrk on GET /health/live of the same process: the HTTP stack alone, its ceiling;
  sql    max      the service's query on an asyncpg pool of 10 connections, 32 concurrent workers:
                  acquire, query, release, as identity.views.run runs the check since commit
                  cc1c42e (sql), and inside BEGIN/COMMIT as it ran before (sql-tx);
  pgbench max     the same query from a C client (pgbench -M prepared -c 10), bare and in BEGIN/COMMIT;
  http   steady   1,000 requests/s, open loop (see below), 30 s; then 250/s and 500/s, 15 s each;
  sql    steady   the same 1,000/s schedule on the asyncpg pool;
  inproc seq      service_runtime.auth.holds_right on one connection to the projection database,
                  sequentially (20,000 calls), and identity's own query the same way;

prints a table with the verdicts and writes bench/identity/results/latest.json. With --profile it
then samples the service with py-spy (from PyPI, via `uvx` when it is not on PATH) during another
wrk run and summarises where its CPU goes.

Steady load: Debian has wrk but no wrk2, and wrk has no rate limit. The open-loop generator here
sends each request at its scheduled time (start + i/rate) whatever happened to the earlier ones,
over 32 keep-alive connections, and measures latency from the SCHEDULED time to the end of the
response (so a stall counts for every request it delays: no coordinated omission). Its client is
a minimal HTTP/1.1 client on asyncio streams (uvloop) rather than httpx: at 1,000 requests/s httpx
alone would take a large share of one of the two cores and add its own time to each latency
(`--steady-client httpx` runs it with httpx for comparison).

Everything shares 2 cores: the load generators, the service, PostgreSQL and Kafka (idle here). Only
figures from the same run are comparable; the CPU columns say who used the cores.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import uvloop

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.common import (  # noqa: E402
    WRK_REPORT,
    BenchStack,
    CpuMeter,
    Deadline,
    Fire,
    RawHttp,
    Run,
    ServiceProcess,
    closed_loop,
    code_state,
    generate,
    make_run,
    open_loop,
    print_code,
    print_run,
    print_verdicts,
    py_spy,
    results_head,
    run_table,
    run_wrk,
    settings_of,
    summarise_stacks,
    write_results,
    wrk_paths_script,
    wrk_run,
)
from bench.stats import latency_summary  # noqa: E402
from devstack import postgres  # noqa: E402
from devstack.config import StackConfig  # noqa: E402
from service_runtime import auth as runtime_auth  # noqa: E402
from service_runtime.db import configure_connection  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
IDENTITY_DB = "bench_identity"
PROJECTION_DB = "bench_projection"
OPERATOR = {
    "national_register_number": "85073003328",
    "first_name": "Hanne",
    "last_name": "Helpdesk",
    "email": "helpdesk@wse.example",
    "date_of_birth": "1985-07-30",
}

TARGET_HTTP_RPS = 3_000.0
TARGET_HTTP_P99_MS = 10.0  # at a steady 1,000 requests/s
TARGET_INPROC_P99_MS = 1.0
CODE = ("runtime", "services/identity")  # whose uncommitted changes the results name
ANCHORS = {"SpiceDB published p95 of a permission check": "5.76 ms", "Okta FGA aim, p99": "50 ms"}

# The service's query (identity.queries.HOLDS_RIGHT), verbatim, and the projection's.
IDENTITY_QUERY = """
            SELECT EXISTS (
                SELECT 1 FROM rights r JOIN memberships m USING (organisation_id, person_id)
                WHERE r.person_id = $1 AND r.organisation_id = $2 AND r.role = $3 AND r.context = $4
                  AND r.revoked_at IS NULL AND r.valid_from <= $5 AND (r.valid_until IS NULL OR r.valid_until >= $5)
            )
            """


# -- the identity service ----------------------------------------------------------------------


class Identity(ServiceProcess):
    """ONE `python -m identity serve`; it verifies the platform tokens it signs against its own JWKS."""

    def __init__(self, config: StackConfig, database_url: str, log_path: Path) -> None:
        super().__init__("identity", config, database_url, log_path)
        self.env["IDENTITY_JWKS_URL"] = f"{self.url}/.well-known/jwks.json"

    def sign_in(self) -> str:
        """A fresh platform token for the operator (tokens live at most 15 minutes)."""
        proof = httpx.post(self.url + "/v1/dev-idp/proofs", json={"national_register_number": OPERATOR["national_register_number"]}, timeout=10)
        proof.raise_for_status()
        response = httpx.post(self.url + "/v1/sign-in", json={"proof": proof.json()["proof"]}, timeout=10)
        response.raise_for_status()
        return response.json()["access_token"]


def check_path(t: dict[str, Any]) -> str:
    return f"/v1/check?person_id={t['person_id']}&organisation_id={t['organisation_id']}&role={t['role']}&context={t['context']}"


def query_args(t: dict[str, Any], on: date) -> tuple[Any, ...]:
    return UUID(t["person_id"]), UUID(t["organisation_id"]), t["role"], t["context"], on


# -- wrk ----------------------------------------------------------------------------------------


def write_wrk_script(work: Path, token: str) -> Path:
    script = work / "check.lua"
    script.write_text(
        wrk_paths_script(
            "bench/identity/run.py: spreads requests over the sample's check paths.",
            work / "paths.txt",
            offset_step=4999,
            headers={"Authorization": f"Bearer {token}"},
        )
    )
    return script


def identity_wrk_run(config: StackConfig, identity: Identity, work: Path, args: argparse.Namespace, deadline: Deadline, *, floor: bool = False) -> Run:
    """wrk at full speed on /v1/check; with floor, on GET /health/live (the HTTP stack alone:
    uvicorn, Litestar, the correlation-id middleware and the access guard, which lets it through)."""
    if floor:
        script = work / "floor.lua"
        script.write_text("-- Generated by bench/identity/run.py: wrk's own request (GET /health/live), figures as JSON.\n" + WRK_REPORT)
        url, seconds = identity.url + "/health/live", args.floor_seconds
    else:
        script, url, seconds = write_wrk_script(work, identity.sign_in()), identity.url, args.wrk_seconds
    return wrk_run(
        "http-floor" if floor else "http",
        CpuMeter(config, lambda: identity.pid),
        url,
        script,
        threads=args.wrk_threads,
        connections=args.wrk_connections,
        seconds=seconds,
        deadline=deadline,
    )


# -- pgbench: the same check from a C client ----------------------------------------------------

PGBENCH_QUERY = """SELECT EXISTS (SELECT 1 FROM bench_sample s
  JOIN rights r ON r.person_id = s.person_id AND r.organisation_id = s.organisation_id AND r.role = s.role AND r.context = s.context
  JOIN memberships m ON m.organisation_id = r.organisation_id AND m.person_id = r.person_id
  WHERE s.i = :i AND r.revoked_at IS NULL AND r.valid_from <= '{day}' AND (r.valid_until IS NULL OR r.valid_until >= '{day}'));"""


async def load_bench_sample(url: str, tuples: list[dict[str, Any]]) -> None:
    """The sample as a table, so pgbench can pick tuple :i (one primary-key lookup more than the service's query)."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            "DROP TABLE IF EXISTS bench_sample; CREATE TABLE bench_sample (i integer PRIMARY KEY, person_id uuid, organisation_id uuid, role text, context text)"
        )
        await connection.copy_records_to_table(
            "bench_sample", records=[(i + 1, UUID(t["person_id"]), UUID(t["organisation_id"]), t["role"], t["context"]) for i, t in enumerate(tuples)]
        )
        await connection.execute("ANALYZE bench_sample")
    finally:
        await connection.close()


def pgbench_run(name: str, url: str, work: Path, size: int, on: date, args: argparse.Namespace, meter: CpuMeter, deadline: Deadline) -> Run:
    body = PGBENCH_QUERY.format(day=on.isoformat())
    script = work / f"{name}.sql"
    script.write_text(f"\\set i random(1, {size})\n" + (f"BEGIN;\n{body}\nCOMMIT;\n" if name.endswith("-tx") else body + "\n"))
    prefix = work / f"{name}-log"
    for old in work.glob(f"{prefix.name}*"):
        old.unlink()
    command = [
        str(postgres._bin_dir() / "pgbench"),
        "-n",
        "-M",
        "prepared",
        "-c",
        str(args.pool_size),
        "-j",
        "1",
        "-T",
        f"{args.wrk_seconds:.0f}",
        "-f",
        str(script),
        "-l",
        f"--log-prefix={prefix}",
        url,
    ]
    before = meter.snapshot()
    result = subprocess.run(command, capture_output=True, text=True, timeout=min(args.wrk_seconds + 30, deadline.left()))
    cpu = CpuMeter.delta(before, meter.snapshot(), child=True)
    if result.returncode != 0:
        raise RuntimeError(f"pgbench failed:\n{result.stdout}\n{result.stderr}")
    latencies = []
    for log in work.glob(f"{prefix.name}*"):
        latencies += [int(line.split()[2]) / 1e6 for line in log.read_text().splitlines() if line.strip()]
    failed = re.search(r"number of failed transactions: (\d+)", result.stdout)
    seconds = float(args.wrk_seconds)
    return Run(
        name,
        "max",
        f"pgbench -M prepared -c {args.pool_size} -j 1 (C client)",
        len(latencies),
        seconds,
        round(len(latencies) / seconds, 1),
        latency_summary(latencies),
        errors=int(failed.group(1)) if failed else 0,
        cpu=cpu,
        details={"pgbench_tps_line": next((line.strip() for line in result.stdout.splitlines() if line.startswith("tps")), None), "script": script.read_text()},
    )


# -- clients ------------------------------------------------------------------------------------


def http_fire(client: Any, kind: str, identity: Identity, tuples: list[dict[str, Any]], token: str) -> Fire:
    n = len(tuples)
    if kind == "raw":
        requests = [f"GET {check_path(t)} HTTP/1.1\r\nHost: 127.0.0.1:{identity.port}\r\nAuthorization: Bearer {token}\r\n\r\n".encode() for t in tuples]
        expected = [b'"allowed":true' if t["allowed"] else b'"allowed":false' for t in tuples]

        async def fire(i: int) -> tuple[float, bool]:
            sent, status, body = await client.get(requests[i % n])
            if status != 200:
                raise RuntimeError(f"HTTP {status}")
            return sent, expected[i % n] in body.replace(b" ", b"")

        return fire
    headers = {"Authorization": f"Bearer {token}"}
    paths = [check_path(t) for t in tuples]

    async def fire_httpx(i: int) -> tuple[float, bool]:
        sent = time.perf_counter()
        response = await client.get(paths[i % n], headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}")
        return sent, response.json()["allowed"] == tuples[i % n]["allowed"]

    return fire_httpx


def sql_fire(pool: asyncpg.Pool, tuples: list[dict[str, Any]], on: date, *, transaction: bool) -> Fire:
    n = len(tuples)
    arguments = [query_args(t, on) for t in tuples]

    async def fire(i: int) -> tuple[float, bool]:
        sent = time.perf_counter()
        async with pool.acquire() as connection:
            if transaction:  # as identity.views.run does: acquire, BEGIN, query, COMMIT
                async with connection.transaction():
                    allowed = await connection.fetchval(IDENTITY_QUERY, *arguments[i % n])
            else:
                allowed = await connection.fetchval(IDENTITY_QUERY, *arguments[i % n])
        return sent, bool(allowed) == tuples[i % n]["allowed"]

    return fire


# -- the runs -----------------------------------------------------------------------------------


async def correctness(identity: Identity, identity_url: str, projection_url: str, tuples: list[dict[str, Any]], on: date, token: str) -> dict[str, Any]:
    """Every sample tuple through SQL (both databases) and 1,000 through HTTP give the expected answer."""
    out: dict[str, Any] = {}
    for name, url, check in (("identity_sql", identity_url, None), ("projection_inproc", projection_url, runtime_auth.holds_right)):
        connection = await asyncpg.connect(url)
        try:
            wrong = 0
            for t in tuples:
                if check is None:
                    answer = await connection.fetchval(IDENTITY_QUERY, *query_args(t, on))
                else:
                    answer = await check(
                        connection, person_id=UUID(t["person_id"]), organisation_id=UUID(t["organisation_id"]), role=t["role"], context=t["context"], on=on
                    )
                wrong += bool(answer) != t["allowed"]
            out[name] = {"checked": len(tuples), "wrong": wrong}
        finally:
            await connection.close()
    async with httpx.AsyncClient(base_url=identity.url, timeout=10, headers={"Authorization": f"Bearer {token}"}) as client:
        subset = tuples[:1000]
        semaphore = asyncio.Semaphore(8)

        async def one(t: dict[str, Any]) -> bool:
            async with semaphore:
                response = await client.get(check_path(t))
                return response.status_code == 200 and response.json() == {"allowed": t["allowed"]}

        results = await asyncio.gather(*[one(t) for t in subset])
        out["http"] = {"checked": len(subset), "wrong": results.count(False)}
    return out


async def inproc_sequential(name: str, url: str, tuples: list[dict[str, Any]], on: date, calls: int, deadline: Deadline, meter: CpuMeter) -> Run:
    """One connection, one call after the other, as a route guard in another service makes it."""
    connection = await asyncpg.connect(url)
    await configure_connection(connection)  # as a service's pool connection
    try:
        keys = [(UUID(t["person_id"]), UUID(t["organisation_id"]), t["role"], t["context"], t["allowed"]) for t in tuples]
        if name == "inproc-projection":

            async def check(p, o, r, c) -> bool:
                return await runtime_auth.holds_right(connection, person_id=p, organisation_id=o, role=r, context=c, on=on)
        else:

            async def check(p, o, r, c) -> bool:
                return bool(await connection.fetchval(IDENTITY_QUERY, p, o, r, c, on))

        for p, o, r, c, _ in keys[:1000]:  # warm-up: prepared statement cache, buffers
            await check(p, o, r, c)
        latencies: list[float] = []
        wrong = 0
        before = meter.snapshot()
        started = time.perf_counter()
        for i in range(calls):
            if i % 1000 == 0:
                deadline.left()
            p, o, r, c, expected = keys[i % len(keys)]
            t0 = time.perf_counter()
            answer = await check(p, o, r, c)
            latencies.append(time.perf_counter() - t0)
            wrong += answer != expected
        elapsed = time.perf_counter() - started
        cpu = CpuMeter.delta(before, meter.snapshot())
    finally:
        await connection.close()
    what = "service_runtime.auth.holds_right, projection DB" if name == "inproc-projection" else "identity's query (rights JOIN memberships), identity DB"
    return Run(name, "sequential", what, calls, round(elapsed, 2), round(calls / elapsed, 1), latency_summary(latencies), wrong_answers=wrong, cpu=cpu)


async def measure(
    config: StackConfig,
    identity: Identity,
    work: Path,
    args: argparse.Namespace,
    urls: dict[str, str],
    tuples: list[dict[str, Any]],
    on: date,
    runs: list[Run],
    report: dict[str, Any],
    deadline: Deadline,
) -> None:
    meter = CpuMeter(config, lambda: identity.pid)

    def done(run: Run) -> None:
        runs.append(run)
        print_run(run)

    print("-> correctness: sample through SQL, the projection and HTTP ...", flush=True)
    report["correctness"] = await correctness(identity, urls["identity"], urls["projection"], tuples, on, identity.sign_in())
    print(f"   {report['correctness']}", flush=True)
    if any(v["wrong"] for v in report["correctness"].values()):
        raise RuntimeError(f"wrong answers before measuring: {report['correctness']}")

    print(f"-> warm-up: wrk {args.warmup_seconds:g} s (not counted) ...", flush=True)
    run_wrk(
        identity.url,
        write_wrk_script(work, identity.sign_in()),
        threads=args.wrk_threads,
        connections=args.wrk_connections,
        seconds=args.warmup_seconds,
        deadline=deadline,
    )

    print(f"-> http / max: wrk -t{args.wrk_threads} -c{args.wrk_connections} -d{args.wrk_seconds:g}s ...", flush=True)
    done(await asyncio.to_thread(identity_wrk_run, config, identity, work, args, deadline))
    if args.floor_seconds > 0:
        print(f"-> http-floor / max: wrk on GET /health/live of the same process (no token, no database), {args.floor_seconds:g} s ...", flush=True)
        done(await asyncio.to_thread(identity_wrk_run, config, identity, work, args, deadline, floor=True))

    pool = await asyncpg.create_pool(urls["identity"], min_size=args.pool_size, max_size=args.pool_size, init=configure_connection)
    try:
        for transaction in (True, False):
            name = "sql-tx" if transaction else "sql"
            print(f"-> {name} / max: asyncpg pool of {args.pool_size}, {args.wrk_connections} workers, {args.wrk_seconds:g} s ...", flush=True)
            fire = sql_fire(pool, tuples, on, transaction=transaction)
            await closed_loop(fire, concurrency=args.wrk_connections, seconds=1, deadline=deadline)  # warm-up
            figures, cpu = await meter.measure(closed_loop(fire, concurrency=args.wrk_connections, seconds=args.wrk_seconds, deadline=deadline))
            done(make_run(name, "max", f"asyncpg pool {args.pool_size}, {args.wrk_connections} workers", figures, cpu))

        if not args.no_pgbench:
            await load_bench_sample(urls["identity"], tuples)
            for name in ("pgbench-tx", "pgbench"):
                print(f"-> {name} / max: pgbench -c {args.pool_size} -j 1 -T {args.wrk_seconds:.0f} ...", flush=True)
                done(await asyncio.to_thread(pgbench_run, name, urls["identity"], work, len(tuples), on, args, meter, deadline))

        token = identity.sign_in()
        if args.steady_client == "raw":
            client: Any = RawHttp(identity.port, args.steady_connections)
            await client.start()
        else:
            client = httpx.AsyncClient(
                base_url=identity.url,
                timeout=5,
                limits=httpx.Limits(max_connections=args.steady_connections, max_keepalive_connections=args.steady_connections),
            )
        try:
            fire = http_fire(client, args.steady_client, identity, tuples, token)
            await open_loop(fire, rate=min(args.rate, 500), seconds=2, deadline=deadline)  # warm-up of the connections
            for rate, seconds in [(args.rate, args.steady_seconds), *[(r, args.extra_seconds) for r in args.extra_rates]]:
                print(
                    f"-> http / steady: {rate:g} requests/s open loop for {seconds:g} s ({args.steady_client} client, {args.steady_connections} connections) ...",
                    flush=True,
                )
                await asyncio.sleep(2)  # let a backlog of the previous run drain
                figures, cpu = await meter.measure(open_loop(fire, rate=rate, seconds=seconds, deadline=deadline))
                done(make_run("http", "steady", f"open loop {rate:g}/s, {args.steady_client}, {args.steady_connections} conns", figures, cpu, rate=rate))
        finally:
            await (client.close() if args.steady_client == "raw" else client.aclose())

        print(f"-> sql / steady: {args.rate:g} queries/s open loop for {args.steady_seconds:g} s ...", flush=True)
        fire = sql_fire(pool, tuples, on, transaction=False)
        figures, cpu = await meter.measure(open_loop(fire, rate=args.rate, seconds=args.steady_seconds, deadline=deadline))
        done(make_run("sql", "steady", f"open loop {args.rate:g}/s, asyncpg pool {args.pool_size}", figures, cpu, rate=args.rate))
    finally:
        await pool.close()

    for name, url in (("inproc-projection", urls["projection"]), ("inproc-identity", urls["identity"])):
        print(f"-> {name} / sequential: {args.inproc_calls} calls on one connection ...", flush=True)
        done(await inproc_sequential(name, url, tuples, on, args.inproc_calls, deadline, meter))


# -- profile ------------------------------------------------------------------------------------

# Components, by the leaf-most frame that belongs to one (a C extension's time shows under the
# Python frame that called it): together they make 100 % of the service's busy samples.
COMPONENTS = [
    ("token verification: PyJWT, cryptography (Ed25519)", ("jwt/", "cryptography/")),
    ("asyncpg: pool, transaction, protocol, socket writes", ("asyncpg/",)),
    ("prometheus metrics middleware", ("prometheus",)),
    ("litestar: routing, middleware, params, guards, responses", ("litestar/",)),
    ("msgspec / pydantic", ("msgspec/", "pydantic/", "pydantic_core/")),
    ("structlog / logging", ("structlog/", "logging/")),
    ("uvicorn + httptools: HTTP parsing, ASGI, socket writes", ("uvicorn/", "httptools/")),
    ("service code: identity, service_runtime", ("identity/", "service_runtime/")),
    ("event loop: uvloop/asyncio (C: callbacks, I/O, epoll)", ("asyncio/", "uvloop/")),
]
_STDLIB_FRAME = re.compile(r"\((?:[A-Za-z_][A-Za-z0-9_]*\.py|<frozen [^>]+>):\d+\)$")
# Stages of a request, inclusive (nested stages overlap their parent).
STAGES = [
    ("guard: platform token verification (TokenVerifier.verify)", ("TokenVerifier.verify",)),
    ("handler: service_runtime.http.UseCases (pool acquire, the query; BEGIN/COMMIT unless read_only)", ("__call__ (service_runtime/http.py",)),
    ("the check query itself (holds_right fetchval)", ("holds_right (identity/queries.py",)),
    ("BEGIN / COMMIT (asyncpg Transaction)", ("asyncpg/transaction.py",)),
    ("pool acquire / release, incl. the reset query (release runs in a task of its own)", ("asyncpg/pool.py",)),
    ("response: serialisation and send", ("ASGIResponse.__call__", "to_response (litestar")),
]


def summarise_profile(path: Path) -> dict[str, Any]:
    """py-spy raw (collapsed) stacks: shares of the service's busy samples by component
    (exclusive) and by request stage (inclusive), and the leaf frames with most self time."""
    return summarise_stacks(path, COMPONENTS, STAGES, other="other", unmatched=(_STDLIB_FRAME, "python stdlib (uuid, json, datetime, contextvars ...)"))


def profile(identity: Identity, work: Path, args: argparse.Namespace, deadline: Deadline) -> dict[str, Any]:
    spy = py_spy()
    if not spy or identity.pid is None:
        return {"error": "py-spy not found (pip install py-spy, or install uv for uvx)"}
    out = RESULTS_DIR / "identity-profile.txt"
    seconds = args.profile_seconds
    command = [*spy, "record", "--pid", str(identity.pid), "--duration", f"{seconds:g}", "--rate", "250", "--format", "raw", "--output", str(out)]
    script = write_wrk_script(work, identity.sign_in())
    spying = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(3)  # py-spy attached (uvx may first install it)
        figures = run_wrk(identity.url, script, threads=args.wrk_threads, connections=args.wrk_connections, seconds=seconds - 4, deadline=deadline)
        output, _ = spying.communicate(timeout=min(seconds + 60, deadline.left()))
    finally:
        if spying.poll() is None:
            spying.kill()
            spying.wait(10)
    if spying.returncode != 0 or not out.exists():
        return {"error": f"py-spy failed ({spying.returncode}): {output[-2000:]}"}
    summary = summarise_profile(out)
    summary["collapsed_stacks"] = str(out.relative_to(REPO_ROOT))
    summary["wrk_during_profile_rps"] = round(figures["requests"] / (figures["duration_us"] / 1e6), 1)
    summary["note"] = "py-spy record (idle samples excluded): shares of the service's busy CPU time"
    return summary


# -- output -------------------------------------------------------------------------------------


def verdicts(runs: list[Run], rate: float) -> list[dict[str, Any]]:
    found = []

    def one(name: str, mode: str) -> Run | None:
        return next((r for r in runs if r.name == name and r.mode == mode and r.details.get("rate", rate) == rate), None)

    if r := one("http", "max"):
        bases = [
            f"{label} {b.per_s:,.0f}/s"
            for name, label in (
                ("http-floor", "GET /health/live of the same process"),
                ("sql", "the query through asyncpg in one Python process"),
                ("sql-tx", "the same in BEGIN/COMMIT"),
                ("pgbench", "pgbench (C client)"),
            )
            if (b := one(name, "max"))
        ]
        found.append(
            {
                "target": f"GET /v1/check, one process: >= {TARGET_HTTP_RPS:,.0f} requests/s",
                "met": r.per_s >= TARGET_HTTP_RPS and r.errors == 0,
                "measured": f"{r.per_s:,.0f}/s ({r.errors} errors)",
                "baseline": "; ".join(bases) or None,
            }
        )
    if r := one("http", "steady"):
        base = one("sql", "steady")
        found.append(
            {
                "target": f"GET /v1/check p99 <= {TARGET_HTTP_P99_MS:g} ms at a steady {rate:,.0f}/s",
                "met": r.latency["p99_ms"] <= TARGET_HTTP_P99_MS and r.errors == 0,
                "measured": f"p99 {r.latency['p99_ms']:.2f} ms, p95 {r.latency['p95_ms']:.2f} ms, {r.per_s:,.0f}/s answered ({r.errors} errors)",
                "baseline": f"same query through asyncpg at the same rate: p99 {base.latency['p99_ms']:.2f} ms" if base else None,
            }
        )
    if r := one("inproc-projection", "sequential"):
        base = one("inproc-identity", "sequential")
        found.append(
            {
                "target": f"in-process check from the projection: p99 <= {TARGET_INPROC_P99_MS:g} ms",
                "met": r.latency["p99_ms"] <= TARGET_INPROC_P99_MS,
                "measured": f"p99 {r.latency['p99_ms']:.3f} ms, p50 {r.latency['p50_ms']:.3f} ms",
                "baseline": f"identity's own join query, same way: p99 {base.latency['p99_ms']:.3f} ms" if base else None,
            }
        )
    return found


# -- main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/identity/run.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--organisations", type=int, default=10_000)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--rights", type=int, default=300_000)
    parser.add_argument("--sample", type=int, default=10_000, help="distinct check tuples the load is spread over (default 10000)")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--wrk-connections", type=int, default=32, help="wrk connections, and workers of the SQL max run (default 32)")
    parser.add_argument("--wrk-seconds", type=float, default=20.0, help="length of each max run (default 20)")
    parser.add_argument("--warmup-seconds", type=float, default=5.0)
    parser.add_argument("--floor-seconds", type=float, default=10.0, help="wrk on /health/live, the HTTP stack's own ceiling (default 10; 0 skips it)")
    parser.add_argument("--rate", type=float, default=1_000.0, help="requests/s of the steady runs (default 1000)")
    parser.add_argument("--steady-seconds", type=float, default=30.0)
    parser.add_argument("--steady-connections", type=int, default=32)
    parser.add_argument("--extra-rates", default="250,500", help="comma-separated further HTTP steady rates, to find the knee (default 250,500; '' for none)")
    parser.add_argument("--extra-seconds", type=float, default=15.0)
    parser.add_argument("--steady-client", choices=["raw", "httpx"], default="raw")
    parser.add_argument("--pool-size", type=int, default=10, help="asyncpg pool of the SQL baseline (default 10, the service's database_pool_max)")
    parser.add_argument("--inproc-calls", type=int, default=20_000)
    parser.add_argument("--no-pgbench", action="store_true", help="skip the pgbench baseline")
    parser.add_argument("--profile", action="store_true", help="afterwards, sample the service with py-spy during a wrk run")
    parser.add_argument("--profile-seconds", type=float, default=15.0)
    parser.add_argument("--timeout", type=float, default=900.0, help="hard limit in seconds after the stack is up (default 900)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "latest.json")
    args = parser.parse_args(argv)
    args.extra_rates = [float(r) for r in args.extra_rates.split(",") if r.strip()]
    if args.profile_seconds < 8:
        parser.error("--profile-seconds must be at least 8")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk is needed: apt-get install -y wrk", file=sys.stderr)
        return 2
    config = StackConfig.bench()
    work = config.state_dir / "identity-bench"
    runs: list[Run] = []
    report: dict[str, Any] = {}
    print(f"Benchmark stack '{config.name}' in {config.state_dir} (PostgreSQL 127.0.0.1:{config.postgres_port}, Kafka {config.kafka_bootstrap})", flush=True)
    with BenchStack(config) as run:
        deadline = run.start(args.timeout)
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)

        async def databases() -> dict[str, str]:
            return {"identity": await postgres.recreate_database(config, IDENTITY_DB), "projection": await postgres.recreate_database(config, PROJECTION_DB)}

        urls = asyncio.run(databases())
        print(f"-> generating {args.organisations} organisations, {args.persons} persons, {args.rights} rights (COPY) ...", flush=True)
        sample_path = work / "sample.json"
        report["data"] = generate(
            HERE / "generate.py",
            [
                "--identity-url",
                urls["identity"],
                "--projection-url",
                urls["projection"],
                "--organisations",
                str(args.organisations),
                "--persons",
                str(args.persons),
                "--rights",
                str(args.rights),
                "--sample",
                str(args.sample),
                "--sample-out",
                str(sample_path),
            ],
            deadline,
        )
        print(f"   {report['data']['counts']} in {report['data']['seconds']} s; sample {report['data'].get('sample')}", flush=True)
        sample = json.loads(sample_path.read_text())
        tuples, on = sample["tuples"], date.fromisoformat(sample["today"])
        (work / "paths.txt").write_text("\n".join(check_path(t) for t in tuples) + "\n")

        report["code_at_start"] = code_state(*CODE)  # what the service process loads (others may commit meanwhile)
        identity = Identity(config, urls["identity"], config.logs_dir / "identity-bench.log")
        run.on_exit(identity.stop)
        print("-> bootstrapping the operator and starting ONE identity process ...", flush=True)
        identity.cli("bootstrap", *[f"--{k.replace('_', '-')}={v}" for k, v in OPERATOR.items()])
        identity.start(deadline)
        print(f"   identity pid {identity.pid} at {identity.url}", flush=True)

        gc.collect()
        gc.freeze()  # this process's own collector must not pause the load generators
        uvloop.run(asyncio.wait_for(measure(config, identity, work, args, urls, tuples, on, runs, report, deadline), deadline.left()))
        if args.profile:
            print(f"-> profile: py-spy on the service during wrk ({args.profile_seconds:g} s) ...", flush=True)
            report["profile"] = profile(identity, work, args, deadline)
    error = run.error

    print()
    print(
        f"Results: GET /v1/check on ONE identity process vs the same check as raw SQL; {os.cpu_count()} CPUs shared by load generator, service, PostgreSQL, Kafka"
    )
    print(run_table(runs, first="check", width=18))
    print("  http/max: wrk closed loop; sql*/max: asyncpg closed loop in this Python process; */steady: open loop, latency from the scheduled send time;")
    print("  inproc-*: sequential calls on one connection. CPU: % of one core over the run (generator = wrk, pgbench or this process;")
    print("  others = the rest of the shared machine: other people's stacks and tests, and interrupt time charged to no process).")
    print("  CPU us/req: py = the service (http*) or this process (sql*, inproc*) or pgbench; pg = PostgreSQL, per answered request.")
    checks = verdicts(runs, args.rate)
    print_verdicts(checks)
    print("  Anchors: " + "; ".join(f"{k} {v}" for k, v in ANCHORS.items()))
    if prof := report.get("profile"):
        if "error" in prof:
            print(f"  profile: {prof['error']}")
        else:
            print(f"  profile of the service ({prof['samples']} busy samples during wrk at {prof['wrk_during_profile_rps']:.0f} req/s), by component:")
            for label, pct in prof["components_pct"].items():
                print(f"    {pct:>5.1f}%  {label}")
            print("  by request stage (inclusive):")
            for label, pct in prof["stages_pct"].items():
                print(f"    {pct:>5.1f}%  {label}")
            print("  top self frames: " + "; ".join(f"{frame} {pct}%" for frame, pct in prof["top_self_pct"][:8]))
    print_code(report.get("code_at_start"), code_state(*CODE))
    if error:
        print(f"FAILED: {error}")

    write_results(
        args.output,
        {
            **results_head("identity-check", "bench/identity/run.py", argv, shared="load generator, service, PostgreSQL, Kafka"),
            "code": {"at_service_start": report.pop("code_at_start", None), "at_end": code_state(*CODE)},
            "settings": settings_of(args),
            "targets": {"http_rps": TARGET_HTTP_RPS, "http_p99_ms_at_1000": TARGET_HTTP_P99_MS, "inproc_p99_ms": TARGET_INPROC_P99_MS},
            "anchors": ANCHORS,
            **report,
            "runs": [asdict(r) for r in runs],
            "verdicts": checks,
            "error": error,
        },
    )
    return 1 if error else 0


if __name__ == "__main__":
    sys.exit(main())
