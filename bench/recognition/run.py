"""Recognition (Platos) benchmark, issue 12: the case handlers' work queue over 50,000 applications
in every state, and submitting applications, each on ONE `python -m recognition serve` process,
side by side with the same SQL through asyncpg in the same run.

    uv run python bench/recognition/run.py [options]          (from the repository root)

Targets (issue 12): "The case handler's queue with 50,000 applications in every state: p99 at most
20 ms at 100 requests/s, deadlines computed in SQL from the stored facts (not in Python over every
row); submission p99 at most 100 ms at 100/s. Raw SQL baseline in the same run."

It starts the bench stack as the other benchmarks do (devstack, .run/bench, PostgreSQL/Kafka/mail
sink on the bench ports, 127.0.0.1 only; whatever an interrupted run left is stopped first, and the
stack is stopped at the end, also on an error or Ctrl-C), creates the database bench_recognition,
migrates it with `python -m recognition migrate`, and loads with bench/recognition/generate.py
(COPY, ~15 s) 50,000 applications in every state over 8,000 service providers (the runtime's
organisations_projection), their history, questions and recognitions, and the rights: 20 case
handlers holding case_handler@platos, one staff member per provider holding
dwse_organisation_officer@platos (E-1). Every deadline is the table's generated column, derived by
PostgreSQL's term_end() from the facts on insert. Then VACUUM ANALYZE and a CHECKPOINT.

run.py signs the platform tokens itself (RS256, its key served as JWKS on loopback through
RECOGNITION_JWKS_URL), so the service checks tokens and rights as in production without an identity
process.

Queue (GET /v1/back-office/queue, as a case handler). A mix of 4,000 requests (see
`build_requests`): the first page, one status, one organisation, overdue=true, due_before, a status
with overdue=true, and page 2 by the cursor of page 1 (some with limit 20 or 100). It prints
EXPLAIN (ANALYZE) of the service's queue statement for one request of each kind three ways: as
planned for the request's values (a custom plan), as a generic plan (what a prepared statement may
switch to after five executions), and as the plan cache picks after the mix's first requests;
and the rows of `applications` each reads (no sequential scan over the 50,000). Before measuring it
checks the answers over HTTP (`QueueExpectations`): every distinct request of the first --check,
and every page 2, against the generated data, not against the service's SQL: exactly the expected
applications in the expected order (the deadline derived in Python by the service's domain rules
from the facts, nulls last, then the dossier number: overdue first), the filters hold, every
derived date and `overdue` as the rules say, next_cursor when there is more, page 2 by cursor the
next applications; and the same applications in the same order as the service's own function
(`back_office.work_queue`) gives through asyncpg. Then, open loop (request i sent at start + i/rate,
latency from that scheduled time; the open loop of bench/common.py, 32 keep-alive connections):

  http   queue    --rate (100)/s for --seconds (20) after a warm-up;
  sql    queue    the baseline: back_office.work_queue (the same SQL, run the same way: asyncpg,
                  the statement prepared once per connection) on an asyncpg pool of 10, same schedule;

counting sequential scans of `applications` during each run (pg_stat_user_tables).

Submission (POST /v1/provider/applications/{id}/submit, as the draft's staff member). The data set's
4,500 complete drafts (each of another organisation: one open application per organisation, E-5;
every part parsed by the service's own model and passed by its own rules; a tenth name recognised
subcontractors, E-11), each used once:

  http   submit   --submission-rate (100)/s for --submission-seconds (20), after a warm-up at half the rate;
  sql    submit   the baseline: the same writes by hand in one transaction on an asyncpg pool of 10
                  (UPDATE applications, the history row, the two outbox rows: the submitted event and
                  the confirmation email request, built with the real contract models, with the relay's
                  NOTIFY), same schedule, after a warm-up;

after each run it checks that every answer was 200 with status submitted, and in the database that
each of those applications is submitted with its history row, its submitted event and its email
request in the outbox (matched by application id and idempotency key), and that the relay published
every outbox row; at the end, that Kafka's two topics gained exactly the outbox rows published.

Everything shares the machine's cores: the load generator, the service, PostgreSQL and Kafka. Only
figures from the same run are comparable; the CPU columns say who used the cores. It prints a table
and the verdicts and writes bench/recognition/results/latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import random
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode
from uuid import UUID

import asyncpg
import httpx
import uvloop

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.common import (  # noqa: E402
    BenchStack,
    CpuMeter,
    Deadline,
    Fire,
    RawHttp,
    Run,
    ServiceProcess,
    Tokens,
    code_state,
    cpu_per_request,
    fmt_cpu,
    generate,
    make_run,
    open_loop,
    print_code,
    print_verdicts,
    raw_request,
    results_head,
    run_table,
    settings_of,
    write_results,
)
from devstack import postgres  # noqa: E402
from devstack.config import StackConfig  # noqa: E402
from recognition import domain  # noqa: E402
from recognition.domain import Status  # noqa: E402
from recognition.use_cases import back_office  # noqa: E402
from recognition.use_cases.common import SERVICE, email_key  # noqa: E402
from service_runtime.calendar import brussels_date  # noqa: E402
from service_runtime.calendar import today as brussels_today  # noqa: E402
from service_runtime.clock import SystemClock  # noqa: E402
from service_runtime.db import configure_connection  # noqa: E402
from service_runtime.outbox import _NOTIFY_CHANNEL as OUTBOX_CHANNEL  # noqa: E402 - the relay's wake-up channel
from wse_contracts import Envelope, to_kafka_record  # noqa: E402
from wse_contracts.emails import RecognitionApplicationConfirmed, email_request  # noqa: E402
from wse_contracts.notification import NotificationRequestedV1, Recipient  # noqa: E402
from wse_contracts.recognition import RecognitionApplicationSubmittedV1  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
DATABASE = "bench_recognition"
QUEUE_PATH = "/v1/back-office/queue"

QUEUE_TARGET_P99_MS = 20.0  # issue 12: the queue's p99 at most 20 ms ...
QUEUE_TARGET_RATE = 100.0  # ... at 100 requests/s, over 50,000 applications in every state
SUBMIT_TARGET_P99_MS = 100.0  # issue 12: submission p99 at most 100 ms ...
SUBMIT_TARGET_RATE = 100.0  # ... at 100/s
CODE = ("runtime", "services/recognition")  # whose uncommitted changes the results name
SUBMITTED_TYPE = RecognitionApplicationSubmittedV1.event_type
NOTIFICATION_TYPE = NotificationRequestedV1.event_type
SUBMIT_TOPICS = [RecognitionApplicationSubmittedV1.topic, NotificationRequestedV1.topic]


class Recognition(ServiceProcess):
    """ONE `python -m recognition serve`."""

    ready_seconds = 90.0

    def __init__(self, config: StackConfig, database_url: str, log_path: Path, **extra_env: str) -> None:
        super().__init__("recognition", config, database_url, log_path, **extra_env)


# -- what the queue must answer ------------------------------------------------------------------------


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


class QueueExpectations:
    """The generated facts of every application in the queue, with the deadlines the service's
    Python rules derive from them (recognition.domain): to judge the answers without its SQL."""

    def __init__(self, sample: dict[str, Any]) -> None:
        self.today = date.fromisoformat(sample["today"])
        self.names: dict[str, str] = sample["organisations"]
        self.items: list[dict[str, Any]] = []
        for a in sample["queue"]:
            submitted_on = date.fromisoformat(a["submitted_on"])
            starts, since, heard = _day(a["examination_starts_on"]), _day(a["suspended_since"]), _day(a["heard_on"])
            examination_due = domain.examination_due_on(starts, a["suspended_days"], since)
            commission_due = domain.commission_advice_due_on(heard) if heard else None
            deadline = {
                Status.SUBMITTED: domain.admissibility_due_on(submitted_on),
                Status.IN_EXAMINATION: examination_due,
                Status.RECONSIDERATION_HEARD: commission_due,
            }.get(Status(a["status"]))
            self.items.append(
                {
                    **a,
                    "organisation_name": self.names[a["organisation_id"]],
                    "admissibility_due_on": domain.admissibility_due_on(submitted_on).isoformat(),
                    "examination_due_on": examination_due.isoformat() if examination_due else None,
                    "commission_advice_due_on": commission_due.isoformat() if commission_due else None,
                    "deadline": deadline.isoformat() if deadline else None,
                    "overdue": deadline is not None and deadline < self.today,
                    "sort": (deadline or date.max, a["dossier_seq"]),
                }
            )
        self.items.sort(key=lambda i: i["sort"])

    def matching(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The queue with these filters, in its order: the nearest deadline first (so the overdue lead), none last, then the dossier."""
        due_before = _day(params.get("due_before"))
        out = []
        for i in self.items:
            deadline = _day(i["deadline"])
            if "status" in params and i["status"] != params["status"]:
                continue
            if "organisation_id" in params and i["organisation_id"] != params["organisation_id"]:
                continue
            if params.get("overdue") == "true" and not (deadline is not None and deadline < self.today):
                continue
            if due_before is not None and not (deadline is not None and deadline <= due_before):
                continue
            out.append(i)
        return out

    FIELDS = (
        "application_id",
        "status",
        "organisation_id",
        "organisation_name",
        "submitted_on",
        "admissibility_due_on",
        "examination_starts_on",
        "examination_due_on",
        "suspended_since",
        "suspended_days",
        "heard_on",
        "commission_advice_due_on",
        "deadline",
        "overdue",
    )

    def problems(self, params: dict[str, Any], page_number: int, status: int, body: bytes) -> list[str]:
        if status != 200:
            return [f"HTTP {status}: {body[:200].decode(errors='replace')}"]
        page = json.loads(body)
        limit = int(params.get("limit", 50))
        matching = self.matching(params)
        expected = matching[(page_number - 1) * limit : page_number * limit]
        items = page["items"]
        found: list[str] = []
        if [i["application_id"] for i in items] != [e["application_id"] for e in expected]:
            found.append(f"not the expected applications in the expected order ({len(items)} items, {len(expected)} expected)")
        for item, want in zip(items, expected, strict=False):
            wrong = [f for f in self.FIELDS if item.get(f) != want.get(f)]
            if wrong:
                found.append(f"{item['dossier_number']}: {', '.join(f'{f} {item.get(f)!r} != {want.get(f)!r}' for f in wrong[:3])}")
                break
        deadlines = [(_day(i["deadline"]) or date.max) for i in items]
        if deadlines != sorted(deadlines) or [i["overdue"] for i in items] != sorted((i["overdue"] for i in items), reverse=True):
            found.append("not ordered by deadline, overdue first")
        if bool(page["next_cursor"]) != (len(matching) > page_number * limit):
            found.append("next_cursor wrong")
        return found


