"""Public register benchmark: GET /v1/register/trainings (search) on ONE registration service
process over 100,000 registered trainings, side by side with the same SQL through asyncpg.

    uv run python bench/registration/run.py [options]          (from the repository root)

It starts the bench stack of its own exactly as bench/identity/run.py does (devstack, .run/bench,
PostgreSQL/Kafka/mail sink on the bench ports, 127.0.0.1 only; whatever an interrupted run left
is stopped first, and the stack is stopped at the end, also on an error or Ctrl-C), creates the
database bench_registration, migrates it with `python -m registration migrate`, loads 100,000
registered trainings of 3,000 providers with bench/registration/generate.py (COPY, ~40 s), starts
one `python -m registration serve` (LOG_LEVEL=WARNING, the service's default pool of 10
connections, uvicorn's default uvloop + httptools), and builds a mix of 4,000 distinct public
requests (see `build_requests`): a topic word ('lassen', 'heftruck'), two words, a typo or a
prefix, text with a filter, a city (found in provider names), filters only (group, blended,
hours), a provider by id or by part of its name, an ODB number, a training's page.

Before measuring it checks the answers (`check_answers`): 600 requests over HTTP, each against
the generated data (every item in the register today and meeting every filter; the first page
of a listing without text exactly the expected trainings in the expected order; a training's
page or 404 for a stopped one; for a word that is in some training's name, name matches first;
no contact address, self-analysis or deciding body anywhere), each HTTP body byte for byte the
same as the SQL gives, and 30 searches paged three pages by cursor equal to the same pages by
offset, without duplicates. Then, in this order:

  http   max      wrk -t2 -c32 -d20s (closed loop), requests spread over the mix;
  sql    max      the service's own statements (registration.register.fetch_search and
                  training_detail, the same SQL and the same way of running it) on an asyncpg
                  pool of 10 connections, 32 concurrent workers, in this Python process;
  http   steady   200 requests/s, open loop, 30 s (latency from the scheduled send time, no
                  coordinated omission: the open loop of bench/common.py); then 300/s, 15 s;
  sql    steady   the same 200/s schedule through the asyncpg pool;

prints a table with the verdicts and writes bench/registration/results/latest.json.

With --submissions it measures issue 4's submission target instead ("at least 200 submissions/s
sustained with p99 at most 100 ms, outbox write included"), on the same stack and data: 1,000
training providers of the data set each get a staff member holding
dwse_organisation_officer@training_database, written into the service's rights_projection as
identity's events would leave it; run.py signs their platform tokens itself (RS256, key served as
JWKS on loopback, REGISTRATION_JWKS_URL), so the service verifies them as in production without an
identity process. Before the service starts it writes 28,400 complete drafts with COPY
(`prepare_drafts`), row for row what POST /v1/provider/applications and four PUT .../sections
store: each section parsed by the service's own model and checked by its own rules, draft n
belonging to provider n % 1000; and 3,000 dossiers already in review over the same providers (a
live register has dossiers in flight; without them the planner's statistics say none is open, see
the README). Then VACUUM ANALYZE and a CHECKPOINT, so the load's dirty pages are not written out
in the middle of a run. Each run then uses drafts of its own, once:

  http   steady   POST /v1/provider/applications/{id}/submit (Idempotency-Key) at 200/s open loop
                  for 30 s (6,000 submissions; latency from the scheduled send time), after a warm-up;
  sql    steady   the baseline: the same writes by hand in one transaction on an asyncpg pool of 10
                  (UPDATE applications, history row, the two outbox rows with the relay's NOTIFY,
                  the decision-term job), same schedule, after a warm-up;
  http   max      POST .../submit closed loop on 32 connections for 20 s (the ceiling);

after each run it checks every answer is 200 with status in_review, and in the database that each
of those applications is in review with its history row, its submitted event and its e-mail request
in the outbox (matched by application id and idempotency key), its decision-term job, and that the
relay published every outbox row (published_at set); at the end, that Kafka's topics gained exactly
the outbox rows published. During each run it samples pg_stat_activity (what the backends are
doing, which statements are on CPU) and counts sequential scans, autovacuums and checkpoints; it
prints the worst latency of each second of the schedule. It prints the verdict and writes
results/submissions.json.

Everything shares the machine's cores: the load generator, the service, PostgreSQL and Kafka
(idle here). Only figures from the same run are comparable; the CPU columns say who used the cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import random
import shutil
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode
from uuid import UUID

import asyncpg
import httpx
import jwt
import uvloop
from cryptography.hazmat.primitives.asymmetric import rsa

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
    closed_loop,
    code_state,
    cpu_per_request,
    fmt_cpu,
    free_port,
    generate,
    make_run,
    open_loop,
    print_code,
    print_run,
    print_verdicts,
    results_head,
    run_table,
    run_wrk,
    settings_of,
    write_results,
    wrk_paths_script,
    wrk_run,
)
from devstack import postgres  # noqa: E402
from devstack.config import StackConfig  # noqa: E402
from registration import domain, register  # noqa: E402
from registration.definition import service as registration_service  # noqa: E402
from registration.register import Search  # noqa: E402
from registration.use_cases.common import DECISION_TERM_JOB, parse_section  # noqa: E402
from service_runtime.calendar import brussels_date, start_of  # noqa: E402
from service_runtime.calendar import today as brussels_today  # noqa: E402
from service_runtime.clock import SystemClock  # noqa: E402
from service_runtime.db import configure_connection  # noqa: E402
from service_runtime.errors import NotFound  # noqa: E402
from service_runtime.outbox import _NOTIFY_CHANNEL as OUTBOX_CHANNEL  # noqa: E402 - the relay's wake-up channel
from wse_contracts import Envelope, to_kafka_record  # noqa: E402
from wse_contracts.emails import ApplicationSubmitted, email_request  # noqa: E402
from wse_contracts.notification import NotificationRequestedV1, Recipient  # noqa: E402
from wse_contracts.registration import ApplicationSubmittedV1  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
DATABASE = "bench_registration"
PATH = "/v1/register/trainings"

TARGET_P99_MS = 20.0  # at a steady 200 requests/s over 100,000 registered trainings
CODE = ("runtime", "services/registration")  # whose uncommitted changes the results name
QUALIFIER_WORDS = ["gevorderden", "beginners", "basis", "praktijk", "intensief", "online", "opfrissing", "verdieping"]


# -- the service ---------------------------------------------------------------------------------


class Registration(ServiceProcess):
    """ONE `python -m registration serve`."""

    ready_seconds = 90.0

    def __init__(self, config: StackConfig, database_url: str, log_path: Path, **extra_env: str) -> None:
        super().__init__("registration", config, database_url, log_path, **extra_env)


# -- the request mix -----------------------------------------------------------------------------


def typo(rng: random.Random, word: str) -> str:
    if len(word) < 6:
        return word[:-1] + rng.choice("aeiou")
    i = rng.randrange(2, len(word) - 2)
    if rng.random() < 0.5:
        return word[:i] + word[i + 1 :]  # a letter left out
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # two letters swapped


def build_requests(sample: dict[str, Any], size: int, seed: int) -> list[dict[str, Any]]:
    """Public requests drawn in these proportions (popular ones come back, as on a real site); each {"kind", "params"}
    (a search) or {"kind": "detail", "odb"} (a training's page)."""
    rng = random.Random(seed)
    topics, providers, trainings = sample["topics"], sample["providers"], sample["trainings"]
    cities = sorted({word for p in providers for word in p["name"].split() if word[:1].isupper() and len(word) > 3 and word.isalpha()} & set(CITY_WORDS))
    kinds = {
        "word": 30,
        "two_words": 8,
        "typo": 6,
        "prefix": 4,
        "word_filter": 10,
        "city": 4,
        "filters": 12,
        "provider_id": 6,
        "provider_name": 3,
        "odb_filter": 4,
        "detail": 8,
        "word_page_2": 5,
    }
    out: list[dict[str, Any]] = []
    while len(out) < size:
        kind = rng.choices(list(kinds), weights=list(kinds.values()))[0]
        topic = rng.choice(topics)
        word = rng.choice(topic["words"])
        params: dict[str, Any] = {}
        if kind == "word":
            params["q"] = word if rng.random() < 0.7 else word.capitalize()
        elif kind == "two_words":
            params["q"] = f"{word} {rng.choice(QUALIFIER_WORDS)}"
        elif kind == "typo":
            params["q"] = typo(rng, word)
        elif kind == "prefix":
            params["q"] = word[: max(4, len(word) - 3)]
        elif kind == "word_filter":
            params["q"] = word
            which = rng.choice(["group", "blended", "hours", "group_blended"])
            if which in ("group", "group_blended"):
                params["competence_group"] = topic["group"] if rng.random() < 0.8 else rng.choice(["basic", "profession_specific", "general"])
            if which in ("blended", "group_blended"):
                params["blended"] = rng.choice(["true", "false"])
            if which == "hours":
                params["min_hours"] = rng.choice([16, 32, 40, 60])
                params["max_hours"] = rng.choice([120, 200, 400])
        elif kind == "city":
            params["q"] = rng.choice(cities)
        elif kind == "filters":
            which = rng.choice(["group", "group_blended", "blended", "hours", "group_hours"])
            if "group" in which:
                params["competence_group"] = rng.choice(["basic", "profession_specific", "general"])
            if "blended" in which:
                params["blended"] = "true"
            if "hours" in which:
                low = rng.choice([0, 16, 32, 80, 200])
                params["min_hours"] = low
                params["max_hours"] = low + rng.choice([40, 100, 400])
        elif kind == "provider_id":
            params["provider"] = rng.choice(providers)["id"]
        elif kind == "provider_name":
            name = rng.choice(providers)["name"]
            params["provider"] = name if rng.random() < 0.5 else name[: max(3, len(name) // 2)].strip()
            if len(params["provider"]) < 3:
                continue
        elif kind == "odb_filter":
            t = rng.choice(trainings)
            params["odb_number"] = t["odb_number"] if rng.random() < 0.5 else t["odb_number"].lower()
        elif kind == "detail":
            t = rng.choice(trainings)
            out.append({"kind": kind, "odb": t["odb_number"] if rng.random() < 0.8 else t["odb_number"].lower()})
            continue
        elif kind == "word_page_2":
            params["q"] = word
            params["offset"] = 20
        if rng.random() < 0.1 and kind not in ("word_page_2",):
            params["limit"] = rng.choice([10, 50])
        out.append({"kind": kind, "params": params})
    return out


CITY_WORDS = [
    "Gent",
    "Antwerpen",
    "Brugge",
    "Leuven",
    "Mechelen",
    "Hasselt",
    "Kortrijk",
    "Aalst",
    "Genk",
    "Roeselare",
    "Oostende",
    "Turnhout",
    "Dendermonde",
    "Lier",
    "Geel",
    "Vilvoorde",
    "Ieper",
    "Tienen",
    "Lokeren",
    "Beringen",
    "Herentals",
    "Waregem",
    "Tongeren",
    "Oudenaarde",
    "Eeklo",
    "Ninove",
    "Diest",
    "Halle",
    "Zaventem",
    "Bilzen",
    "Maaseik",
    "Lommel",
    "Knokke",
    "Torhout",
    "Tielt",
    "Deinze",
    "Wetteren",
]


def path_of(request: dict[str, Any]) -> str:
    if request["kind"] == "detail":
        return f"{PATH}/{quote(request['odb'])}"
    return f"{PATH}?{urlencode(request['params'])}"


def search_of(request: dict[str, Any]) -> Search:
    """What the handler makes of the request's parameters (registration.register.search_trainings)."""
    p = request["params"]
    number = lambda name: float(p[name]) if name in p else None  # noqa: E731
    return Search.of(
        q=p.get("q"),
        provider=p.get("provider"),
        competence_group=p.get("competence_group"),
        odb_number=p.get("odb_number"),
        blended={"true": True, "false": False}.get(p.get("blended")),
        min_hours=number("min_hours"),
        max_hours=number("max_hours"),
        limit=int(p.get("limit", 20)),
        offset=int(p.get("offset", 0)),
    )


async def sql_body(connection: asyncpg.Connection, request: dict[str, Any], today: date) -> bytes | None:
    """The service's own statements, the way it runs them (registration.register)."""
    if request["kind"] == "detail":
        try:
            return await register.training_detail(connection, odb_number=request["odb"], today=today)
        except NotFound:
            return None
    return await register.search_register(connection, search=search_of(request), today=today)


# -- correctness -----------------------------------------------------------------------------------


class Expectations:
    """The generated data, to judge answers without the service's SQL."""

    def __init__(self, sample: dict[str, Any]) -> None:
        self.today = date.fromisoformat(sample["today"])
        self.trainings = sample["trainings"]
        self.by_odb = {t["odb_number"]: t for t in self.trainings}
        self.secrets = [marker.encode() for marker in sample["secret_markers"]]
        self.stop_words: set[str] = set()  # Dutch stop words ('word', 'voor'): no full-text match, similar names only

    @staticmethod
    def meets(t: dict[str, Any], p: dict[str, Any]) -> bool:
        if "competence_group" in p and t["competence_group"] != p["competence_group"]:
            return False
        if "blended" in p and t["blended"] != (p["blended"] == "true"):
            return False
        if "min_hours" in p and t["total_hours"] < float(p["min_hours"]):
            return False
        if "max_hours" in p and t["total_hours"] > float(p["max_hours"]):
            return False
        if "odb_number" in p and t["odb_number"].upper() != p["odb_number"].upper():
            return False
        if "provider" in p:
            try:
                if t["provider_id"] != str(UUID(p["provider"])):
                    return False
            except ValueError:
                if " ".join(p["provider"].split()).lower() not in t["provider_name"].lower():
                    return False
        return True

    def problems(self, request: dict[str, Any], status: int, body: bytes) -> list[str]:
        found = [f"shows {marker.decode()!r}" for marker in self.secrets if marker in body]
        if request["kind"] == "detail":
            t = self.by_odb.get(request["odb"].upper())
            expected = 200 if t and t["in_register"] else 404
            if status != expected:
                return found + [f"HTTP {status}, expected {expected}"]
            if t is not None and status == 200:
                item = json.loads(body)
                if (item["odb_number"], item["name"], item["provider_name"]) != (t["odb_number"], t["name"], t["provider_name"]) or not item["modules"]:
                    found.append("another training, or no modules")
            return found
        if status != 200:
            return found + [f"HTTP {status}"]
        page = json.loads(body)
        p = request["params"]
        items = page["items"]
        limit, offset = int(p.get("limit", 20)), int(p.get("offset", 0))
        odbs = [i["odb_number"] for i in items]
        if len(items) > limit or len(set(odbs)) != len(odbs):
            found.append("too many items, or one twice")
        for item in items:
            t = self.by_odb[item["odb_number"]]
            if not t["in_register"]:
                found.append(f"{t['odb_number']} is not in the register today (R-23)")
            if not self.meets(t, p):
                found.append(f"{t['odb_number']} does not meet the filters")
        if "q" not in p:
            in_order = sorted((t for t in self.trainings if t["in_register"] and self.meets(t, p)), key=lambda t: (t["name"], t["odb_number"]))
            if odbs != [t["odb_number"] for t in in_order[offset : offset + limit]]:
                found.append("not the expected trainings in the expected order")
            if bool(page["next_cursor"]) != (len(in_order) > offset + limit):
                found.append("next_cursor wrong")
        else:
            order = ["name", "text", "similar_name"]
            tiers = [order.index(i["match"]) for i in items]
            if tiers != sorted(tiers):
                found.append("tiers out of order")
            word = p["q"].lower()
            if (
                " " not in word
                and offset == 0
                and word.isalpha()
                and word not in self.stop_words
                and any(t["in_register"] and self.meets(t, p) and word in t["name"].lower().replace("-", " ").replace("/", " ").split() for t in self.trainings)
            ) and (not items or items[0]["match"] != "name"):
                found.append(f"'{word}' is in a name in the register, yet no name match comes first")
        return found


async def check_answers(service: Registration, database_url: str, requests: list[dict[str, Any]], expect: Expectations, size: int) -> dict[str, Any]:
    """`size` requests over HTTP judged against the data, each body the same as the SQL gives; cursor paging against offset paging."""
    today = brussels_today(SystemClock())
    subset = requests[:size]
    connection = await asyncpg.connect(database_url)
    await configure_connection(connection)
    out: dict[str, Any] = {}
    try:
        words = sorted({r["params"]["q"].lower() for r in subset if "q" in r.get("params", {})})
        expect.stop_words = {w for w in words if not await connection.fetchval("SELECT numnode(websearch_to_tsquery('dutch', $1))", w)}
        out["stop_words_in_mix"] = sorted(expect.stop_words)
        async with httpx.AsyncClient(base_url=service.url, timeout=20) as client:
            semaphore = asyncio.Semaphore(8)

            async def one(request: dict[str, Any]) -> tuple[dict[str, Any], int, bytes]:
                async with semaphore:
                    response = await client.get(path_of(request))
                    return request, response.status_code, response.content

            answers = await asyncio.gather(*[one(r) for r in subset])
            wrong: Counter[str] = Counter()
            differs, examples = 0, list[dict[str, Any]]()
            for request, status, body in answers:
                problems = expect.problems(request, status, body)
                if problems:
                    wrong[request["kind"]] += 1
                    if len(examples) < 10:
                        examples.append({"path": path_of(request), "problems": problems[:3]})
                expected_body = await sql_body(connection, request, today)
                if (expected_body if expected_body is not None else None) != (body if status == 200 else None):
                    differs += 1
            out["http"] = {
                "checked": len(subset),
                "wrong": sum(wrong.values()),
                "wrong_by_kind": dict(wrong),
                "examples": examples,
                "by_kind": dict(Counter(r["kind"] for r in subset)),
                "not_as_sql": differs,
            }

            paged = [r for r in subset if r["kind"] in ("word", "filters", "city", "typo") and "limit" not in r["params"]][:30]
            paging_wrong = 0
            for request in paged:
                by_cursor, cursor = [], None
                for _ in range(3):
                    params = {**request["params"], **({"cursor": cursor} if cursor else {})}
                    page = (await client.get(PATH, params=params)).json()
                    by_cursor += [i["odb_number"] for i in page["items"]]
                    cursor = page["next_cursor"]
                    if not cursor:
                        break
                by_offset = []
                for page_number in range(3):
                    items = (await client.get(PATH, params={**request["params"], "offset": 20 * page_number})).json()["items"]
                    by_offset += [i["odb_number"] for i in items]
                    if len(items) < 20:
                        break
                if by_cursor != by_offset[: len(by_cursor)] or len(set(by_cursor)) != len(by_cursor) or len(by_cursor) != len(by_offset):
                    paging_wrong += 1
            out["paging"] = {"checked": len(paged), "wrong": paging_wrong}
    finally:
        await connection.close()
    return out


# -- wrk ----------------------------------------------------------------------------------------------


def wrk_search_run(config: StackConfig, service: Registration, script: Path, args: argparse.Namespace, deadline: Deadline, expected_non_2xx: float) -> Run:
    # wrk counts every non-2xx answer as a "status" error: the 404s of stopped trainings' pages are expected ones.
    run = wrk_run(
        "http",
        CpuMeter(config, lambda: service.pid),
        service.url,
        script,
        threads=args.wrk_threads,
        connections=args.wrk_connections,
        seconds=args.wrk_seconds,
        deadline=deadline,
        expected_non_2xx=expected_non_2xx,
    )
    figures = run.details["wrk"]
    figures["command"] = figures["command"].replace("check.lua", script.name)
    run.details["non_2xx"] = figures["status"]
    return run


# -- fire functions ---------------------------------------------------------------------------------


def http_fire(client: RawHttp, service: Registration, requests: list[dict[str, Any]], statuses: list[int]) -> Fire:
    raw = [f"GET {path_of(r)} HTTP/1.1\r\nHost: 127.0.0.1:{service.port}\r\n\r\n".encode() for r in requests]
    n = len(raw)

    async def fire(i: int) -> tuple[float, bool]:
        sent, status, body = await client.get(raw[i % n])
        if status >= 500:
            raise RuntimeError(f"HTTP {status}")
        return sent, status == statuses[i % n]

    return fire


def sql_fire(pool: asyncpg.Pool, requests: list[dict[str, Any]], statuses: list[int], today: date) -> Fire:
    n = len(requests)

    async def fire(i: int) -> tuple[float, bool]:
        sent = time.perf_counter()
        async with pool.acquire() as connection:
            body = await sql_body(connection, requests[i % n], today)
        return sent, (200 if body is not None else 404) == statuses[i % n]

    return fire


# -- the runs -----------------------------------------------------------------------------------------


async def measure(
    config: StackConfig,
    service: Registration,
    work: Path,
    args: argparse.Namespace,
    database_url: str,
    requests: list[dict[str, Any]],
    expect: Expectations,
    runs: list[Run],
    report: dict[str, Any],
    deadline: Deadline,
) -> None:
    meter = CpuMeter(config, lambda: service.pid)
    today = brussels_today(SystemClock())

    def done(run: Run) -> None:
        runs.append(run)
        print_run(run)

    print(f"-> correctness: {args.check} requests over HTTP against the data and the SQL, 30 searches paged by cursor and by offset ...", flush=True)
    report["correctness"] = await check_answers(service, database_url, requests, expect, args.check)
    print(f"   {report['correctness']}", flush=True)
    c = report["correctness"]
    if c["http"]["wrong"] or c["http"]["not_as_sql"] or c["paging"]["wrong"]:
        raise RuntimeError(f"wrong answers before measuring: {c}")

    statuses = []
    for r in requests:
        t = expect.by_odb.get(r["odb"].upper()) if r["kind"] == "detail" else None
        statuses.append(404 if r["kind"] == "detail" and not (t and t["in_register"]) else 200)
    expected_non_2xx = statuses.count(404) / len(statuses)
    report["mix"] = {
        "requests": len(requests),
        "distinct": len({path_of(r) for r in requests}),
        "by_kind": dict(Counter(r["kind"] for r in requests)),
        "expected_404_share": round(expected_non_2xx, 4),
    }

    (work / "paths.txt").write_text("\n".join(path_of(r) for r in requests) + "\n")
    script = work / "search.lua"
    script.write_text(wrk_paths_script("bench/registration/run.py: spreads requests over the mix's paths.", work / "paths.txt", offset_step=1999))
    print(f"-> warm-up: wrk {args.warmup_seconds:g} s (not counted) ...", flush=True)
    run_wrk(service.url, script, threads=args.wrk_threads, connections=args.wrk_connections, seconds=args.warmup_seconds, deadline=deadline)
    print(f"-> http / max: wrk -t{args.wrk_threads} -c{args.wrk_connections} -d{args.wrk_seconds:g}s over the mix of {len(requests)} requests ...", flush=True)
    done(await asyncio.to_thread(wrk_search_run, config, service, script, args, deadline, expected_non_2xx))

    pool = await asyncpg.create_pool(database_url, min_size=args.pool_size, max_size=args.pool_size, init=configure_connection)
    try:
        print(f"-> sql / max: the same statements, asyncpg pool of {args.pool_size}, {args.wrk_connections} workers, {args.sql_seconds:g} s ...", flush=True)
        fire = sql_fire(pool, requests, statuses, today)
        await closed_loop(fire, concurrency=args.wrk_connections, seconds=2, deadline=deadline)  # warm-up
        figures, cpu = await meter.measure(closed_loop(fire, concurrency=args.wrk_connections, seconds=args.sql_seconds, deadline=deadline))
        done(make_run("sql", "max", f"asyncpg pool {args.pool_size}, {args.wrk_connections} workers", figures, cpu))

        client = RawHttp(service.port, args.steady_connections)
        await client.start()
        try:
            fire = http_fire(client, service, requests, statuses)
            await open_loop(fire, rate=min(args.rate, 100), seconds=2, deadline=deadline)  # warm-up of the connections
            for rate, seconds in [(args.rate, args.steady_seconds), *[(r, args.extra_seconds) for r in args.extra_rates]]:
                print(f"-> http / steady: {rate:g} requests/s open loop for {seconds:g} s ({args.steady_connections} connections) ...", flush=True)
                await asyncio.sleep(2)  # let a backlog of the previous run drain
                figures, cpu = await meter.measure(open_loop(fire, rate=rate, seconds=seconds, deadline=deadline))
                done(make_run("http", "steady", f"open loop {rate:g}/s, raw client, {args.steady_connections} conns", figures, cpu, rate=rate))
        finally:
            await client.close()

        print(f"-> sql / steady: {args.rate:g} searches/s open loop for {args.steady_seconds:g} s ...", flush=True)
        fire = sql_fire(pool, requests, statuses, today)
        await asyncio.sleep(2)
        figures, cpu = await meter.measure(open_loop(fire, rate=args.rate, seconds=args.steady_seconds, deadline=deadline))
        done(make_run("sql", "steady", f"open loop {args.rate:g}/s, asyncpg pool {args.pool_size}", figures, cpu, rate=args.rate))
    finally:
        await pool.close()


async def explain_plans(database_url: str, requests: list[dict[str, Any]], today: date) -> dict[str, Any]:
    """EXPLAIN (ANALYZE) of one request of each kind: which indexes they use, and what they cost in PostgreSQL."""
    connection = await asyncpg.connect(database_url)
    await configure_connection(connection)
    out: dict[str, Any] = {}
    try:
        for kind in sorted({r["kind"] for r in requests}):
            request = next(r for r in requests if r["kind"] == kind)
            if kind == "detail":
                sql, args = register.DETAIL_SQL, [request["odb"], today]
            else:
                search = search_of(request)
                providers = await register.provider_ids(connection, search.provider) if search.provider is not None and search.provider_by_name else None
                sql, args = register.search_sql(search, today, providers)
            lines = [r[0] for r in await connection.fetch("EXPLAIN (ANALYZE, COSTS OFF) " + sql, *args)]  # planned with the request's values
            indexes = sorted(
                {
                    line.split(" using ")[1].split()[0] if " using " in line else line.split(" on ")[1].split()[0]
                    for line in lines
                    if "Index" in line and (" using " in line or " on " in line)
                }
            )
            out[kind] = {
                "path": path_of(request),
                "indexes": indexes,
                "seq_scan": any("Seq Scan" in line for line in lines),
                "planning_ms": next((float(line.split()[-2]) for line in lines if line.startswith("Planning Time")), None),
                "execution_ms": next((float(line.split()[-2]) for line in lines if line.startswith("Execution Time")), None),
            }
    finally:
        await connection.close()
    return out


# -- submissions (--submissions) ---------------------------------------------------------------------

KID = "registration-bench"


class Tokens:
    """Platform tokens as identity signs them (RS256 here), verified by the service through a JWKS
    endpoint on loopback: the service's own verification, without an identity process."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key())), "kid": KID, "use": "sig", "alg": "RS256"}
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

    def token(self, person: UUID, organisation: UUID) -> str:
        now = int(time.time())
        claims = {
            "iss": "wse-identity",
            "aud": "wse-platform",
            "sub": str(person),
            "org": str(organisation),
            "iat": now,
            "exp": now + 900,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": KID})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


async def provider_staff(database_url: str, sample: dict[str, Any], count: int, today: date) -> list[tuple[UUID, UUID]]:
    """`count` training providers of the data set, each with a staff member holding
    dwse_organisation_officer@training_database (R-1) in the service's rights projection, as
    identity's events leave it. Returns (organisation, person) pairs."""
    providers = [UUID(p["id"]) for p in sample["providers"] if p["kind"] == "training_provider"][:count]
    staff = [(organisation, uuid.uuid4()) for organisation in providers]
    connection = await asyncpg.connect(database_url)
    try:
        await connection.copy_records_to_table(
            "rights_projection",
            columns=["right_id", "person_id", "organisation_id", "role", "context", "valid_from"],
            records=[
                (uuid.uuid4(), person, organisation, "dwse_organisation_officer", "training_database", today - timedelta(days=30))
                for organisation, person in staff
            ],
        )
    finally:
        await connection.close()
    return staff


def raw_request(method: str, path: str, port: int, token: str, body: Any = None, headers: dict[str, str] | None = None) -> bytes:
    payload = b"" if body is None else json.dumps(body).encode()
    head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", f"Authorization: Bearer {token}", f"Content-Length: {len(payload)}"]
    if body is not None:
        head.append("Content-Type: application/json")
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


def sections_for(n: int, today: date) -> dict[str, Any]:
    """A valid application (profession-specific, integral, not blended): admissible, in review (R-2: the providers are quality-registered)."""
    starts = today + timedelta(days=30 + n % 60)
    topic = TOPIC_NAMES[n % len(TOPIC_NAMES)]
    return {
        "contact": {"name": "Info Opleidingen", "email": f"dossier{n}@contact.bench.example", "phone": "+32 9 123 45 67"},
        "training": {
            "name": f"{topic} (bench {n})",
            "own_reference": f"BENCH-{uuid.uuid4().hex[:12]}",
            "target_group": "Werknemers en werkzoekenden",
            "workplace_learning": False,
            "blended": False,
            "separately_enrollable_parts": False,
            "leads_to_qualification": True,
            "final_assessment": True,
            "web_page": f"https://opleidingen.bench.example/{n}",
            "structure": "integral",
            "competence_group": "profession_specific",
            "content": f"In deze opleiding leer je de praktijk van {topic.lower()}.",
            "modules": [
                {"name": topic, "contact_hours": str(32 + n % 100), "starts_on": starts.isoformat(), "ends_on": (starts + timedelta(days=60)).isoformat()}
            ],
        },
        "self_analysis": {"basic": [], "profession_specific": ["shortage_occupation"], "general_pillars": []},
        "deciding_body": {"aim": "several_professions"},
    }


TOPIC_NAMES = ["Heftruckchauffeur", "Lassen MIG/MAG", "Boekhouding", "Elektrotechniek", "Zorgkundige", "Projectmanagement", "Metselen", "Kapper"]

SUBMIT_TARGET_RATE = 200.0  # issue 4: at least 200 submissions/s sustained ...
SUBMIT_TARGET_P99_MS = 100.0  # ... with p99 at most 100 ms, outbox write included
SUBMIT_CPU_RATIO = 2.0  # issue 10, point 11: service CPU per submission at most twice the baseline's ...
IDLE_IN_TRANSACTION_MAX_PCT = 5.0  # ... and no backend idle in a transaction for more than a few percent of the run
SUBMITTED_TYPE = ApplicationSubmittedV1.event_type
NOTIFICATION_TYPE = NotificationRequestedV1.event_type
SUBMIT_TOPICS = [ApplicationSubmittedV1.topic, NotificationRequestedV1.topic]


@dataclass(frozen=True)
class Draft:
    """A complete draft, written before measuring; what its submission needs."""

    application_id: UUID
    organisation_id: UUID
    organisation_name: str
    person_id: UUID
    staff: int  # index into the staff list (and the tokens)
    contact: dict[str, Any]
    training_name: str


def stored_sections(n: int, today: date, *, organisation_kind: str, committees: set[str]) -> dict[str, Any]:
    """What four PUT .../sections/{name} store for sections_for(n): each section parsed by the
    service's own model and dumped as save_section dumps it, after the service's own rules
    (domain.validate_section) found nothing wrong."""
    out: dict[str, Any] = {}
    for name, body in sections_for(n, today).items():
        section = parse_section(name, body)
        problems = domain.validate_section(name, section, organisation_kind=organisation_kind, known_committees=committees)
        if problems:
            raise RuntimeError(f"draft {n}: section {name} is not valid: {problems}")
        out[name] = section.model_dump(mode="json")
    return out


async def prepare_drafts(
    database_url: str, staff: list[tuple[UUID, UUID]], sizes: dict[str, int], today: date, *, open_dossiers: int = 0
) -> tuple[dict[str, list[Draft]], dict[str, Any]]:
    """Complete drafts written with COPY, row for row what POST /v1/provider/applications and four
    PUT .../sections leave (use_cases.provider.create_draft, save_section): status 'draft', the four
    sections as stored, version 1 + 4, a 'draft_created' history row. Draft n belongs to staff
    member n % len(staff), so consecutive submissions come from different organisations.

    Before them, `open_dossiers` applications of the same providers already in review (submitted
    over the last 80 days, decision due within the 3 months): the dossiers a live register has in
    flight. Without any, the statistics say no application is open, and the planner reads the R-5
    check (in use_cases.provider's submission read) through the partial index of the work queue
    (applications_queue) instead of applications_by_organisation: it then reads every open
    application on each submission, more with every one submitted (see the README)."""
    started = time.monotonic()
    connection = await asyncpg.connect(database_url)
    try:
        committees = {r["number"] for r in await connection.fetch("SELECT number FROM joint_committees")}
        organisations = {
            r["organisation_id"]: r
            for r in await connection.fetch(
                "SELECT organisation_id, name, kind FROM organisations_projection WHERE organisation_id = ANY($1::uuid[])", [o for o, _ in staff]
            )
        }
        now = datetime.now(UTC)
        drafts: dict[str, list[Draft]] = {}
        application_rows, history_rows = [], []
        n = 0
        for name, size in {"open_dossiers": open_dossiers, **sizes}.items():
            drafts[name] = []
            for _ in range(size):
                s = n % len(staff)
                organisation_id, person_id = staff[s]
                organisation = organisations[organisation_id]
                sections = stored_sections(n, today, organisation_kind=organisation["kind"], committees=committees)
                application_id = uuid.uuid4()
                application_rows.append((application_id, organisation_id, person_id, "draft", json.dumps(sections), 1 + len(sections), now))
                history_rows.append((application_id, now, person_id, "draft_created", json.dumps({"replaces": None})))
                drafts[name].append(
                    Draft(application_id, organisation_id, organisation["name"], person_id, s, sections["contact"], sections["training"]["name"])
                )
                n += 1
        built = time.monotonic() - started
        async with connection.transaction():
            await connection.copy_records_to_table(
                "applications",
                records=application_rows,
                columns=["application_id", "organisation_id", "created_by", "status", "sections", "version", "updated_at"],
            )
            await connection.copy_records_to_table(
                "application_history", records=history_rows, columns=["application_id", "at", "actor_id", "action", "details"]
            )
            for i, d in enumerate(drafts.pop("open_dossiers")):
                submitted_on = today - timedelta(days=i % 80)
                await connection.execute(
                    "UPDATE applications SET status = 'in_review', submitted_at = $2, submitted_by = created_by, idempotency_key = $3, decision_due_on = $4, "
                    "version = version + 1, updated_at = $2 WHERE application_id = $1",
                    d.application_id,
                    start_of(submitted_on) + timedelta(hours=10),
                    f"bench-open-{d.application_id}",
                    domain.decision_due_on(submitted_on),
                )
        await connection.execute("VACUUM ANALYZE applications")
        await connection.execute("VACUUM ANALYZE application_history")
    finally:
        await connection.close()
    return drafts, {
        "drafts": n - open_dossiers,
        "by_run": sizes,
        "open_dossiers_in_review": open_dossiers,
        "organisations": len({d.organisation_id for ds in drafts.values() for d in ds}),
        "build_and_validate_s": round(built, 1),
        "seconds": round(time.monotonic() - started, 1),
    }


async def checkpoint(config: StackConfig) -> None:
    """The data load's dirty pages written out now, not by a checkpoint in the middle of a run (as pgbench does)."""
    connection = await asyncpg.connect(config.admin_database_url())
    try:
        await connection.execute("CHECKPOINT")
    finally:
        await connection.close()


class Answers:
    """What the submissions got back, per run."""

    def __init__(self) -> None:
        self.in_review: list[UUID] = []
        self.statuses: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.first_call: float | None = None  # submission 0 is called at its scheduled time
        self.done: dict[int, float] = {}  # submission i -> when its answer came

    def timeline(self, rate: float) -> list[dict[str, Any]]:
        """Per second of the open-loop schedule: submissions, p50 and max latency from their scheduled time."""
        if self.first_call is None or not self.done:
            return []
        seconds: dict[int, list[float]] = {}
        for i, done in self.done.items():
            seconds.setdefault(int(i / rate), []).append(done - (self.first_call + i / rate))
        return [
            {"second": s, "submissions": len(v), "p50_ms": round(sorted(v)[len(v) // 2] * 1000, 1), "max_ms": round(max(v) * 1000, 1)}
            for s, v in sorted(seconds.items())
        ]


def submit_fire(client: RawHttp, port: int, drafts: list[Draft], tokens: list[str], answers: Answers) -> Fire:
    """POST /v1/provider/applications/{id}/submit with an Idempotency-Key, as the draft's staff member."""
    requests = [
        raw_request(
            "POST",
            f"/v1/provider/applications/{d.application_id}/submit",
            port,
            tokens[d.staff],
            headers={"Idempotency-Key": f"bench-submit-{d.application_id}"},
        )
        for d in drafts
    ]

    async def fire(i: int) -> tuple[float, bool]:
        if i == 0:
            answers.first_call = time.perf_counter()
        draft = drafts[i]
        sent, status, body = await client.get(requests[i])
        answers.done[i] = time.perf_counter()
        if status != 200:
            answers.failures[f"HTTP {status} {body[:160].decode(errors='replace')}"] += 1
            raise RuntimeError(f"HTTP {status}")
        answer = json.loads(body)
        answers.statuses[answer["status"]] += 1
        ok = answer["status"] == "in_review" and answer["application_id"] == str(draft.application_id)
        if ok:
            answers.in_review.append(draft.application_id)
        return sent, ok

    return fire


# The baseline: the same writes as use_cases.provider.submit_application for an admissible application, by
# hand, without its reads and checks (own row FOR UPDATE, idempotency key, sections, R-5 reference,
# organisation, organisation data, committees).
SQL_SUBMIT = """
    UPDATE applications SET status = 'in_review', submitted_at = $2, submitted_by = $3, idempotency_key = $4, decision_due_on = $5,
        inadmissible_rule = NULL, inadmissible_reason = NULL, flags = '{}', version = version + 1, updated_at = $2
    WHERE application_id = $1 AND status = 'draft' RETURNING dossier_number
"""
SQL_HISTORY = "INSERT INTO application_history (application_id, at, actor_id, action, details) VALUES ($1, $2, $3, 'submitted', $4)"
SQL_OUTBOX = f"""
    WITH added AS (INSERT INTO outbox (topic, key, value, headers, event_id, event_type) VALUES ($1, $2, $3, $4, $5, $6), ($7, $8, $9, $10, $11, $12))
    SELECT pg_notify('{OUTBOX_CHANNEL}', '')
"""
SQL_JOB = """
    INSERT INTO scheduled_jobs (job, dedup_key, due_at, payload) VALUES ($1, $2, $3, $4)
    ON CONFLICT (job, dedup_key) DO UPDATE SET due_at = EXCLUDED.due_at, payload = EXCLUDED.payload,
        status = 'pending', attempts = 0, last_error = NULL, done_at = NULL
"""


def outbox_values(envelope: Envelope, topic: str) -> tuple[Any, ...]:
    """An outbox row as service_runtime.outbox writes it (CloudEvents binary mode, wse_contracts.to_kafka_record)."""
    record = to_kafka_record(envelope, topic=topic)
    return record.topic, record.key, record.value, [[name, value.decode()] for name, value in record.headers], envelope.id, envelope.type


def sql_submit_fire(pool: asyncpg.Pool, drafts: list[Draft], answers: Answers) -> Fire:
    """In one transaction on the asyncpg pool: UPDATE the application, its history row, the two outbox rows (the
    submitted event and the contact person's e-mail request, the real contract models) with the relay's wake-up
    notification, the decision-term job."""

    async def fire(i: int) -> tuple[float, bool]:
        draft = drafts[i]
        sent = time.perf_counter()
        if i == 0:
            answers.first_call = sent
        now = datetime.now(UTC)
        due = domain.decision_due_on(brussels_date(now))
        async with pool.acquire() as connection, connection.transaction():
            dossier = await connection.fetchval(SQL_SUBMIT, draft.application_id, now, draft.person_id, f"bench-sql-{draft.application_id}", due)
            if dossier is None:
                answers.failures["not a draft"] += 1
                raise RuntimeError("not a draft")
            await connection.execute(SQL_HISTORY, draft.application_id, now, draft.person_id, {"status": "in_review", "rule": None})
            submitted = ApplicationSubmittedV1(
                application_id=draft.application_id,
                organisation_id=draft.organisation_id,
                dossier_number=dossier,
                training_name=draft.training_name,
                replaces_odb_number=None,
                decision_due_on=due,
            )
            notification = email_request(
                ApplicationSubmitted(
                    dossier_number=dossier,
                    training_name=draft.training_name,
                    organisation_name=draft.organisation_name,
                    decision_due_on=due,
                    held_for_quality_registration=False,
                ),
                to=[Recipient(email=draft.contact["email"], name=draft.contact.get("name"))],
                reference=f"ODB-dossier-{dossier}",
                idempotency_key=f"{draft.application_id}:submitted",
                requested_by="registration",
            )
            await connection.execute(
                SQL_OUTBOX,
                *outbox_values(submitted.to_envelope(source=f"/wse/{registration_service.name}", correlation_id="bench-sql"), submitted.topic),
                *outbox_values(notification.to_envelope(source=f"/wse/{registration_service.name}", correlation_id="bench-sql"), notification.topic),
            )
            await connection.execute(
                SQL_JOB,
                DECISION_TERM_JOB,
                str(draft.application_id),
                start_of(domain.decision_warning_on(due, days_before=14)),
                {"application_id": str(draft.application_id)},
            )
        answers.done[i] = time.perf_counter()
        answers.statuses["in_review"] += 1
        answers.in_review.append(draft.application_id)
        return sent, True

    return fire


async def outbox_mark(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        return await connection.fetchval("SELECT coalesce(max(id), 0) FROM outbox")
    finally:
        await connection.close()


async def check_run(database_url: str, submitted: list[UUID], mark: int, *, wait_s: float = 90) -> dict[str, Any]:
    """After a run: every application answered in review is in review in the database, with its history row, its
    submitted event and its e-mail request in the outbox (rows after `mark`, matched by application id and idempotency
    key in the published values), its decision-term job; and the relay published every outbox row (published_at set)."""
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
            [f"{i}:submitted" for i in ids],
        )
        jobs = await connection.fetchval(
            "SELECT count(*) FROM scheduled_jobs WHERE job = $1 AND dedup_key = ANY($2::text[]) AND status = 'pending'", DECISION_TERM_JOB, ids
        )
    finally:
        await connection.close()
    n = len(submitted)
    outbox_rows = sum(v["rows"] for v in rows_by_type.values())
    out = {
        "answered_in_review": n,
        "applications_by_status": by_status,
        "history_submitted": history,
        "submitted_events": events["applications"],
        "submitted_events_published": events["published"],
        "email_requests": emails["applications"],
        "email_requests_published": emails["published"],
        "decision_term_jobs": jobs,
        "outbox_rows_in_run": outbox_rows,
        "outbox_rows_by_type": rows_by_type,
        "outbox_unpublished_anywhere": unpublished,
        "relay_drained_after_s": drained_s,
    }
    out["complete"] = (
        by_status == {"in_review": n}
        and history == n
        and events["applications"] == events["published"] == n
        and emails["applications"] == emails["published"] == n
        and jobs == n
        and outbox_rows == 2 * n
        and unpublished == 0
    )
    return out


async def kafka_end_offsets(bootstrap: str, topics: list[str]) -> dict[str, int]:
    """Records on each topic so far (sum of its partitions' end offsets)."""
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


class PgWatch:
    """What PostgreSQL did during a run: pg_stat_activity sampled every 50 ms (on CPU, waiting for a lock or for I/O,
    or idle in a transaction, i.e. waiting for the service), and the deltas of the table counters (sequential scans,
    autovacuum and autoanalyze runs) and of checkpoints."""

    TABLES = (
        "SELECT relname, seq_scan, seq_tup_read, coalesce(idx_scan, 0) AS idx_scan, n_tup_ins, n_tup_upd, n_tup_hot_upd, "
        "autovacuum_count, autoanalyze_count FROM pg_stat_user_tables"
    )

    def __init__(self, database_url: str, *, connections: int = 10) -> None:
        self.database_url = database_url
        self.connections = connections  # the pool measured (the service's or the baseline's): idle in transaction as a share of its time
        self.samples = 0
        self.states: Counter[str] = Counter()
        self.queries: Counter[str] = Counter()
        self.client_busy = 0  # client backends seen not idle, summed over the samples
        self.idle_in_transaction = 0  # of those, idle in a transaction: holding it open while the client works

    async def __aenter__(self) -> PgWatch:
        self.connection = await asyncpg.connect(self.database_url)
        self.before = await self._counters()
        self.task = asyncio.create_task(self._sample())
        return self

    async def _counters(self) -> dict[str, Any]:
        tables = {r["relname"]: dict(r) for r in await self.connection.fetch(self.TABLES)}
        checkpoints = await self.connection.fetchval("SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter")
        return {"tables": tables, "checkpoints": checkpoints}

    async def _sample(self) -> None:
        while True:
            rows = await self.connection.fetch(
                "SELECT backend_type, state, wait_event_type, wait_event, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) AS query "
                "FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type NOT IN ('checkpointer', 'background writer', 'walwriter', "
                "'archiver', 'logical replication launcher', 'autovacuum launcher') AND coalesce(state, '') <> 'idle'"
            )
            self.samples += 1
            for r in rows:
                doing = f"{r['state'] or r['backend_type']}: {r['wait_event_type'] + ':' + r['wait_event'] if r['wait_event'] else 'on CPU'}"
                who = "" if r["backend_type"] == "client backend" else f"{r['backend_type']} "
                self.states[who + doing] += 1
                if r["backend_type"] == "client backend":
                    self.client_busy += 1
                    if (r["state"] or "").startswith("idle in transaction"):
                        self.idle_in_transaction += 1
                if r["state"] == "active" and r["backend_type"] == "client backend":
                    self.queries[f"{'on CPU' if not r['wait_event'] else r['wait_event']} | {r['query']}"] += 1
            await asyncio.sleep(0.05)

    async def __aexit__(self, *exc: Any) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await asyncio.sleep(1.2)  # backends flush their table counters at most once a second
        self.after = await self._counters()
        await self.connection.close()

    def report(self) -> dict[str, Any]:
        n = max(self.samples, 1)
        tables = {}
        for name, after in self.after["tables"].items():
            before = self.before["tables"].get(name, {})
            delta = {k: after[k] - before.get(k, 0) for k in after if k != "relname"}
            if any(delta.values()):
                tables[name] = {k: v for k, v in delta.items() if v}
        return {
            "samples": self.samples,
            "backends_busy_on_average": round(sum(self.states.values()) / n, 2),
            # Point 11 of issue 10: how much of the run the backends spent idle in a transaction,
            # waiting for the client. On average, as a share of the pool's connection time, and
            # as a share of the time client backends were busy at all.
            "idle_in_transaction_on_average": round(self.idle_in_transaction / n, 3),
            "idle_in_transaction_pct_of_pool_time": round(100 * self.idle_in_transaction / n / self.connections, 2),
            "idle_in_transaction_pct_of_busy_backends": round(100 * self.idle_in_transaction / max(self.client_busy, 1), 1),
            "doing_on_average": {k: round(v / n, 3) for k, v in self.states.most_common(12)},
            "active_queries_on_average": {k: round(v / n, 3) for k, v in self.queries.most_common(12)},
            "tables": tables,
            "checkpoints": self.after["checkpoints"] - self.before["checkpoints"],
        }


def submission_sizes(args: argparse.Namespace) -> dict[str, int]:
    """Drafts per run, each used once."""
    warm = int(args.submission_rate / 2 * args.submission_warmup_seconds)
    steady = int(args.submission_rate * args.steady_seconds)
    return {
        "http_warmup": warm,
        "http_steady": steady,
        "sql_warmup": warm,
        "sql_steady": steady,
        "http_max": args.submission_max_drafts,
        "sql_max": args.submission_max_drafts,
    }


async def measure_submissions(
    config: StackConfig,
    service: Registration,
    tokens: Tokens,
    staff: list[tuple[UUID, UUID]],
    drafts: dict[str, list[Draft]],
    args: argparse.Namespace,
    database_url: str,
    runs: list[Run],
    report: dict[str, Any],
    deadline: Deadline,
) -> None:
    meter = CpuMeter(config, lambda: service.pid)
    rate = args.submission_rate
    tokens_by_staff = [tokens.token(person, organisation) for organisation, person in staff]
    checks: dict[str, Any] = {}
    report["submission_checks"] = checks
    first_mark = await outbox_mark(database_url)
    kafka_before = await kafka_end_offsets(config.kafka_bootstrap, SUBMIT_TOPICS)

    async def measured(
        key: str, name: str, mode: str, client: str, load: Awaitable[dict[str, Any]], answers: Answers, mark: int, before: dict[str, Any], **details: Any
    ) -> None:
        async with PgWatch(database_url, connections=args.pool_size) as watch:
            figures = await load
        timeline = answers.timeline(details["rate"]) if "rate" in details else []
        run = make_run(
            name,
            mode,
            client,
            figures,
            CpuMeter.delta(before, meter.snapshot()),
            statuses=dict(answers.statuses),
            failures=dict(answers.failures),
            **details,
            **({"ran_out_of_drafts": figures["ran_out"]} if "ran_out" in figures else {}),
            **({"per_second": timeline} if timeline else {}),
        )
        runs.append(run)
        print(
            f"   {run.requests} submissions in {run.seconds} s: {run.per_s:.0f}/s, p50 {run.latency['p50_ms']:.2f} ms, p95 {run.latency['p95_ms']:.2f} ms, "
            f"p99 {run.latency['p99_ms']:.2f} ms, max {run.latency['max_ms']:.1f} ms; errors {run.errors}, not in review {run.wrong_answers}; "
            f"answers {dict(answers.statuses)}{'; failures ' + str(dict(answers.failures)) if answers.failures else ''}; CPU {fmt_cpu(run.cpu)}",
            flush=True,
        )
        if timeline:
            maxima = " ".join(f"{t['max_ms']:.0f}" for t in timeline)
            print(f"   max latency per second of the schedule (ms): {maxima}", flush=True)
        report.setdefault("postgres", {})[key] = pg = watch.report()
        per = cpu_per_request(run)
        print(
            f"   CPU per submission: service (or this process for sql) {per.get('client_or_service_us', math.nan):.0f} us, PostgreSQL {per.get('postgres_us', math.nan):.0f} us; "
            f"idle in transaction: {pg['idle_in_transaction_on_average']} backends on average = {pg['idle_in_transaction_pct_of_pool_time']} % of "
            f"the pool's {args.pool_size} connections' time, {pg['idle_in_transaction_pct_of_busy_backends']} % of busy backend time",
            flush=True,
        )
        print(
            f"   PostgreSQL: backends busy on average {pg['backends_busy_on_average']}: {pg['doing_on_average']}; checkpoints {pg['checkpoints']}; "
            f"autovacuum/analyze { ({t: (d.get('autovacuum_count', 0), d.get('autoanalyze_count', 0)) for t, d in pg['tables'].items() if d.get('autovacuum_count') or d.get('autoanalyze_count')}) }; "
            f"sequential scans { ({t: (d['seq_scan'], d.get('seq_tup_read', 0)) for t, d in pg['tables'].items() if d.get('seq_scan')}) }",
            flush=True,
        )
        print(f"   PostgreSQL active queries on average: {pg['active_queries_on_average']}", flush=True)
        checks[key] = await check_run(database_url, answers.in_review, mark)
        print(f"   check: {checks[key]}", flush=True)

    async def warm_up(fire: Fire, size: int) -> None:
        figures = await open_loop(fire, rate=rate / 2, seconds=size / (rate / 2), deadline=deadline)
        if figures["errors"] or figures["wrong"]:
            raise RuntimeError(f"submissions fail in the warm-up: {figures['errors']} errors, {figures['wrong']} not in review")
        await asyncio.sleep(2)

    client = RawHttp(service.port, args.steady_connections)
    await client.start()
    pool = await asyncpg.create_pool(database_url, min_size=args.pool_size, max_size=args.pool_size, init=configure_connection)
    try:
        print(f"-> warm-up: {len(drafts['http_warmup'])} submissions over HTTP at {rate / 2:g}/s (not counted) ...", flush=True)
        answers = Answers()
        await warm_up(submit_fire(client, service.port, drafts["http_warmup"], tokens_by_staff, answers), len(drafts["http_warmup"]))
        if answers.failures or set(answers.statuses) != {"in_review"}:
            raise RuntimeError(f"warm-up submissions: {dict(answers.statuses)} {dict(answers.failures)}")

        print(
            f"-> http / steady: POST .../submit at {rate:g} submissions/s, open loop, {args.steady_seconds:g} s ({len(drafts['http_steady'])} drafts "
            f"of {len({d.organisation_id for d in drafts['http_steady']})} organisations, {args.steady_connections} connections) ...",
            flush=True,
        )
        answers, mark, before = Answers(), await outbox_mark(database_url), meter.snapshot()
        await measured(
            "http_steady",
            "http",
            "steady",
            f"open loop {rate:g}/s, raw client, {args.steady_connections} conns",
            open_loop(
                submit_fire(client, service.port, drafts["http_steady"], tokens_by_staff, answers), rate=rate, seconds=args.steady_seconds, deadline=deadline
            ),
            answers,
            mark,
            before,
            rate=rate,
        )

        print(
            f"-> sql / steady (baseline): the same writes by hand through asyncpg (pool of {args.pool_size}), {rate:g}/s, open loop, "
            f"{args.steady_seconds:g} s, after a warm-up of {len(drafts['sql_warmup'])} ...",
            flush=True,
        )
        await warm_up(sql_submit_fire(pool, drafts["sql_warmup"], Answers()), len(drafts["sql_warmup"]))
        answers, mark, before = Answers(), await outbox_mark(database_url), meter.snapshot()
        await measured(
            "sql_steady",
            "sql",
            "steady",
            f"open loop {rate:g}/s, asyncpg pool {args.pool_size}",
            open_loop(sql_submit_fire(pool, drafts["sql_steady"], answers), rate=rate, seconds=args.steady_seconds, deadline=deadline),
            answers,
            mark,
            before,
            rate=rate,
        )

        await asyncio.sleep(2)
        print(
            f"-> http / max: POST .../submit closed loop, {args.wrk_connections} connections, {args.submission_max_seconds:g} s "
            f"(or until its {len(drafts['http_max'])} drafts run out) ...",
            flush=True,
        )
        max_client = RawHttp(service.port, args.wrk_connections)
        await max_client.start()
        try:
            answers, mark, before = Answers(), await outbox_mark(database_url), meter.snapshot()
            await measured(
                "http_max",
                "http",
                "max",
                f"closed loop, raw client, {args.wrk_connections} conns",
                closed_loop(
                    submit_fire(max_client, service.port, drafts["http_max"], tokens_by_staff, answers),
                    concurrency=args.wrk_connections,
                    seconds=args.submission_max_seconds,
                    deadline=deadline,
                    total=len(drafts["http_max"]),
                    reserve=20,
                ),
                answers,
                mark,
                before,
            )
        finally:
            await max_client.close()

        await asyncio.sleep(2)
        print(
            f"-> sql / max (baseline): the same writes by hand, closed loop, {args.wrk_connections} workers on the asyncpg pool of {args.pool_size}, "
            f"{args.submission_max_seconds:g} s (or until its {len(drafts['sql_max'])} drafts run out) ...",
            flush=True,
        )
        answers, mark, before = Answers(), await outbox_mark(database_url), meter.snapshot()
        await measured(
            "sql_max",
            "sql",
            "max",
            f"closed loop, asyncpg pool {args.pool_size}, {args.wrk_connections} workers",
            closed_loop(
                sql_submit_fire(pool, drafts["sql_max"], answers),
                concurrency=args.wrk_connections,
                seconds=args.submission_max_seconds,
                deadline=deadline,
                total=len(drafts["sql_max"]),
                reserve=20,
            ),
            answers,
            mark,
            before,
        )
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
            "records_before": kafka_before[topic],
            "records_after": kafka_after[topic],
            "new_records": kafka_after[topic] - kafka_before[topic],
            "outbox_rows": rows.get(topic, (0, 0))[0],
            "outbox_rows_published": rows.get(topic, (0, 0))[1],
        }
        for topic in SUBMIT_TOPICS
    }
    report["kafka_matches_outbox"] = all(v["new_records"] == v["outbox_rows"] == v["outbox_rows_published"] for v in report["kafka"].values())
    print(f"   Kafka: {report['kafka']}; new records = outbox rows published: {report['kafka_matches_outbox']}", flush=True)


# -- output --------------------------------------------------------------------------------------------


def verdicts(runs: list[Run], rate: float) -> list[dict[str, Any]]:
    def one(name: str, mode: str) -> Run | None:
        return next((r for r in runs if r.name == name and r.mode == mode and r.details.get("rate", rate) == rate), None)

    found = []
    if r := one("http", "steady"):
        base = one("sql", "steady")
        found.append(
            {
                "target": f"public search p99 <= {TARGET_P99_MS:g} ms at a steady {rate:,.0f}/s over 100,000 registered trainings",
                "met": r.latency["p99_ms"] <= TARGET_P99_MS and r.errors == 0 and r.wrong_answers == 0,
                "measured": f"p99 {r.latency['p99_ms']:.2f} ms, p95 {r.latency['p95_ms']:.2f} ms, p50 {r.latency['p50_ms']:.2f} ms, "
                f"{r.per_s:,.0f}/s answered ({r.errors} errors, {r.wrong_answers} wrong)",
                "baseline": f"the same SQL through asyncpg at the same rate: p99 {base.latency['p99_ms']:.2f} ms, p50 {base.latency['p50_ms']:.2f} ms"
                if base
                else None,
            }
        )
    if r := one("http", "max"):
        base = one("sql", "max")
        found.append(
            {
                "target": "maximum (no target; the headroom over the steady rate)",
                "met": r.errors == 0,
                "measured": f"{r.per_s:,.0f}/s ({r.errors} errors)",
                "baseline": f"the same SQL through asyncpg: {base.per_s:,.0f}/s" if base else None,
            }
        )
    return found


def submission_verdicts(runs: list[Run], report: dict[str, Any], args: argparse.Namespace) -> list[dict[str, Any]]:
    def one(name: str, mode: str) -> Run | None:
        return next((r for r in runs if r.name == name and r.mode == mode), None)

    checks = report.get("submission_checks", {})
    kafka = "Kafka has them all" if report.get("kafka_matches_outbox") else "Kafka does NOT match the outbox" if "kafka" in report else "Kafka not checked"
    found = []
    if r := one("http", "steady"):
        check, base = checks.get("http_steady", {}), one("sql", "steady")
        offered = r.details.get("offered", r.requests)
        sustained = (
            r.requests == offered
            and r.errors == 0
            and r.wrong_answers == 0
            and r.per_s >= 0.99 * SUBMIT_TARGET_RATE
            and args.submission_rate >= SUBMIT_TARGET_RATE
        )
        outbox = (
            f"outbox: {check.get('submitted_events')} submitted events + {check.get('email_requests')} e-mail requests "
            f"({check.get('outbox_rows_in_run')} rows), {check.get('decision_term_jobs')} decision-term jobs, all published: {check.get('complete')}; {kafka}"
        )
        found.append(
            {
                "target": f"submission >= {SUBMIT_TARGET_RATE:g}/s sustained with p99 <= {SUBMIT_TARGET_P99_MS:g} ms, outbox write included",
                "met": sustained and r.latency["p99_ms"] <= SUBMIT_TARGET_P99_MS and bool(check.get("complete")) and bool(report.get("kafka_matches_outbox")),
                "measured": f"{r.requests}/{offered} submissions answered 200 in_review at {r.per_s:,.1f}/s offered {args.submission_rate:g}/s over "
                f"{args.steady_seconds:g} s; p50 {r.latency['p50_ms']:.2f} ms, p95 {r.latency['p95_ms']:.2f} ms, p99 {r.latency['p99_ms']:.2f} ms, "
                f"max {r.latency['max_ms']:.1f} ms ({r.errors} errors); {outbox}",
                "baseline": (
                    f"the same writes by hand through asyncpg at the same rate: p50 {base.latency['p50_ms']:.2f} ms, p95 {base.latency['p95_ms']:.2f} ms, "
                    f"p99 {base.latency['p99_ms']:.2f} ms ({base.errors} errors, complete: {checks.get('sql_steady', {}).get('complete')})"
                )
                if base
                else None,
            }
        )
    if r := one("http", "max"):
        check = checks.get("http_max", {})
        found.append(
            {
                "target": "submission ceiling (no target; closed loop, the headroom over the steady rate)",
                "met": r.errors == 0 and r.wrong_answers == 0 and bool(check.get("complete")),
                "measured": f"{r.per_s:,.0f} submissions/s, p50 {r.latency['p50_ms']:.2f} ms, p99 {r.latency['p99_ms']:.2f} ms ({r.errors} errors"
                f"{', ran out of drafts' if r.details.get('ran_out_of_drafts') else ''}); outbox complete: {check.get('complete')}",
                "baseline": f"the same writes by hand, closed loop: {b.per_s:,.0f} submissions/s, p99 {b.latency['p99_ms']:.2f} ms"
                if (b := one("sql", "max"))
                else None,
            }
        )
    # Issue 10, point 11: short transactions. The service's CPU per submission at most twice the
    # hand-written baseline's, and its backends idle in a transaction for a few percent of the run at most.
    if (r := one("http", "steady")) and (base := one("sql", "steady")):
        mine, theirs = cpu_per_request(r).get("client_or_service_us", math.nan), cpu_per_request(base).get("client_or_service_us", math.nan)
        # The baseline's rows reach Kafka through the service's relay: the service's CPU during the baseline run.
        relay = base.cpu.get("service", math.nan) * base.seconds * 1e6 / 100 / max(base.requests, 1)
        found.append(
            {
                "target": f"service CPU per submission <= {SUBMIT_CPU_RATIO:g}x the baseline's (steady {args.submission_rate:g}/s)",
                "met": mine <= SUBMIT_CPU_RATIO * theirs,
                "measured": f"{mine:,.0f} us of service CPU per submission ({mine / theirs:.2f}x)",
                "baseline": f"{theirs:,.0f} us of this process's CPU per submission (the writes by hand and the load generator); with the service's "
                f"relay, which publishes the baseline's outbox rows too, {theirs + relay:,.0f} us ({mine / (theirs + relay):.2f}x)",
            }
        )
        pg = report.get("postgres", {})
        idle, idle_base = pg.get("http_steady", {}), pg.get("sql_steady", {})
        found.append(
            {
                "target": f"backends idle in transaction <= {IDLE_IN_TRANSACTION_MAX_PCT:g} % of the pool's connection time (steady {args.submission_rate:g}/s)",
                "met": idle.get("idle_in_transaction_pct_of_pool_time", math.inf) <= IDLE_IN_TRANSACTION_MAX_PCT,
                "measured": f"{idle.get('idle_in_transaction_on_average')} of {args.pool_size} backends on average = "
                f"{idle.get('idle_in_transaction_pct_of_pool_time')} % ({idle.get('idle_in_transaction_pct_of_busy_backends')} % of busy backend time)",
                "baseline": f"{idle_base.get('idle_in_transaction_on_average')} backends = {idle_base.get('idle_in_transaction_pct_of_pool_time')} % "
                f"({idle_base.get('idle_in_transaction_pct_of_busy_backends')} % of busy backend time)",
            }
        )
    return found


# -- main ----------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/registration/run.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trainings", type=int, default=100_000)
    parser.add_argument("--providers", type=int, default=3_000)
    parser.add_argument("--requests", type=int, default=4_000, help="requests in the mix the load cycles through (default 4000)")
    parser.add_argument("--check", type=int, default=600, help="requests checked over HTTP before measuring (default 600)")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument(
        "--wrk-connections", type=int, default=32, help="wrk connections, workers of the SQL max run, connections of the submission max run (default 32)"
    )
    parser.add_argument("--wrk-seconds", type=float, default=20.0)
    parser.add_argument("--sql-seconds", type=float, default=15.0, help="length of the SQL max run (default 15)")
    parser.add_argument("--warmup-seconds", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=200.0, help="requests/s of the steady runs (default 200)")
    parser.add_argument("--steady-seconds", type=float, default=30.0)
    parser.add_argument("--steady-connections", type=int, default=32)
    parser.add_argument("--extra-rates", default="300", help="comma-separated further HTTP steady rates (default 300; '' for none)")
    parser.add_argument("--extra-seconds", type=float, default=15.0)
    parser.add_argument("--pool-size", type=int, default=10, help="asyncpg pool of the SQL baseline (default 10, the service's database_pool_max)")
    parser.add_argument(
        "--submissions",
        action="store_true",
        help="instead of search: POST .../submit of complete drafts, open loop at --submission-rate, closed loop, and a SQL baseline",
    )
    parser.add_argument("--submission-rate", type=float, default=200.0, help="submissions/s of the steady runs (default 200), for --steady-seconds")
    parser.add_argument("--submission-providers", type=int, default=1000, help="providers submitting, one staff member and token each (default 1000)")
    parser.add_argument("--submission-warmup-seconds", type=float, default=2.0, help="warm-ups at half the rate before the HTTP and SQL runs (default 2)")
    parser.add_argument("--submission-max-seconds", type=float, default=20.0, help="length of the closed-loop submission run (default 20)")
    parser.add_argument(
        "--submission-open-dossiers",
        type=int,
        default=3000,
        help="applications already in review before measuring, over the same providers (default 3000; 0: none, see the README)",
    )
    parser.add_argument(
        "--submission-max-drafts", type=int, default=16000, help="drafts for the closed-loop run; it ends early if they run out (default 16000)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600.0, help="hard limit in seconds after the stack is up (default 600)")
    parser.add_argument("--output", type=Path, help="default results/latest.json (search) or results/submissions.json (--submissions)")
    args = parser.parse_args(argv)
    args.output = args.output or RESULTS_DIR / ("submissions.json" if args.submissions else "latest.json")
    args.extra_rates = [float(r) for r in args.extra_rates.split(",") if r.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.submissions and not shutil.which("wrk"):
        print("wrk is needed: apt-get install -y wrk", file=sys.stderr)
        return 2
    config = StackConfig.bench()
    work = config.state_dir / "registration-bench"
    runs: list[Run] = []
    report: dict[str, Any] = {}
    print(f"Benchmark stack '{config.name}' in {config.state_dir} (PostgreSQL 127.0.0.1:{config.postgres_port}, Kafka {config.kafka_bootstrap})", flush=True)
    with BenchStack(config) as run:
        deadline = run.start(args.timeout)
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)

        database_url = asyncio.run(postgres.recreate_database(config, DATABASE))
        extra_env = {}
        tokens: Tokens | None = None
        if args.submissions:
            tokens = Tokens()
            run.on_exit(tokens.close)
            extra_env["REGISTRATION_JWKS_URL"] = tokens.url
        service = Registration(config, database_url, config.logs_dir / "registration-bench.log", **extra_env)
        run.on_exit(service.stop)
        print("-> migrating the registration database (python -m registration migrate) ...", flush=True)
        report["migrations"] = json.loads(service.cli("migrate").strip().splitlines()[-1])
        print(f"-> generating {args.trainings} registered trainings of {args.providers} providers (COPY) ...", flush=True)
        sample_path = work / "sample.json"
        report["data"] = generate(
            HERE / "generate.py",
            [
                "--url",
                database_url,
                "--trainings",
                str(args.trainings),
                "--providers",
                str(args.providers),
                "--seed",
                str(args.seed),
                "--sample-out",
                str(sample_path),
            ],
            deadline,
        )
        print(f"   {report['data']['counts']} in {report['data']['seconds']} s; sizes {report['data']['sizes']}", flush=True)
        sample = json.loads(sample_path.read_text())
        expect = Expectations(sample)
        requests = build_requests(sample, args.requests, args.seed)
        staff: list[tuple[UUID, UUID]] = []
        drafts: dict[str, list[Draft]] = {}
        if tokens is not None:
            staff = asyncio.run(provider_staff(database_url, sample, args.submission_providers, brussels_today(SystemClock())))
            print(f"   {len(staff)} providers with a staff member holding dwse_organisation_officer@training_database; tokens from {tokens.url}", flush=True)
            sizes = submission_sizes(args)
            print(
                f"-> writing {sum(sizes.values())} complete drafts {sizes} and {args.submission_open_dossiers} dossiers in review (COPY; sections parsed "
                "and checked by the service's own models and rules) ...",
                flush=True,
            )
            drafts, report["drafts"] = asyncio.run(
                prepare_drafts(database_url, staff, sizes, brussels_today(SystemClock()), open_dossiers=args.submission_open_dossiers)
            )
            asyncio.run(checkpoint(config))
            print(f"   {report['drafts']}; CHECKPOINT", flush=True)
        else:
            print("-> EXPLAIN (ANALYZE) of one request of each kind ...", flush=True)
            report["plans"] = asyncio.run(explain_plans(database_url, requests, brussels_today(SystemClock())))
            for kind, plan in report["plans"].items():
                print(
                    f"   {kind:<14} {plan['indexes']}{'  SEQ SCAN' if plan['seq_scan'] else ''}  planning {plan['planning_ms']} ms, "
                    f"execution {plan['execution_ms']} ms",
                    flush=True,
                )

        report["code_at_start"] = code_state(*CODE)
        print("-> starting ONE registration process ...", flush=True)
        service.start(deadline)
        print(f"   registration pid {service.pid} at {service.url}", flush=True)

        gc.collect()
        gc.freeze()  # this process's own collector must not pause the load generators
        if tokens is not None:
            uvloop.run(
                asyncio.wait_for(measure_submissions(config, service, tokens, staff, drafts, args, database_url, runs, report, deadline), deadline.left())
            )
        else:
            uvloop.run(asyncio.wait_for(measure(config, service, work, args, database_url, requests, expect, runs, report, deadline), deadline.left()))
    error = run.error

    print()
    if args.submissions:
        print(
            f"Results: POST /v1/provider/applications/{{id}}/submit of complete drafts on ONE registration process vs the same writes by hand "
            f"through asyncpg; {os.cpu_count()} CPUs shared by load generator, service, PostgreSQL, Kafka"
        )
    else:
        print(
            f"Results: public search (GET {PATH}) on ONE registration process vs the same SQL through asyncpg; "
            f"{os.cpu_count()} CPUs shared by load generator, service, PostgreSQL, Kafka"
        )
    print(run_table(runs, first="what", width=8))
    if args.submissions:
        print("  */steady: open loop, latency from the scheduled send time; http/max: closed loop; sql/steady: UPDATE + history + 2 outbox rows + job,")
        print("  one transaction on an asyncpg pool in this Python process. Each run used its own drafts once; 'wrong' = answered but not in_review.")
    else:
        print("  http/max: wrk closed loop; sql/max: asyncpg closed loop in this Python process; */steady: open loop, latency from the scheduled send time.")
    print("  CPU: % of one core over the run (generator = wrk or this process; others = the rest of the shared machine).")
    print("  CPU us/req: py = the service (http) or this process (sql); pg = PostgreSQL, per answered request.")
    checks = verdicts(runs, args.rate) if not args.submissions else submission_verdicts(runs, report, args)
    print_verdicts(checks)
    code_now = code_state(*CODE)
    print_code(report.get("code_at_start"), code_now)
    if error:
        print(f"FAILED: {error}")

    write_results(
        args.output,
        {
            **results_head(
                "registration-submissions" if args.submissions else "registration-public-search",
                "bench/registration/run.py",
                argv,
                shared="load generator, service, PostgreSQL, Kafka",
            ),
            "code": {"at_service_start": report.pop("code_at_start", None), "at_end": code_now},
            "settings": settings_of(args),
            "targets": (
                {"submissions_per_s": SUBMIT_TARGET_RATE, "p99_ms": SUBMIT_TARGET_P99_MS, "outbox_write_included": True}
                if args.submissions
                else {"http_p99_ms_at_rate": TARGET_P99_MS, "rate": args.rate}
            ),
            **report,
            "runs": [asdict(r) for r in runs],
            "verdicts": checks,
            "error": error,
        },
    )
    return 1 if error else 0


if __name__ == "__main__":
    sys.exit(main())