# -- the request mix ---------------------------------------------------------------------------------------


def build_requests(expect: QueueExpectations, size: int, seed: int) -> list[dict[str, Any]]:
    """Queue requests in these proportions, each {"kind", "params", "page"}; a page 2 gets its cursor
    from the answer to its page 1 when the answers are checked."""
    rng = random.Random(seed)
    today = expect.today
    queue_orgs = sorted({i["organisation_id"] for i in expect.items})
    all_orgs = sorted(expect.names)
    kinds = {"first_page": 24, "status": 20, "organisation": 14, "overdue": 12, "due_before": 10, "status_overdue": 5, "page_2": 15}
    out: list[dict[str, Any]] = []
    while len(out) < size:
        kind = rng.choices(list(kinds), weights=list(kinds.values()))[0]
        params: dict[str, Any] = {}
        page = 1
        if kind == "status":
            params["status"] = rng.choice(domain.QUEUE_STATUSES).value
        elif kind == "organisation":
            params["organisation_id"] = rng.choice(queue_orgs) if rng.random() < 0.8 else rng.choice(all_orgs)
        elif kind == "overdue":
            params["overdue"] = "true"
        elif kind == "due_before":
            params["due_before"] = (today + timedelta(days=rng.randint(-10, 30))).isoformat()
        elif kind == "status_overdue":
            params["status"] = rng.choice([Status.SUBMITTED, Status.IN_EXAMINATION, Status.RECONSIDERATION_HEARD]).value
            params["overdue"] = "true"
        elif kind == "page_2":
            page = 2
            base = rng.choice(["first_page", "status", "overdue", "due_before"])
            if base == "status":
                params["status"] = rng.choice(domain.QUEUE_STATUSES).value
            elif base == "overdue":
                params["overdue"] = "true"
            elif base == "due_before":
                params["due_before"] = (today + timedelta(days=rng.randint(0, 30))).isoformat()
        if rng.random() < 0.1:
            params["limit"] = rng.choice([20, 100])
        if page == 2 and len(expect.matching(params)) <= int(params.get("limit", 50)):
            continue  # no page 2 to ask for
        out.append({"kind": kind, "params": params, "page": page})
    return out


def path_of(params: dict[str, Any]) -> str:
    return f"{QUEUE_PATH}?{urlencode(params)}" if params else QUEUE_PATH


def key_of(request: dict[str, Any]) -> str:
    return json.dumps([request["params"], request["page"]], sort_keys=True)


def queue_args(params: dict[str, Any], today: date) -> dict[str, Any]:
    """What the view hands back_office.work_queue for these query parameters."""
    return {
        "today": today,
        "status": params.get("status"),
        "organisation_id": UUID(params["organisation_id"]) if "organisation_id" in params else None,
        "overdue": params.get("overdue") == "true",
        "due_before": _day(params.get("due_before")),
        "limit": int(params.get("limit", 50)),
        "cursor": params.get("cursor"),
    }


async def check_answers(
    service: Recognition, database_url: str, token: str, requests: list[dict[str, Any]], expect: QueueExpectations, size: int
) -> dict[str, Any]:
    """Every page 2 gets the cursor of its page 1's answer; then the distinct requests among the first
    `size` and every page 2, over HTTP, judged against the generated data and compared with
    back_office.work_queue through asyncpg."""
    headers = {"Authorization": f"Bearer {token}"}
    today = brussels_today(SystemClock())
    if today != expect.today:
        raise RuntimeError(f"the day changed since the data was generated ({expect.today} -> {today}): run again")
    connection = await asyncpg.connect(database_url)
    await configure_connection(connection)
    try:
        async with httpx.AsyncClient(base_url=service.url, timeout=20, headers=headers) as client:
            cursors: dict[str, str | None] = {}
            for request in requests:
                if request["page"] == 2:
                    base = json.dumps(request["params"], sort_keys=True)
                    if base not in cursors:
                        cursors[base] = (await client.get(path_of(request["params"]))).json()["next_cursor"]
                    request["params"] = {**request["params"], "cursor": cursors[base]}
            distinct: dict[str, dict[str, Any]] = {}
            for i, request in enumerate(requests):
                if i < size or request["page"] == 2:
                    distinct.setdefault(key_of(request), request)
            semaphore = asyncio.Semaphore(8)

            async def one(request: dict[str, Any]) -> tuple[dict[str, Any], int, bytes]:
                async with semaphore:
                    response = await client.get(path_of(request["params"]))
                    return request, response.status_code, response.content

            answers = await asyncio.gather(*[one(r) for r in distinct.values()])
        wrong: Counter[str] = Counter()
        examples: list[dict[str, Any]] = []
        not_as_sql = 0
        items_checked = 0
        for request, status, body in answers:
            params = {k: v for k, v in request["params"].items() if k != "cursor"}
            problems = expect.problems(params, request["page"], status, body)
            if problems:
                wrong[request["kind"]] += 1
                if len(examples) < 10:
                    examples.append({"path": path_of(request["params"]), "problems": problems[:3]})
                continue
            http_ids = [i["application_id"] for i in json.loads(body)["items"]]
            items_checked += len(http_ids)
            sql = await back_office.work_queue(connection, **queue_args(request["params"], today))
            if [str(i["application_id"]) for i in sql["items"]] != http_ids or sql["next_cursor"] != json.loads(body)["next_cursor"]:
                not_as_sql += 1
    finally:
        await connection.close()
    return {
        "checked": len(answers),
        "items_checked": items_checked,
        "wrong": sum(wrong.values()),
        "wrong_by_kind": dict(wrong),
        "examples": examples,
        "by_kind": dict(Counter(r["kind"] for r, _, _ in answers)),
        "not_as_sql": not_as_sql,
        "page_2_cursors": len(cursors),
    }


# -- EXPLAIN ------------------------------------------------------------------------------------------------


class _Capture:
    """Stands in for the connection: keeps the statement and the arguments work_queue would send."""

    sql: str = ""
    args: tuple[Any, ...] = ()

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        self.sql, self.args = sql, args
        return []


async def queue_statement(params: dict[str, Any], today: date) -> tuple[str, tuple[Any, ...]]:
    capture = _Capture()
    await back_office.work_queue(cast(asyncpg.Connection, capture), **queue_args(params, today))
    return capture.sql, capture.args


def plan_summary(plan: dict[str, Any]) -> dict[str, Any]:
    """From EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON): the scans, the rows of applications read, the times."""
    scans: list[str] = []
    read = 0
    seq = []

    def walk(node: dict[str, Any]) -> None:
        nonlocal read
        kind = node["Node Type"]
        relation = node.get("Relation Name")
        if kind == "Bitmap Index Scan":
            scans.append(f"bitmap {node['Index Name']}")
        if relation:
            if kind == "Index Scan":
                scans.append(node["Index Name"])
            elif kind == "Index Only Scan":
                scans.append(f"index-only {node['Index Name']}")
            elif kind != "Bitmap Heap Scan":
                scans.append(f"{kind} {relation}")
            if kind == "Seq Scan":
                seq.append(relation)
            if relation == "applications":
                read += (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)) * node.get(
                    "Actual Loops", 1
                )
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    return {
        "scans": scans,
        "seq_scans": seq,
        "applications_rows_read": read,
        "rows": plan["Plan"].get("Actual Rows"),
        "shared_buffers_hit": plan["Plan"].get("Shared Hit Blocks"),
        "planning_ms": round(plan.get("Planning Time", math.nan), 3),
        "execution_ms": round(plan["Execution Time"], 3),
    }


def literal(value: Any) -> str:
    """A value of the queue statement as an SQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, date):
        return f"'{value.isoformat()}'::date"
    if isinstance(value, UUID):
        return f"'{value}'::uuid"
    return "'" + str(value).replace("'", "''") + "'"


async def explain_plans(database_url: str, requests: list[dict[str, Any]], today: date) -> dict[str, Any]:
    """EXPLAIN (ANALYZE) of the queue statement for one request of each kind: planned for its values
    (custom), as a generic plan (what a prepared statement may switch to), and as the plan cache
    picks on a connection that ran the mix's first 20 requests (plan_cache_mode auto: what the
    service's connections end up running)."""
    connection = await asyncpg.connect(database_url)
    await configure_connection(connection)
    out: dict[str, Any] = {"by_kind": {}}
    try:
        sql, _ = await queue_statement({}, today)
        await connection.execute(f"PREPARE bench_queue AS {sql}")

        def execute(args: tuple[Any, ...]) -> str:  # EXECUTE takes no protocol parameters: the values as literals
            return f"EXECUTE bench_queue({', '.join(literal(a) for a in args)})"

        for request in requests[:20]:
            await connection.fetch(execute((await queue_statement(request["params"], today))[1]))
        for kind in sorted({r["kind"] for r in requests}):
            request = next(r for r in requests if r["kind"] == kind and (r["page"] == 1 or "cursor" in r["params"]))
            statement, args = await queue_statement(request["params"], today)
            assert statement == sql
            entry: dict[str, Any] = {"path": path_of(request["params"])}
            for how, query, mode, values in (
                ("custom", "EXPLAIN (ANALYZE, BUFFERS, FORMAT {f}) " + sql, "force_custom_plan", args),
                ("generic", "EXPLAIN (ANALYZE, BUFFERS, FORMAT {f}) " + execute(args), "force_generic_plan", ()),
                ("as_run", "EXPLAIN (ANALYZE, BUFFERS, FORMAT {f}) " + execute(args), "auto", ()),
            ):
                await connection.execute(f"SET plan_cache_mode = {mode}")
                plan = json.loads(await connection.fetchval(query.format(f="JSON"), *values))[0]
                text = [r[0] for r in await connection.fetch(query.format(f="TEXT"), *values)]
                entry[how] = {**plan_summary(plan), "plan": text}
            await connection.execute("RESET plan_cache_mode")
            out["by_kind"][kind] = entry
        # Every distinct request of the mix, planned for its values: which scans, how many rows of applications.
        await connection.execute("SET plan_cache_mode = force_custom_plan")
        shapes: Counter[str] = Counter()
        with_seq: list[dict[str, Any]] = []
        most_read, most_read_path, slowest, seen = 0, "", 0.0, set()
        for request in requests:
            if key_of(request) in seen:
                continue
            seen.add(key_of(request))
            _, args = await queue_statement(request["params"], today)
            summary = plan_summary(json.loads(await connection.fetchval("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, *args))[0])
            shapes[" + ".join(summary["scans"])] += 1
            if summary["applications_rows_read"] > most_read:
                most_read, most_read_path = summary["applications_rows_read"], path_of(request["params"])
            slowest = max(slowest, summary["execution_ms"])
            if summary["seq_scans"]:
                with_seq.append({"path": path_of(request["params"]), "seq_scans": summary["seq_scans"]})
        out["all_distinct"] = {
            "requests": len(seen),
            "plans": dict(shapes.most_common()),
            "with_seq_scan": len(with_seq),
            "seq_scan_examples": with_seq[:5],
            "most_applications_rows_read": most_read,
            "most_applications_rows_read_by": most_read_path,
            "slowest_execution_ms": slowest,
        }
    finally:
        await connection.close()
    return out


# -- the queue runs ------------------------------------------------------------------------------------------


def queue_http_fire(client: RawHttp, port: int, requests: list[dict[str, Any]], tokens: list[str]) -> Fire:
    raw = [raw_request("GET", path_of(r["params"]), port, tokens[i % len(tokens)]) for i, r in enumerate(requests)]
    n = len(raw)

    async def fire(i: int) -> tuple[float, bool]:
        sent, status, _ = await client.get(raw[i % n])
        if status >= 500:
            raise RuntimeError(f"HTTP {status}")
        return sent, status == 200

    return fire


def queue_sql_fire(pool: asyncpg.Pool, requests: list[dict[str, Any]], today: date) -> Fire:
    args = [queue_args(r["params"], today) for r in requests]
    n = len(args)

    async def fire(i: int) -> tuple[float, bool]:
        sent = time.perf_counter()
        async with pool.acquire() as connection:
            await back_office.work_queue(connection, **args[i % n])
        return sent, True

    return fire


async def table_scans(database_url: str) -> dict[str, dict[str, int]]:
    """Sequential and index scans of the tables so far (pg_stat_user_tables; backends report at most once a second)."""
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT relname, seq_scan, coalesce(seq_tup_read, 0) AS seq_tup_read, coalesce(idx_scan, 0) AS idx_scan FROM pg_stat_user_tables "
            "WHERE relname IN ('applications', 'organisations_projection', 'rights_projection')"
        )
        return {r["relname"]: {k: r[k] for k in ("seq_scan", "seq_tup_read", "idx_scan")} for r in rows}
    finally:
        await connection.close()


async def measure_queue(
    config: StackConfig,
    service: Recognition,
    tokens: Tokens,
    sample: dict[str, Any],
    args: argparse.Namespace,
    database_url: str,
    requests: list[dict[str, Any]],
    runs: list[Run],
    report: dict[str, Any],
    deadline: Deadline,
) -> None:
    meter = CpuMeter(config, lambda: service.pid)
    today = brussels_today(SystemClock())
    department = UUID(sample["department"])
    handler_tokens = [tokens.token(UUID(p), department, lifetime_s=3600) for p in sample["case_handlers"]]
    expect = QueueExpectations(sample)

    print(f"-> correctness: the distinct requests of the first {args.check} and every page 2, over HTTP, against the data and work_queue ...", flush=True)
    report["queue_correctness"] = c = await check_answers(service, database_url, handler_tokens[0], requests, expect, args.check)
    print(f"   {c}", flush=True)
    if c["wrong"] or c["not_as_sql"]:
        raise RuntimeError(f"wrong queue answers before measuring: {c}")
    print("-> EXPLAIN (ANALYZE) of the queue statement for one request of each kind (custom / generic / as the plan cache picks) ...", flush=True)
    report["queue_plans"] = await explain_plans(database_url, requests, today)
    print_plans(report["queue_plans"])
    report["queue_mix"] = {
        "requests": len(requests),
        "distinct": len({key_of(r) for r in requests}),
        "by_kind": dict(Counter(r["kind"] for r in requests)),
        "limits": dict(Counter(int(r["params"].get("limit", 50)) for r in requests)),
    }

    async def measured(name: str, client_text: str, fire: Fire) -> None:
        await asyncio.sleep(2)  # let a backlog of the previous run drain
        before_scans = await table_scans(database_url)
        figures, cpu = await meter.measure(open_loop(fire, rate=args.rate, seconds=args.seconds, deadline=deadline))
        await asyncio.sleep(1.2)  # backends report their table counters at most once a second
        after_scans = await table_scans(database_url)
        scans = {t: {k: after_scans[t][k] - before_scans.get(t, {}).get(k, 0) for k in after_scans[t]} for t in after_scans}
        run = make_run(name, "queue", client_text, figures, cpu, rate=args.rate, table_scans=scans)
        runs.append(run)
        print(
            f"   {run.requests} requests in {run.seconds} s: {run.per_s:.0f}/s, p50 {run.latency['p50_ms']:.2f} ms, p95 {run.latency['p95_ms']:.2f} ms, "
            f"p99 {run.latency['p99_ms']:.2f} ms, max {run.latency['max_ms']:.1f} ms; errors {run.errors}, wrong {run.wrong_answers}; CPU {fmt_cpu(run.cpu)}",
            flush=True,
        )
        print(f"   scans meanwhile: {scans}", flush=True)

    client = RawHttp(service.port, args.connections)
    await client.start()
    pool = await asyncpg.create_pool(database_url, min_size=args.pool_size, max_size=args.pool_size, init=configure_connection)
    try:
        fire = queue_http_fire(client, service.port, requests, handler_tokens)
        print(f"-> warm-up: {args.warmup_seconds:g} s at {args.rate / 2:g}/s (not counted) ...", flush=True)
        await open_loop(fire, rate=args.rate / 2, seconds=args.warmup_seconds, deadline=deadline)
        print(f"-> http / queue: GET {QUEUE_PATH} at {args.rate:g}/s open loop for {args.seconds:g} s ({args.connections} connections) ...", flush=True)
        await measured("http", f"open loop {args.rate:g}/s, raw client, {args.connections} conns", fire)

        fire = queue_sql_fire(pool, requests, today)
        print(
            f"-> sql / queue (baseline): back_office.work_queue on an asyncpg pool of {args.pool_size}, {args.rate:g}/s for {args.seconds:g} s ...", flush=True
        )
        await open_loop(fire, rate=args.rate / 2, seconds=args.warmup_seconds, deadline=deadline)
        await measured("sql", f"open loop {args.rate:g}/s, asyncpg pool {args.pool_size}", fire)
    finally:
        await client.close()
        await pool.close()


# -- submissions -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """A complete draft of the data set; what its submission needs."""

    application_id: UUID
    organisation_id: UUID
    organisation_name: str
    person_id: UUID
    contact: dict[str, Any]
    simplified_group: str | None


class Answers:
    """What the submissions got back, in one run."""

    def __init__(self) -> None:
        self.submitted: list[UUID] = []
        self.statuses: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()


def submit_fire(client: RawHttp, port: int, drafts: list[Draft], tokens: list[str], answers: Answers) -> Fire:
    """POST /v1/provider/applications/{id}/submit as the draft's staff member (its own token)."""
    requests = [raw_request("POST", f"/v1/provider/applications/{d.application_id}/submit", port, tokens[i]) for i, d in enumerate(drafts)]

    async def fire(i: int) -> tuple[float, bool]:
        draft = drafts[i]
        sent, status, body = await client.get(requests[i])
        if status != 200:
            answers.failures[f"HTTP {status} {body[:200].decode(errors='replace')}"] += 1
            raise RuntimeError(f"HTTP {status}")
        answer = json.loads(body)
        answers.statuses[answer["status"]] += 1
        ok = answer["status"] == Status.SUBMITTED and answer["application_id"] == str(draft.application_id)
        if ok:
            answers.submitted.append(draft.application_id)
        return sent, ok

    return fire


# The baseline: the writes of use_cases.provider.submit_application, by hand, without its reads and checks
# (own row FOR UPDATE, parts, subcontractors recognised today, the organisation, the answer's detail reads).
SQL_SUBMIT = """
    UPDATE applications SET status = 'submitted', submitted_at = $2, submitted_on = $3, submitted_by = $4, version = version + 1, updated_at = $2
    WHERE application_id = $1 AND status = 'draft' RETURNING dossier_number, admissibility_due_on
"""
SQL_HISTORY = "INSERT INTO application_history (application_id, at, actor_id, action, details) VALUES ($1, $2, $3, 'submitted', $4)"
SQL_OUTBOX = f"""
    WITH added AS (INSERT INTO outbox (topic, key, value, headers, event_id, event_type) VALUES ($1, $2, $3, $4, $5, $6), ($7, $8, $9, $10, $11, $12))
    SELECT pg_notify('{OUTBOX_CHANNEL}', '')
"""


def outbox_values(envelope: Envelope, topic: str) -> tuple[Any, ...]:
    """An outbox row as service_runtime.outbox writes it (CloudEvents binary mode, wse_contracts.to_kafka_record)."""
    record = to_kafka_record(envelope, topic=topic)
    return record.topic, record.key, record.value, [[name, value.decode()] for name, value in record.headers], envelope.id, envelope.type


def sql_submit_fire(pool: asyncpg.Pool, drafts: list[Draft], answers: Answers) -> Fire:
    """In one transaction: UPDATE the application, its history row, the two outbox rows (the submitted event and
    the confirmation email request, the real contract models) with the relay's wake-up notification."""

    async def fire(i: int) -> tuple[float, bool]:
        draft = drafts[i]
        sent = time.perf_counter()
        now = datetime.now(UTC)
        today = brussels_date(now)
        async with pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(SQL_SUBMIT, draft.application_id, now, today, draft.person_id)
            if row is None:
                answers.failures["not a draft"] += 1
                raise RuntimeError("not a draft")
            await connection.execute(SQL_HISTORY, draft.application_id, now, draft.person_id, {"admissibility_due_on": row["admissibility_due_on"].isoformat()})
            submitted = RecognitionApplicationSubmittedV1(
                application_id=draft.application_id,
                organisation_id=draft.organisation_id,
                dossier_number=row["dossier_number"],
                submitted_on=today,
                admissibility_due_on=row["admissibility_due_on"],
                simplified_group=draft.simplified_group,
            )
            confirmation = email_request(
                RecognitionApplicationConfirmed(dossier_number=row["dossier_number"], organisation_name=draft.organisation_name, submitted_on=today),
                to=[Recipient(email=draft.contact["email"], name=draft.contact.get("name"))],
                reference=row["dossier_number"],
                idempotency_key=email_key(draft.application_id, "confirmation"),
                requested_by=SERVICE,
            )
            await connection.execute(
                SQL_OUTBOX,
                *outbox_values(submitted.to_envelope(source=f"/wse/{SERVICE}", correlation_id="bench-sql"), submitted.topic),
                *outbox_values(confirmation.to_envelope(source=f"/wse/{SERVICE}", correlation_id="bench-sql"), confirmation.topic),
            )
        answers.statuses[Status.SUBMITTED] += 1
        answers.submitted.append(draft.application_id)
        return sent, True

    return fire


async def outbox_mark(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        return await connection.fetchval("SELECT coalesce(max(id), 0) FROM outbox")
    finally:
        await connection.close()


async def check_submissions(database_url: str, submitted: list[UUID], mark: int, *, wait_s: float = 90) -> dict[str, Any]:
    """After a run: every application answered submitted is submitted in the database, with its history row,
    its submitted event and its confirmation email request in the outbox (rows after `mark`, matched by
    application id and idempotency key), and the relay published every outbox row (published_at set)."""
    connection = await asyncpg.connect(database_url)
    try:
        waited = time.monotonic()
        while True:  # the relay publishes as the rows commit; wait for what it still has to do
            unpublished = await connection.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            if not unpublished or time.monotonic() - waited > wait_s:
                break
            await asyncio.sleep(0.2)
        drained_s = round(time.monotonic() - waited, 1)
        ids = [str(i) for i in submitted]
        by_status = {
            r[0]: r[1]
            for r in await connection.fetch("SELECT status, count(*) FROM applications WHERE application_id = ANY($1::uuid[]) GROUP BY status", submitted)
        }
        history = await connection.fetchval(
            "SELECT count(DISTINCT application_id) FROM application_history WHERE application_id = ANY($1::uuid[]) AND action = 'submitted'", submitted
        )
        rows_by_type = {
            r["event_type"].removeprefix("be.vlaanderen.wse."): {"rows": r["rows"], "published": r["published"]}
            for r in await connection.fetch(
                "SELECT event_type, count(*) AS rows, count(published_at) AS published FROM outbox WHERE id > $1 GROUP BY event_type", mark
            )
        }
        events = await connection.fetchrow(
            "SELECT count(DISTINCT convert_from(value, 'UTF8')::jsonb->>'application_id') AS applications, count(published_at) AS published "
            "FROM outbox WHERE id > $1 AND event_type = $2 AND convert_from(value, 'UTF8')::jsonb->>'application_id' = ANY($3::text[])",
            mark,
            SUBMITTED_TYPE,
            ids,
        )
        emails = await connection.fetchrow(
            "SELECT count(DISTINCT convert_from(value, 'UTF8')::jsonb->>'idempotency_key') AS applications, count(published_at) AS published "
            "FROM outbox WHERE id > $1 AND event_type = $2 AND convert_from(value, 'UTF8')::jsonb->>'idempotency_key' = ANY($3::text[])",
            mark,
            NOTIFICATION_TYPE,
            [email_key(i, "confirmation") for i in submitted],
        )
    finally:
        await connection.close()
    n = len(submitted)
    outbox_rows = sum(v["rows"] for v in rows_by_type.values())
    out = {
        "answered_submitted": n,
        "applications_by_status": by_status,
        "history_submitted": history,
        "submitted_events": events["applications"],
        "submitted_events_published": events["published"],
        "email_requests": emails["applications"],
        "email_requests_published": emails["published"],
        "outbox_rows_in_run": outbox_rows,
        "outbox_rows_by_type": rows_by_type,
        "outbox_unpublished_anywhere": unpublished,
        "relay_drained_after_s": drained_s,
    }
    out["complete"] = (
        by_status == {Status.SUBMITTED.value: n}
        and history == n
        and events["applications"] == events["published"] == n
        and emails["applications"] == emails["published"] == n
        and outbox_rows == 2 * n
        and unpublished == 0
    )
    return out


async def kafka_end_offsets(bootstrap: str, topics: list[str]) -> dict[str, int]:
    """Records on each topic so far (the sum of its partitions' end offsets)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, enable_auto_commit=False)  # subscribed: their metadata is fetched
    await consumer.start()
    try:
        out = {}
        for topic in topics:
            for _ in range(50):
                if consumer.partitions_for_topic(topic):
                    break
                await asyncio.sleep(0.1)
            partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
            out[topic] = sum((await consumer.end_offsets(partitions)).values()) if partitions else 0
        return out
    finally:
        await consumer.stop()


def submission_sizes(args: argparse.Namespace) -> dict[str, int]:
    """Drafts per run, each used once."""
    warm = int(args.submission_rate / 2 * args.submission_warmup_seconds)
    steady = int(args.submission_rate * args.submission_seconds)
    return {"http_warmup": warm, "http": steady, "sql_warmup": warm, "sql": steady}


async def measure_submissions(
    config: StackConfig,
    service: Recognition,
    tokens: Tokens,
    sample: dict[str, Any],
    args: argparse.Namespace,
    database_url: str,
    runs: list[Run],
    report: dict[str, Any],
    deadline: Deadline,
) -> None:
    meter = CpuMeter(config, lambda: service.pid)
    rate = args.submission_rate
    everything = [
        Draft(UUID(d["application_id"]), UUID(d["organisation_id"]), d["organisation_name"], UUID(d["person_id"]), d["contact"], d["simplified_group"])
        for d in sample["drafts"]
    ]
    random.Random(args.seed).shuffle(everything)
    sizes = submission_sizes(args)
    if sum(sizes.values()) > len(everything):
        raise RuntimeError(f"the runs need {sum(sizes.values())} drafts, the data set has {len(everything)}: raise --drafts")
    drafts: dict[str, list[Draft]] = {}
    taken = 0
    for name, size in sizes.items():
        drafts[name] = everything[taken : taken + size]
        taken += size
    signing = time.monotonic()
    tokens_of = {
        name: [tokens.token(d.person_id, d.organisation_id, lifetime_s=3600) for d in ds] if name.startswith("http") else [] for name, ds in drafts.items()
    }
    report["submission_drafts"] = {
        "by_run": sizes,
        "organisations": len({d.organisation_id for ds in drafts.values() for d in ds}),
        "with_subcontractors": sum(1 for d in sample["drafts"] if d["subcontractors"]),
        "simplified": sum(1 for d in sample["drafts"] if d["simplified_group"]),
        "tokens_signed_s": round(time.monotonic() - signing, 1),
    }
    print(f"   {report['submission_drafts']}", flush=True)
    checks: dict[str, Any] = {}
    report["submission_checks"] = checks
    first_mark = await outbox_mark(database_url)
    kafka_before = await kafka_end_offsets(config.kafka_bootstrap, SUBMIT_TOPICS)

    async def warm_up(fire: Fire, size: int) -> None:
        figures = await open_loop(fire, rate=rate / 2, seconds=size / (rate / 2), deadline=deadline)
        if figures["errors"] or figures["wrong"]:
            raise RuntimeError(f"submissions fail in the warm-up: {figures['errors']} errors, {figures['wrong']} not submitted")
        await asyncio.sleep(2)

    async def measured(name: str, client_text: str, fire: Fire, answers: Answers) -> None:
        mark = await outbox_mark(database_url)
        figures, cpu = await meter.measure(open_loop(fire, rate=rate, seconds=args.submission_seconds, deadline=deadline))
        run = make_run(name, "submit", client_text, figures, cpu, rate=rate, statuses=dict(answers.statuses), failures=dict(answers.failures))
        runs.append(run)
        print(
            f"   {run.requests} submissions in {run.seconds} s: {run.per_s:.0f}/s, p50 {run.latency['p50_ms']:.2f} ms, p95 {run.latency['p95_ms']:.2f} ms, "
            f"p99 {run.latency['p99_ms']:.2f} ms, max {run.latency['max_ms']:.1f} ms; errors {run.errors}, not submitted {run.wrong_answers}; "
            f"answers {dict(answers.statuses)}{'; failures ' + str(dict(answers.failures)) if answers.failures else ''}; CPU {fmt_cpu(run.cpu)}",
            flush=True,
        )
        per = cpu_per_request(run)
        print(
            f"   CPU per submission: service (or this process for sql) {per.get('client_or_service_us', math.nan):.0f} us, PostgreSQL {per.get('postgres_us', math.nan):.0f} us",
            flush=True,
        )
        checks[name] = await check_submissions(database_url, answers.submitted, mark)
        print(f"   check: {checks[name]}", flush=True)

    client = RawHttp(service.port, args.connections)
    await client.start()
    pool = await asyncpg.create_pool(database_url, min_size=args.pool_size, max_size=args.pool_size, init=configure_connection)
    try:
        print(f"-> warm-up: {len(drafts['http_warmup'])} submissions over HTTP at {rate / 2:g}/s (not counted) ...", flush=True)
        answers = Answers()
        await warm_up(submit_fire(client, service.port, drafts["http_warmup"], tokens_of["http_warmup"], answers), len(drafts["http_warmup"]))
        print(f"-> http / submit: POST .../submit at {rate:g}/s, open loop, {args.submission_seconds:g} s ({len(drafts['http'])} drafts) ...", flush=True)
        answers = Answers()
        await measured(
            "http",
            f"open loop {rate:g}/s, raw client, {args.connections} conns",
            submit_fire(client, service.port, drafts["http"], tokens_of["http"], answers),
            answers,
        )
        print(
            f"-> sql / submit (baseline): the same writes by hand, asyncpg pool of {args.pool_size}, {rate:g}/s, {args.submission_seconds:g} s ...", flush=True
        )
        await warm_up(sql_submit_fire(pool, drafts["sql_warmup"], Answers()), len(drafts["sql_warmup"]))
        answers = Answers()
        await measured("sql", f"open loop {rate:g}/s, asyncpg pool {args.pool_size}", sql_submit_fire(pool, drafts["sql"], answers), answers)
    finally:
        await client.close()
        await pool.close()

    # Kafka's side: every outbox row of these topics written since the start is on its topic, once.
    kafka_after = await kafka_end_offsets(config.kafka_bootstrap, SUBMIT_TOPICS)
    connection = await asyncpg.connect(database_url)
    try:
        rows = {
            r[0]: (r[1], r[2])
            for r in await connection.fetch(
                "SELECT topic, count(*), count(published_at) FROM outbox WHERE id > $1 AND topic = ANY($2::text[]) GROUP BY topic", first_mark, SUBMIT_TOPICS
            )
        }
    finally:
        await connection.close()
    report["kafka"] = {
        topic: {
            "new_records": kafka_after[topic] - kafka_before[topic],
            "outbox_rows": rows.get(topic, (0, 0))[0],
            "outbox_rows_published": rows.get(topic, (0, 0))[1],
        }
        for topic in SUBMIT_TOPICS
    }
    report["kafka_matches_outbox"] = all(v["new_records"] == v["outbox_rows"] == v["outbox_rows_published"] for v in report["kafka"].values())
    print(f"   Kafka: {report['kafka']}; new records = outbox rows published: {report['kafka_matches_outbox']}", flush=True)


# -- output --------------------------------------------------------------------------------------------------


def verdicts(runs: list[Run], report: dict[str, Any], args: argparse.Namespace) -> list[dict[str, Any]]:
    def one(name: str, mode: str) -> Run | None:
        return next((r for r in runs if r.name == name and r.mode == mode), None)

    def ratio(mine: float, theirs: float) -> str:
        return f"{mine / theirs:.2f}x" if theirs else "n/a"

    found = []
    if r := one("http", "queue"):
        base = one("sql", "queue")
        offered = r.details.get("offered", r.requests)
        at_rate = args.rate >= QUEUE_TARGET_RATE and r.requests == offered and r.per_s >= 0.99 * QUEUE_TARGET_RATE
        found.append(
            {
                "target": f"work queue p99 <= {QUEUE_TARGET_P99_MS:g} ms at {QUEUE_TARGET_RATE:g} requests/s over 50,000 applications in every state",
                "met": at_rate and r.latency["p99_ms"] <= QUEUE_TARGET_P99_MS and r.errors == 0 and r.wrong_answers == 0,
                "measured": f"p99 {r.latency['p99_ms']:.2f} ms, p95 {r.latency['p95_ms']:.2f} ms, p50 {r.latency['p50_ms']:.2f} ms; {r.requests}/{offered} answered "
                f"at {r.per_s:,.1f}/s ({r.errors} errors, {r.wrong_answers} not 200)"
                + (f"; run at --rate {args.rate:g}" if args.rate < QUEUE_TARGET_RATE else ""),
                "baseline": f"the same SQL (back_office.work_queue) through asyncpg at the same rate: p99 {base.latency['p99_ms']:.2f} ms, "
                f"p50 {base.latency['p50_ms']:.2f} ms; http/sql p99 {ratio(r.latency['p99_ms'], base.latency['p99_ms'])}, "
                f"p50 {ratio(r.latency['p50_ms'], base.latency['p50_ms'])}"
                if base
                else None,
            }
        )
    if plans := report.get("queue_plans"):
        kinds = plans["by_kind"]
        seq = {kind: sorted({t for how in ("custom", "generic", "as_run") for t in p[how]["seq_scans"]}) for kind, p in kinds.items()}
        seq = {k: v for k, v in seq.items() if v}
        during = {r.name: r.details.get("table_scans", {}).get("applications", {}).get("seq_scan") for r in runs if r.mode == "queue"}
        survey = plans["all_distinct"]
        generic = max(p["generic"]["applications_rows_read"] for p in kinds.values())
        found.append(
            {
                "target": "deadlines computed in SQL from the stored facts, not in Python over every row: the queue's indexes, no sequential scan of applications",
                "met": not any("applications" in v for v in seq.values())
                and not any("applications" in e["seq_scans"] for e in survey["seq_scan_examples"])
                and all(v == 0 for v in during.values()),
                "measured": f"all {survey['requests']} distinct requests planned for their values read at most {survey['most_applications_rows_read']} rows of "
                f"applications (slowest {survey['slowest_execution_ms']} ms in PostgreSQL), {survey['with_seq_scan']} with a sequential scan of any table; "
                f"a generic plan reads at most {generic} (the whole queue); sequential scans of applications during the runs: {during}"
                + (f"; sequential scans in the plans of a kind: {seq}" if seq else ""),
                "baseline": None,
            }
        )
    if r := one("http", "submit"):
        base = one("sql", "submit")
        check = report.get("submission_checks", {}).get("http", {})
        offered = r.details.get("offered", r.requests)
        at_rate = args.submission_rate >= SUBMIT_TARGET_RATE and r.requests == offered and r.per_s >= 0.99 * SUBMIT_TARGET_RATE
        kafka = "Kafka has them all" if report.get("kafka_matches_outbox") else "Kafka does NOT match the outbox" if "kafka" in report else "Kafka not checked"
        found.append(
            {
                "target": f"submission p99 <= {SUBMIT_TARGET_P99_MS:g} ms at {SUBMIT_TARGET_RATE:g}/s, outbox write included",
                "met": at_rate
                and r.latency["p99_ms"] <= SUBMIT_TARGET_P99_MS
                and r.errors == 0
                and r.wrong_answers == 0
                and bool(check.get("complete"))
                and bool(report.get("kafka_matches_outbox")),
                "measured": f"p99 {r.latency['p99_ms']:.2f} ms, p95 {r.latency['p95_ms']:.2f} ms, p50 {r.latency['p50_ms']:.2f} ms; {r.requests}/{offered} "
                f"answered 200 submitted at {r.per_s:,.1f}/s ({r.errors} errors); outbox: {check.get('submitted_events')} submitted events + "
                f"{check.get('email_requests')} email requests, all published: {check.get('complete')}; {kafka}",
                "baseline": f"the same writes by hand through asyncpg at the same rate: p99 {base.latency['p99_ms']:.2f} ms, p50 {base.latency['p50_ms']:.2f} ms; "
                f"http/sql p99 {ratio(r.latency['p99_ms'], base.latency['p99_ms'])}, p50 {ratio(r.latency['p50_ms'], base.latency['p50_ms'])}"
                if base
                else None,
            }
        )
    return found


def print_plans(plans: dict[str, Any]) -> None:
    for kind, entry in plans["by_kind"].items():
        print(f"   {kind:<15} {entry['path']}", flush=True)
        for how in ("custom", "generic", "as_run"):
            p = entry[how]
            print(
                f"     {how:<8} {', '.join(p['scans'])}{'  SEQ SCAN ' + str(p['seq_scans']) if p['seq_scans'] else ''}; {p['applications_rows_read']} rows of "
                f"applications read, {p['rows']} returned, {p['shared_buffers_hit']} buffers; planning {p['planning_ms']} ms, execution {p['execution_ms']} ms",
                flush=True,
            )
        print("\n".join(f"       | {line}" for line in entry["as_run"]["plan"]), flush=True)
    a = plans["all_distinct"]
    print(
        f"   all {a['requests']} distinct requests of the mix (custom plans): {a['with_seq_scan']} with a sequential scan {a['seq_scan_examples']}; "
        f"at most {a['most_applications_rows_read']} rows of applications read ({a['most_applications_rows_read_by']}), slowest {a['slowest_execution_ms']} ms; plans {a['plans']}",
        flush=True,
    )


# -- main ------------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/recognition/run.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applications", type=int, default=50_000)
    parser.add_argument("--organisations", type=int, default=8_000)
    parser.add_argument("--drafts", type=int, default=4_500, help="complete drafts among the applications, for the submissions (default 4500)")
    parser.add_argument("--requests", type=int, default=4_000, help="queue requests in the mix the load cycles through (default 4000)")
    parser.add_argument("--check", type=int, default=600, help="the distinct requests among the mix's first CHECK are checked over HTTP (default 600)")
    parser.add_argument("--rate", type=float, default=100.0, help="queue requests/s (default 100)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each queue run (default 20)")
    parser.add_argument("--warmup-seconds", type=float, default=3.0, help="queue warm-ups at half the rate before each run (default 3)")
    parser.add_argument("--submission-rate", type=float, default=100.0, help="submissions/s (default 100)")
    parser.add_argument("--submission-seconds", type=float, default=20.0, help="length of each submission run (default 20)")
    parser.add_argument("--submission-warmup-seconds", type=float, default=2.0, help="submission warm-ups at half the rate (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections of the open loop (default 32)")
    parser.add_argument("--pool-size", type=int, default=10, help="asyncpg pool of the SQL baselines (default 10, the service's database_pool_max)")
    parser.add_argument("--only", choices=["queue", "submit"], help="only the queue or only the submissions (default both)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900.0, help="hard limit in seconds after the stack is up (default 900)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "latest.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = StackConfig.bench()
    work = config.state_dir / "recognition-bench"
    runs: list[Run] = []
    report: dict[str, Any] = {}
    print(f"Benchmark stack '{config.name}' in {config.state_dir} (PostgreSQL 127.0.0.1:{config.postgres_port}, Kafka {config.kafka_bootstrap})", flush=True)
    with BenchStack(config) as run:
        deadline = run.start(args.timeout)
        work.mkdir(parents=True, exist_ok=True)
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)

        database_url = asyncio.run(postgres.recreate_database(config, DATABASE))
        tokens = Tokens(kid="recognition-bench")
        run.on_exit(tokens.close)
        service = Recognition(config, database_url, config.logs_dir / "recognition-bench.log", RECOGNITION_JWKS_URL=tokens.url)
        run.on_exit(service.stop)
        print("-> migrating the recognition database (python -m recognition migrate) ...", flush=True)
        report["migrations"] = service.cli("migrate").strip().splitlines()[-1:]
        print(
            f"-> generating {args.applications} applications in every state over {args.organisations} organisations, {args.drafts} of them "
            "complete drafts (COPY; parts parsed by the service's own models) ...",
            flush=True,
        )
        sample_path = work / "sample.json"
        report["data"] = generate(
            HERE / "generate.py",
            [
                "--url",
                database_url,
                "--applications",
                str(args.applications),
                "--organisations",
                str(args.organisations),
                "--drafts",
                str(args.drafts),
                "--seed",
                str(args.seed),
                "--sample-out",
                str(sample_path),
            ],
            deadline,
        )
        d = report["data"]
        print(f"   {d['counts']} in {d['seconds']} s\n   by status {d['by_status']}\n   queue {d['queue']}; sizes {d['sizes']}", flush=True)
        sample = json.loads(sample_path.read_text())
        asyncio.run(checkpoint(config))
        requests = build_requests(QueueExpectations(sample), args.requests, args.seed)

        report["code_at_start"] = code_state(*CODE)
        print("-> starting ONE recognition process ...", flush=True)
        service.start(deadline)
        print(f"   recognition pid {service.pid} at {service.url}", flush=True)

        gc.collect()
        gc.freeze()  # this process's own collector must not pause the load generators
        if args.only != "submit":
            uvloop.run(asyncio.wait_for(measure_queue(config, service, tokens, sample, args, database_url, requests, runs, report, deadline), deadline.left()))
        if args.only != "queue":
            print("-> submissions: signing a token for each draft's staff member ...", flush=True)
            uvloop.run(asyncio.wait_for(measure_submissions(config, service, tokens, sample, args, database_url, runs, report, deadline), deadline.left()))
    error = run.error

    print()
    print(
        f"Results: the work queue (GET {QUEUE_PATH}) and submissions (POST /v1/provider/applications/{{id}}/submit) on ONE recognition process "
        f"vs the same SQL / the same writes by hand through asyncpg; {os.cpu_count()} CPUs shared by load generator, service, PostgreSQL, Kafka"
    )
    print(run_table(runs, first="what", width=6))
    print("  Open loop, latency from the scheduled send time. sql/queue: back_office.work_queue on an asyncpg pool in this Python process;")
    print("  sql/submit: UPDATE + history row + 2 outbox rows with NOTIFY in one transaction. Each submission used its own draft once.")
    print("  CPU: % of one core over the run (generator = this process; others = the rest of the shared machine).")
    print("  CPU us/req: py = the service (http) or this process (sql); pg = PostgreSQL, per answered request.")
    checks = verdicts(runs, report, args)
    print_verdicts(checks)
    code_now = code_state(*CODE)
    print_code(report.get("code_at_start"), code_now)
    if error:
        print(f"FAILED: {error}")

    plans = report.get("queue_plans", {})
    write_results(
        args.output,
        {
            **results_head("recognition-queue-and-submissions", "bench/recognition/run.py", argv, shared="load generator, service, PostgreSQL, Kafka"),
            "code": {"at_service_start": report.pop("code_at_start", None), "at_end": code_now},
            "settings": settings_of(args),
            "targets": {
                "queue_p99_ms": QUEUE_TARGET_P99_MS,
                "queue_rate": QUEUE_TARGET_RATE,
                "submission_p99_ms": SUBMIT_TARGET_P99_MS,
                "submission_rate": SUBMIT_TARGET_RATE,
            },
            **report,
            "queue_plans": plans,
            "runs": [asdict(r) for r in runs],
            "verdicts": checks,
            "error": error,
        },
    )
    return 1 if error else 0


async def checkpoint(config: StackConfig) -> None:
    """The data load's dirty pages written out now, not by a checkpoint in the middle of a run (as pgbench does)."""
    connection = await asyncpg.connect(config.admin_database_url())
    try:
        await connection.execute("CHECKPOINT")
    finally:
        await connection.close()


if __name__ == "__main__":
    sys.exit(main())
