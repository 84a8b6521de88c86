"""Attestation benchmark, issue 13: a bulk file of a million rows uploaded to ONE `python -m
attestation serve` process, beside a raw PostgreSQL COPY of the same rows into the same tables in
the same run; the service's resident memory meanwhile; and single enrolments at 200/s beside the
same writes by hand.

    uv run python bench/attestation/run.py [options]          (from the repository root)

Targets (issue 13): "Bulk ingest: at least 50,000 rows/s validated (every rule above, against the
projection) and stored durably, measured beside a raw PostgreSQL COPY of the same rows into the same
table in the same run; report the ratio. A one-million-row file is accepted with the service's
resident memory staying under 300 MB. Single attestation: p99 at most 50 ms at 200/s."

It starts the bench stack as the other benchmarks do (devstack, .run/bench, PostgreSQL/Kafka/mail
sink on the bench ports, 127.0.0.1 only; whatever an interrupted run left is stopped first, and the
stack is stopped at the end, also on an error or Ctrl-C), creates the database bench_attestation,
migrates it with `python -m attestation migrate`, and loads with COPY what the service learns from
events: one provider organisation (organisations_projection, with a contact address for the
receipt's email), its staff member holding dwse_organisation_officer@training_leave (A-1,
rights_projection), and its registered trainings (trainings_projection: integral ones and modular
ones with a blended module). The service runs with the stack's random PII keys, as production does
(`config.pii_env()`), and `run.py` signs the platform tokens itself (RS256, its key served as JWKS).

The file (written to .run/bench/attestation-bench/, ~110 MB): a Dutch spreadsheet's CSV
(semicolons, BOM, CRLF, Dutch headers, dates as 15/09/2026 or 2026-09-15, hours as 7,5), --rows
rows: an enrolment per student (half of the rows) and then the attendance of each (the other half;
on a blended module with the learning process completed for most). About 1 % of the rows are bad,
each with the problem the rules must name: a national register number with wrong check digits, a
training starting before the registration holds (A-4), a date that does not exist, a module on an
integral training (the attendance of each of those students is then refused too: no enrolment,
A-3), attendance on another ODB number than the enrolment's (A-3), on an unknown reference (A-3),
hours that are no number, a period ending before it starts. The expected outcome of every row is
known to the generator.

Bulk: the file is streamed (1 MB chunks, Content-Length) to POST /v1/provider/bulk; rows/s is the
file's rows over the time from the first byte sent to the 201 with the receipt `done` (every row
validated, the valid ones committed in their batch's transaction, durable: synchronous_commit on).
Meanwhile /proc/<pid>/status of the service is sampled every 10 ms (VmRSS; VmHWM at the end). Then
it checks the receipt's counts, the database (enrolments, attendances, students), the report (every
refused row by row number, field and rule, exactly the expected ones), the events in the outbox
(enrolment, attendance, completion, entitlement: the expected numbers), the email request, and that
no national register number is in the report or any event.

Baseline: the rows the service stored, copied out of its tables (COPY ... TO, binary) and COPY'd
into the same tables of a freshly migrated database (same indexes, constraints and foreign keys),
in one transaction: students, enrolments and attendances (what the attestations are), and
separately also the outbox rows and the report the service wrote. The ratio is rows/s over rows/s.

Then it waits for the outbox relay to publish what the upload wrote (reported, not a target).

Single: POST /v1/provider/enrolments, each a new student on one of the trainings, open loop at
--single-rate (200)/s for --single-seconds (20) over 32 keep-alive connections, after a warm-up at
half the rate; beside it the same writes by hand through asyncpg (pool of 10): the receipt, the
student, the enrolment, its event in the outbox with the relay's NOTIFY, the receipt's counts, in one
transaction, on the same schedule.

Everything shares the machine's cores: this process, the service, PostgreSQL and Kafka. Only figures
from the same run are comparable. It prints a table and the verdicts and writes
bench/attestation/results/latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import gc
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

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
    fmt_cpu,
    make_run,
    migrate_empty,
    open_loop,
    print_code,
    print_verdicts,
    py_spy,
    raw_request,
    results_head,
    run_table,
    settings_of,
    summarise_stacks,
    write_results,
)
from devstack import postgres  # noqa: E402
from devstack.config import StackConfig  # noqa: E402
from service_runtime import pii  # noqa: E402
from service_runtime.db import configure_connection  # noqa: E402
from service_runtime.outbox import _NOTIFY_CHANNEL as OUTBOX_CHANNEL  # noqa: E402 - the relay's wake-up channel
from wse_contracts import to_kafka_record  # noqa: E402
from wse_contracts.attestation import EnrolmentAttestedV1  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
DATABASE = "bench_attestation"
COPY_DATABASE = "bench_attestation_copy"
CODE = ("runtime", "services/attestation", "contracts")  # whose uncommitted changes the results name

TARGET_ROWS_S = 50_000.0
TARGET_RSS_MB = 300.0
SINGLE_TARGET_P99_MS = 50.0
SINGLE_TARGET_RATE = 200.0

HEADER = ["soort", "referentie", "odb_nummer", "module", "rijksregisternummer", "naam", "voornaam", "startdatum", "einddatum", "periode_van", "periode_tot", "uren", "doorlopen"]  # fmt: skip
LAST_NAMES = ["Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens", "Wouters", "De Smet", "Dubois", "Çelik", "Van den Broeck", "Öztürk", "Lambrechts"]  # fmt: skip
FIRST_NAMES = ["An", "Jan", "Zoë", "Noah", "Louise", "Arthur", "Mila", "Liam", "Françoise", "Lars", "Emma", "Mohamed", "Inès", "Wout", "Fien"]  # fmt: skip
BAD_ENROLMENTS = {  # what makes an enrolment row bad: the field and rule the report must name
    "check_digits": ("national_register_number", "A-2"),
    "before_holds": ("starts_on", "A-4"),
    "no_such_date": ("ends_on", "A-2"),
    "module_on_integral": ("module", "A-2"),
}
BAD_ATTENDANCES = {
    "other_odb": ("odb_number", "A-3"),
    "unknown_reference": ("reference", "A-3"),
    "hours": ("hours", "A-2"),
    "period": ("period_to", "A-2"),
}


# -- the register and the file -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Training:
    odb_number: str
    modules: tuple[tuple[str, bool], ...]  # () for an integral training; (name, blended) per module


def trainings_of(count: int) -> list[Training]:
    """Four in five integral; the others modular with a blended module."""
    return [
        Training(f"ODB-{700_000 + i}", () if i % 5 else (("Basis", False), ("Praktijk", False), ("Online", True)))  # i % 5 == 0: modular
        for i in range(count)
    ]


def national_register_number(i: int) -> str:
    """The i-th valid national register number of the data set (born 1960 onwards, 997 serials a day)."""
    born = date.fromordinal(date(1960, 1, 1).toordinal() + i // 997)
    body = f"{born:%y%m%d}{i % 997 + 1:03d}"
    return f"{body}{97 - int(body) % 97:02d}"


def wrong_check_digits(number: str) -> str:
    body = int(number[:9])
    valid = {97 - body % 97, 97 - (2_000_000_000 + body) % 97}
    check = next(c for c in range(1, 98) if c not in valid)
    return f"{number[:9]}{check:02d}"


@dataclass
class Generated:
    path: Path
    rows: int
    students: int
    bytes: int
    sha256: str
    expected: Counter[str] = field(default_factory=Counter)  # accepted / refused, events by kind
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # (row number, field, rule), row order
    bad: Counter[str] = field(default_factory=Counter)
    sample_numbers: list[str] = field(default_factory=list)
    seconds: float = 0.0


def generate_file(path: Path, rows: int, trainings: list[Training], seed: int, bad_share: float) -> Generated:
    """The CSV as a Dutch spreadsheet exports it, and what the service must make of every row."""
    import hashlib

    started = time.monotonic()
    rng = random.Random(seed)
    students = rows // 2
    integral = [t for t in trainings if not t.modules]
    # bad_share of the rows refused: a bad enrolment refuses its student's attendance too (2 rows)
    bad_enrolment_share, bad_attendance_share = bad_share / 2, bad_share
    out = Generated(path, 2 * students, students, 0, "")
    plan: list[
        tuple[Training, str, str | None, str | None, str, str | None]
    ] = []  # per student: training, module, bad enrolment, bad attendance, hours, completed
    for s in range(students):
        training = trainings[s % len(trainings)]
        module, blended = rng.choice(training.modules) if training.modules else ("", False)
        bad_enrolment = rng.choice(list(BAD_ENROLMENTS)) if rng.random() < bad_enrolment_share else None
        if bad_enrolment == "module_on_integral" and training.modules:
            bad_enrolment = "no_such_date"
        bad_attendance = None if bad_enrolment else (rng.choice(list(BAD_ATTENDANCES)) if rng.random() < bad_attendance_share else None)
        if bad_attendance == "other_odb" and training.modules:
            bad_attendance = "hours"
        hours = str(rng.randint(8, 40)) if rng.random() < 0.8 else f"{rng.randint(8, 39)},5"
        completed = ("ja" if rng.random() < 0.8 else "nee") if blended else None
        plan.append((training, module, bad_enrolment, bad_attendance, hours, completed))

    digest = hashlib.sha256()
    row_number = 1
    with open(path, "wb") as file:

        def write(line: str) -> None:
            data = line.encode() + b"\r\n"
            digest.update(data)
            file.write(data)

        bom = codecs.BOM_UTF8
        digest.update(bom)
        file.write(bom)
        write(";".join(HEADER))
        for s, (training, module, bad, _, _, _) in enumerate(plan):
            row_number += 1
            number = national_register_number(s)
            starts, ends = ("15/09/2026", "30/06/2027") if s % 2 else ("2026-09-15", "2027-06-30")
            if bad == "check_digits":
                number = wrong_check_digits(number)
            elif bad == "before_holds":
                starts = "31/08/2026"
            elif bad == "no_such_date":
                ends = "31/02/2027"
            elif bad == "module_on_integral":
                module = "Lassen"
            if bad:
                out.problems.append((row_number, *BAD_ENROLMENTS[bad]))
                out.bad[f"enrolment:{bad}"] += 1
            else:
                out.expected["enrolments_accepted"] += 1
            kind = "inschrijving" if s % 3 else "enrolment"
            write(f"{kind};INS-{s:07d};{training.odb_number};{module};{number};{LAST_NAMES[s % 15]};{FIRST_NAMES[s % 13]};{starts};{ends};;;;")
        for s, (training, module, bad_enrolment, bad, hours, completed) in enumerate(plan):
            row_number += 1
            number = national_register_number(s)
            odb, reference, period_from, period_to = training.odb_number, f"INS-{s:07d}", "15/09/2026", "31/12/2026"
            if bad_enrolment:
                if bad_enrolment == "module_on_integral":
                    module = ""
                out.problems.append((row_number, "reference", "A-3"))  # no enrolment with this reference
                out.bad["attendance:after_a_refused_enrolment"] += 1
            elif bad:
                if bad == "other_odb":
                    odb = next(t.odb_number for t in integral if t.odb_number != training.odb_number)
                elif bad == "unknown_reference":
                    reference = f"ONBEKEND-{s:07d}"
                elif bad == "hours":
                    hours = "veel"
                elif bad == "period":
                    period_from, period_to = "31/12/2026", "15/09/2026"
                out.problems.append((row_number, *BAD_ATTENDANCES[bad]))
                out.bad[f"attendance:{bad}"] += 1
            else:
                out.expected["attendances_accepted"] += 1
                if completed == "ja":
                    out.expected["completions"] += 1
                counted = completed is None or completed == "ja"
                if counted and Decimal(hours.replace(",", ".")) >= 32:
                    out.expected["entitlements"] += 1
            write(f"aanwezigheid;{reference};{odb};{module};{number};;;;;{period_from};{period_to};{hours};{completed or ''}")
            if s % 50_000 == 0:
                out.sample_numbers.append(number)
    out.problems.sort()
    out.expected["refused"] = len(out.problems)
    out.expected["accepted"] = out.expected["enrolments_accepted"] + out.expected["attendances_accepted"]
    out.bytes = path.stat().st_size
    out.sha256 = digest.hexdigest()
    out.seconds = round(time.monotonic() - started, 1)
    return out


async def load_register(database_url: str, organisation_id: uuid.UUID, person_id: uuid.UUID, trainings: list[Training]) -> dict[str, Any]:
    """What the service learns from events: the provider, its staff member's right, its trainings."""
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "INSERT INTO organisations_projection (organisation_id, name, kind, contact_email, quality_status, quality_valid_from) "
            "VALUES ($1, 'CVO Leerrijk (bench)', 'training_provider', 'opleidingen@leerrijk.example', 'registered', '2020-01-01')",
            organisation_id,
        )
        await connection.execute(
            "INSERT INTO rights_projection (right_id, person_id, organisation_id, role, context, valid_from) VALUES ($1, $2, $3, $4, $5, '2020-01-01')",
            uuid.uuid4(),
            person_id,
            organisation_id,
            "dwse_organisation_officer",
            "training_leave",
        )
        records = []
        for t in trainings:
            modules = [{"name": name, "hours": 40, "blended": blended, "starts_on": "2026-09-15", "ends_on": "2027-06-30"} for name, blended in t.modules] or [
                {"name": "Geheel", "hours": 120, "blended": False, "starts_on": "2026-09-15", "ends_on": "2027-06-30"}
            ]
            records.append(
                (
                    t.odb_number,
                    organisation_id,
                    f"Opleiding {t.odb_number}",
                    date(2026, 9, 1),
                    None,
                    None,
                    "modular" if t.modules else "integral",
                    any(b for _, b in t.modules),
                    json.dumps(modules),
                    ["2026-2027"],
                )
            )
        await connection.copy_records_to_table(
            "trainings_projection",
            records=records,
            columns=["odb_number", "organisation_id", "name", "holds_from", "stop_on", "replaced_by", "structure", "blended", "modules", "school_years"],
        )
        await connection.execute("VACUUM ANALYZE")
        return {"trainings": len(trainings), "modular": sum(1 for t in trainings if t.modules)}
    finally:
        await connection.close()


# -- the upload ---------------------------------------------------------------------------------------------


class RssSampler:
    """The service's resident memory from /proc/<pid>/status every `interval` s, in a thread."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self.pid, self.interval = pid, interval
        self.peak_kb = 0
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def status(self) -> dict[str, int]:
        found = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0])
        return found

    def _run(self) -> None:
        started = time.monotonic()
        last = 0.0
        while not self._stop.is_set():
            try:
                rss = self.status()["VmRSS"]
            except (OSError, KeyError):
                return
            self.peak_kb = max(self.peak_kb, rss)
            now = time.monotonic() - started
            if now - last >= 0.5:
                self.samples.append((round(now, 1), rss))
                last = now
            time.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        self.before = self.status()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.after = self.status()


async def upload(url: str, token: str, generated: Generated) -> tuple[float, int, dict[str, Any]]:
    """The file streamed from disk in 1 MB chunks with its Content-Length; (seconds to the answer, status, answer)."""

    async def chunks() -> Any:
        with open(generated.path, "rb") as file:
            while chunk := file.read(1 << 20):
                yield chunk

    headers = {"authorization": f"Bearer {token}", "content-type": "text/csv", "content-length": str(generated.bytes)}
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(1800)) as client:
        started = time.perf_counter()
        response = await client.post("/v1/provider/bulk", params={"filename": generated.path.name}, content=chunks(), headers=headers)
        seconds = time.perf_counter() - started
    return seconds, response.status_code, response.json()


NRN_IN_TEXT = r"(?<![0-9a-fA-F])[0-9]{11}(?![0-9a-fA-F])"


async def check_upload(database_url: str, organisation_id: uuid.UUID, answer: dict[str, Any], generated: Generated) -> dict[str, Any]:
    """The receipt, the database, the report and the outbox against what the generator expects."""
    e = generated.expected
    connection = await asyncpg.connect(database_url)
    try:
        receipt_id = uuid.UUID(answer["receipt_id"])
        problems = [
            (r["row_number"], r["field"], r["rule"])
            for r in await connection.fetch("SELECT row_number, field, rule FROM receipt_problems WHERE receipt_id = $1 ORDER BY row_number, field", receipt_id)
        ]
        by_type = {
            r["event_type"].removeprefix("be.vlaanderen.wse."): r["n"]
            for r in await connection.fetch("SELECT event_type, count(*) AS n FROM outbox GROUP BY event_type ORDER BY 1")
        }
        stored = {t: await connection.fetchval(f"SELECT count(*) FROM {t}") for t in ("students", "enrolments", "attendances")}
        by_status = {r["status"]: r["n"] for r in await connection.fetch("SELECT status, count(*) AS n FROM enrolments GROUP BY 1")}
        numbers_in_report = await connection.fetchval("SELECT count(*) FROM receipt_problems WHERE reason ~ $1 OR field ~ $1", NRN_IN_TEXT)
        numbers_in_events = await connection.fetchval("SELECT count(*) FROM outbox WHERE convert_from(value, 'UTF8') ~ $1", NRN_IN_TEXT)
        samples_in_events = await connection.fetchval(
            "SELECT count(*) FROM outbox WHERE convert_from(value, 'UTF8') LIKE ANY($1::text[])", [f"%{n}%" for n in generated.sample_numbers]
        )
    finally:
        await connection.close()
    expected_events = {
        "attestation.enrolment_attested.v1": e["enrolments_accepted"],
        "attestation.attendance_attested.v1": e["attendances_accepted"],
        "attestation.completion_attested.v1": e["completions"],
        "attestation.entitlement_reached.v1": e["entitlements"],
        "notification.requested.v1": 1,
    }
    counts = (answer.get("rows_total"), answer.get("accepted"), answer.get("held"), answer.get("refused"), answer.get("unchanged"))
    out = {
        "receipt": {k: answer.get(k) for k in ("receipt_number", "status", "rows_total", "accepted", "held", "refused", "unchanged")},
        "receipt_as_expected": counts == (generated.rows, e["accepted"], 0, e["refused"], 0) and answer.get("status") == "done",
        "sha256_as_sent": answer.get("sha256") == generated.sha256,
        "report_rows": len(problems),
        "report_exactly_the_bad_rows": problems == generated.problems,
        "report_first_differences": [(a, b) for a, b in zip(problems, generated.problems, strict=False) if a != b][:5],
        "stored": stored,
        "enrolments_by_status": by_status,
        "stored_as_expected": stored["enrolments"] == e["enrolments_accepted"]
        and stored["attendances"] == e["attendances_accepted"]
        and stored["students"] == e["enrolments_accepted"],
        "events": by_type,
        "events_expected": expected_events,
        "events_as_expected": by_type == expected_events,
        "national_register_numbers_in_report": numbers_in_report,
        "national_register_numbers_in_events": numbers_in_events,
        "sample_numbers_in_events": samples_in_events,
    }
    out["complete"] = all(
        out[k] for k in ("receipt_as_expected", "sha256_as_sent", "report_exactly_the_bad_rows", "stored_as_expected", "events_as_expected")
    ) and not (numbers_in_report or numbers_in_events or samples_in_events)
    return out


async def copy_baseline(config: StackConfig, database_url: str, work: Path) -> dict[str, Any]:
    """The rows the service stored, COPY'd out (binary) and COPY'd into the same tables of a freshly
    migrated database in one transaction: the attestations (students, enrolments, attendances);
    then, separately, the outbox rows and the report the service also wrote."""
    copy_url = await postgres.recreate_database(config, COPY_DATABASE)
    source = await asyncpg.connect(database_url)
    target = await asyncpg.connect(copy_url)
    files = {}
    try:
        await migrate_empty(target, "attestation", empty="enrolments")
        columns: dict[str, list[str] | None] = {t: None for t in ("students", "enrolments", "attendances", "receipt_problems", "outbox")}
        columns["receipts"] = [  # not its generated receipt_number
            r["attname"]
            for r in await source.fetch(
                "SELECT attname FROM pg_attribute WHERE attrelid = 'receipts'::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum"
            )
        ]
        for table in ("students", "enrolments", "attendances", "receipts", "receipt_problems", "outbox"):
            files[table] = work / f"copy-{table}.bin"
            await source.copy_from_table(table, output=str(files[table]), format="binary", columns=columns[table])
        await checkpoint(config)
        timings = {}
        started = time.perf_counter()
        async with target.transaction():
            for table in ("students", "enrolments", "attendances"):
                begun = time.perf_counter()
                await target.copy_to_table(table, source=str(files[table]), format="binary")
                timings[f"{table}_s"] = round(time.perf_counter() - begun, 2)
        attestations_s = time.perf_counter() - started
        started = time.perf_counter()
        async with target.transaction():
            for table in ("receipts", "receipt_problems", "outbox"):
                begun = time.perf_counter()
                await target.copy_to_table(table, source=str(files[table]), format="binary", columns=columns[table])
                timings[f"{table}_s"] = round(time.perf_counter() - begun, 2)
        rest_s = time.perf_counter() - started
        rows = {t: await target.fetchval(f"SELECT count(*) FROM {t}") for t in ("students", "enrolments", "attendances", "receipt_problems", "outbox")}
        sizes = {t: round(files[t].stat().st_size / 1e6, 1) for t in files}
    finally:
        await source.close()
        await target.close()
        for path in files.values():
            path.unlink(missing_ok=True)
    attestations = rows["enrolments"] + rows["attendances"]
    return {
        "rows": rows,
        "binary_mb": sizes,
        "timings": timings,
        "attestations_s": round(attestations_s, 2),
        "attestations_rows_s": round(attestations / attestations_s),
        "with_outbox_and_report_s": round(attestations_s + rest_s, 2),
        "with_outbox_and_report_rows_s": round(attestations / (attestations_s + rest_s)),
    }


async def admin_in(config: StackConfig, database: str, statement: str) -> None:
    connection = await asyncpg.connect(config.admin_database_url(database))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def admin(config: StackConfig, statement: str) -> None:
    connection = await asyncpg.connect(config.admin_database_url())
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def slow_statements(config: StackConfig, since: int) -> dict[str, Any]:
    """The statements PostgreSQL logged as slow after byte `since` of its log: count and total ms by statement."""
    import re

    text = (config.logs_dir / "postgres.log").read_bytes()[since:].decode(errors="replace")
    found: dict[str, list[float]] = {}
    for match in re.finditer(r"duration: ([0-9.]+) ms\s+(?:statement|execute [^:]*|bind [^:]*): (.*?)(?=\n\S|\Z)", text, re.S):
        statement = " ".join(match.group(2).split())[:300]
        found.setdefault(statement, []).append(float(match.group(1)))
    return {s: {"count": len(ms), "total_ms": round(sum(ms)), "max_ms": round(max(ms))} for s, ms in sorted(found.items(), key=lambda kv: -sum(kv[1]))}


async def checkpoint(config: StackConfig) -> None:
    """Dirty pages written out now, not by a checkpoint in the middle of a measurement."""
    connection = await asyncpg.connect(config.admin_database_url())
    try:
        await connection.execute("CHECKPOINT")
    finally:
        await connection.close()


async def wait_for_relay(database_url: str, seconds: float) -> dict[str, Any]:
    """Until the relay published every outbox row (or `seconds` passed): how long, how many."""
    connection = await asyncpg.connect(database_url)
    try:
        started = time.monotonic()
        first = await connection.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        left = first
        while left and time.monotonic() - started < seconds:
            await asyncio.sleep(1)
            left = await connection.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        waited = time.monotonic() - started
        span = await connection.fetchrow("SELECT min(created_at) AS first, max(published_at) AS last, count(*) AS n FROM outbox")
    finally:
        await connection.close()
    return {
        "unpublished_after_upload": first,
        "unpublished_now": left,
        "waited_s": round(waited, 1),
        "outbox_rows": span["n"],
        "first_written_to_last_published_s": round((span["last"] - span["first"]).total_seconds(), 1) if span["last"] else None,
    }


def profile_upload(pid: int, seconds: float) -> tuple[subprocess.Popen[str] | None, Path]:
    spy = py_spy()
    out = RESULTS_DIR / "attestation-bulk-profile.txt"
    if not spy:
        return None, out
    command = [*spy, "record", "--pid", str(pid), "--duration", f"{seconds:g}", "--rate", "100", "--format", "raw", "--output", str(out)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True), out


PROFILE_COMPONENTS = [
    ("parse: csv and rows.parse", ("attestation/bulk.py", "attestation/rows.py", "codecs.py", "_io.TextIOWrapper")),
    ("rules: attestation.domain", ("attestation/domain.py",)),
    ("pii: hmac, aes", ("service_runtime/pii.py", "hmac.py", "cryptography/")),
    ("events: models and envelopes", ("pydantic/", "wse_contracts/", "outbox.py", "json/")),
    ("attest_batch (own code)", ("use_cases/attest.py",)),
    ("asyncpg", ("asyncpg/",)),
    ("outbox relay / kafka", ("aiokafka/", "kafka/")),
]
PROFILE_STAGES = [
    ("reading the upload", ("receive (attestation/use_cases/bulk.py",)),
    ("parsing rows", ("batches (attestation/use_cases/bulk.py",)),
    ("attest_batch", ("attest_batch (attestation/use_cases/attest.py",)),
    ("count_results", ("count_results (",)),
    ("entitlements", ("entitlements_reached (",)),
    ("publish_all", ("publish_all (",)),
    ("outbox relay", ("outbox.py", "aiokafka/")),
]


# -- single attestations ------------------------------------------------------------------------------------


@dataclass
class Singles:
    bodies: list[bytes]
    numbers: list[str]
    statuses: Counter[int] = field(default_factory=Counter)


def single_bodies(trainings: list[Training], first: int, count: int, prefix: str, port: int, token: str) -> Singles:
    integral = [t for t in trainings if not t.modules]
    bodies, numbers = [], []
    for i in range(count):
        number = national_register_number(first + i)
        training = integral[i % len(integral)]
        body = {
            "reference": f"{prefix}-{i:06d}",
            "odb_number": training.odb_number,
            "national_register_number": number,
            "last_name": LAST_NAMES[i % 15],
            "first_name": FIRST_NAMES[i % 13],
            "starts_on": "2026-09-15",
            "ends_on": "2027-06-30",
        }
        bodies.append(raw_request("POST", "/v1/provider/enrolments", port, token, body))
        numbers.append(number)
    return Singles(bodies, numbers)


def http_single_fire(http: RawHttp, singles: Singles) -> Fire:
    async def fire(i: int) -> tuple[float, bool]:
        sent, status, body = await http.get(singles.bodies[i])
        singles.statuses[status] += 1
        return sent, status == 201 and b'"outcome":"accepted"' in body

    return fire


SQL_RECEIPT = (
    "INSERT INTO receipts (receipt_id, organisation_id, submitted_by, received_at, kind, filename, status) VALUES ($1, $2, $3, $4, 'single', NULL, 'done')"
)
SQL_STUDENT = "INSERT INTO students (student_id, nrn_index, nrn_encrypted, key_id, last_name, first_name) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (nrn_index) DO NOTHING"
SQL_ENROLMENT = """INSERT INTO enrolments (enrolment_id, organisation_id, reference, student_id, odb_number, module, starts_on, ends_on, school_year, status,
    receipt_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, '', $6, $7, '2026-2027', 'accepted', $8, $9, $9)"""
SQL_OUTBOX = "WITH added AS (INSERT INTO outbox (topic, key, value, headers, event_id, event_type) VALUES ($1, $2, $3, $4, $5, $6)) SELECT pg_notify($7, '')"
SQL_COUNTS = "UPDATE receipts SET rows_total = rows_total + 1, accepted = accepted + 1 WHERE receipt_id = $1"


def sql_single_fire(
    pool: asyncpg.Pool, keys: pii.PiiKeys, trainings: list[Training], organisation_id: uuid.UUID, person_id: uuid.UUID, count: int, prefix: str
) -> Fire:
    """The writes of one enrolment by hand, in one transaction: everything computed before the run."""
    integral = [t for t in trainings if not t.modules]
    prepared = []
    for i in range(count):
        number = national_register_number((5_000_000 if prefix == "SQL" else 6_000_000) + i)
        student_id = pii.pseudonym(keys, number)
        enrolment_id = uuid.uuid4()
        training = integral[i % len(integral)]
        event = EnrolmentAttestedV1(
            attestation_id=enrolment_id,
            organisation_id=organisation_id,
            student_id=student_id,
            odb_number=training.odb_number,
            module=None,
            version=1,
            starts_on=date(2026, 9, 15),
            ends_on=date(2027, 6, 30),
            school_year="2026-2027",
        )
        record = to_kafka_record(event.to_envelope(source="/wse/attestation", correlation_id="bench-sql"), topic=event.topic)
        envelope_id = dict(record.headers)["ce_id"].decode()
        outbox = (record.topic, record.key, record.value, [[n, v.decode()] for n, v in record.headers], envelope_id, event.event_type)
        student = (student_id, pii.blind_index(keys, number), pii.encrypt(keys, number), keys.active_key_id, LAST_NAMES[i % 15], FIRST_NAMES[i % 13])
        prepared.append((uuid.uuid4(), enrolment_id, f"{prefix}-{i:06d}", training.odb_number, student, outbox))

    failures: Counter[str] = Counter()

    async def fire(i: int) -> tuple[float, bool]:
        receipt_id, enrolment_id, reference, odb, student, outbox = prepared[i]
        sent = time.perf_counter()
        now = datetime.now(UTC)
        try:
            async with pool.acquire() as connection, connection.transaction():
                await connection.execute(SQL_RECEIPT, receipt_id, organisation_id, person_id, now)
                await connection.execute(SQL_STUDENT, *student)
                await connection.execute(
                    SQL_ENROLMENT, enrolment_id, organisation_id, reference, student[0], odb, date(2026, 9, 15), date(2027, 6, 30), receipt_id, now
                )
                await connection.execute(SQL_OUTBOX, *outbox, OUTBOX_CHANNEL)
                await connection.execute(SQL_COUNTS, receipt_id)
        except Exception as error:
            failures[repr(error)[:300]] += 1
            raise
        return sent, True

    fire.failures = failures  # type: ignore[attr-defined]  # for the report
    return fire


async def measure_single(
    config: StackConfig,
    service: ServiceProcess,
    token: str,
    trainings: list[Training],
    organisation_id: uuid.UUID,
    person_id: uuid.UUID,
    args: argparse.Namespace,
    database_url: str,
    runs: list[Run],
    report: dict[str, Any],
    deadline: Deadline,
) -> None:
    meter = CpuMeter(config, lambda: service.pid)
    rate, seconds, warm = args.single_rate, args.single_seconds, args.single_warmup_seconds
    warm_count, count = int(rate / 2 * warm) + 10, int(rate * seconds) + 10
    http = RawHttp(service.port, args.connections)
    await http.start()
    keys = pii.PiiKeys.from_settings(_bench_settings(config))
    try:
        warm_singles = single_bodies(trainings, 3_000_000, warm_count, "WARM", service.port, token)
        await open_loop(http_single_fire(http, warm_singles), rate=rate / 2, seconds=warm, deadline=deadline)
        if warm_singles.statuses.get(201, 0) < sum(warm_singles.statuses.values()):
            raise RuntimeError(f"single enrolments fail in the warm-up: {dict(warm_singles.statuses)}")
        singles = single_bodies(trainings, 4_000_000, count, "SINGLE", service.port, token)
        figures, cpu = await meter.measure(open_loop(http_single_fire(http, singles), rate=rate, seconds=seconds, deadline=deadline))
        run = make_run("http", "enrol", "open loop, RawHttp", figures, cpu, rate=rate, statuses=dict(singles.statuses))
        runs.append(run)
        print(
            f"   http: {run.requests} in {run.seconds} s, p50 {run.latency['p50_ms']:.2f} ms, p99 {run.latency['p99_ms']:.2f} ms; CPU {fmt_cpu(cpu)}",
            flush=True,
        )
    finally:
        await http.close()
    pool = await asyncpg.create_pool(database_url, min_size=args.pool_size, max_size=args.pool_size, init=configure_connection)
    try:
        warm_fire = sql_single_fire(pool, keys, trainings, organisation_id, person_id, warm_count, "SQLWARM")
        warmed = await open_loop(warm_fire, rate=rate / 2, seconds=warm, deadline=deadline)
        if warmed["errors"]:
            raise RuntimeError(f"the writes by hand fail in the warm-up: {warmed['errors']} errors: {dict(warm_fire.failures)}")  # type: ignore[attr-defined]
        fire = sql_single_fire(pool, keys, trainings, organisation_id, person_id, count, "SQL")
        figures, cpu = await meter.measure(open_loop(fire, rate=rate, seconds=seconds, deadline=deadline))
        run = make_run("sql", "enrol", "open loop, asyncpg pool", figures, cpu, rate=rate)
        runs.append(run)
        print(
            f"   sql:  {run.requests} in {run.seconds} s, p50 {run.latency['p50_ms']:.2f} ms, p99 {run.latency['p99_ms']:.2f} ms; CPU {fmt_cpu(cpu)}",
            flush=True,
        )
    finally:
        await pool.close()
    connection = await asyncpg.connect(database_url)
    try:
        report["single_check"] = {
            "stored_by_http": await connection.fetchval("SELECT count(*) FROM enrolments WHERE reference LIKE 'SINGLE-%' AND status = 'accepted'"),
            "answered_201": singles.statuses.get(201, 0),
        }
    finally:
        await connection.close()


def _bench_settings(config: StackConfig) -> Any:
    from attestation.definition import Settings

    env = config.pii_env()
    return Settings(
        service_name="attestation",
        platform_environment="production",
        pii_keys=env["PII_KEYS"],
        pii_active_key=env["PII_ACTIVE_KEY"],
        pii_index_key=env["PII_INDEX_KEY"],
        pii_pseudonym_key=env["PII_PSEUDONYM_KEY"],
    )


# -- main ---------------------------------------------------------------------------------------------------


def verdicts(report: dict[str, Any], runs: list[Run]) -> list[dict[str, Any]]:
    found = []
    bulk = report.get("bulk")
    if bulk:
        copy = report.get("copy_baseline", {})
        found.append(
            {
                "target": f"bulk ingest >= {TARGET_ROWS_S:,.0f} rows/s validated and stored durably",
                "met": bulk["rows_s"] >= TARGET_ROWS_S and report.get("bulk_check", {}).get("complete", False),
                "measured": f"{bulk['rows_s']:,.0f} rows/s ({bulk['rows']:,} rows in {bulk['seconds']} s; checked: {report.get('bulk_check', {}).get('complete')})",
                "baseline": (
                    f"raw COPY of the same attestations {copy.get('attestations_rows_s', 0):,} rows/s (ratio {bulk['rows_s'] / copy['attestations_rows_s']:.2f}); "
                    f"with the outbox rows and the report {copy.get('with_outbox_and_report_rows_s', 0):,} rows/s "
                    f"(ratio {bulk['rows_s'] / copy['with_outbox_and_report_rows_s']:.2f})"
                )
                if copy.get("attestations_rows_s")
                else None,
            }
        )
        found.append(
            {
                "target": f"the service's resident memory < {TARGET_RSS_MB:.0f} MB during the upload",
                "met": bulk["rss_peak_mb"] < TARGET_RSS_MB,
                "measured": f"peak VmRSS {bulk['rss_peak_mb']} MB (VmHWM {bulk['vm_hwm_mb']} MB; {bulk['rss_before_mb']} MB before the upload)",
                "baseline": None,
            }
        )
    http = next((r for r in runs if r.name == "http"), None)
    sql = next((r for r in runs if r.name == "sql"), None)
    if http:
        offered = http.details.get("offered", 0)
        found.append(
            {
                "target": f"single enrolment p99 <= {SINGLE_TARGET_P99_MS:.0f} ms at {SINGLE_TARGET_RATE:.0f}/s",
                "met": http.latency["p99_ms"] <= SINGLE_TARGET_P99_MS
                and http.errors == 0
                and http.wrong_answers == 0
                and offered >= 0.95 * SINGLE_TARGET_RATE * http.seconds * 0.9,
                "measured": f"p99 {http.latency['p99_ms']:.1f} ms, p50 {http.latency['p50_ms']:.1f} ms at {http.per_s:.0f}/s ({http.errors} errors, {http.wrong_answers} not accepted)",
                "baseline": f"the same writes by hand: p99 {sql.latency['p99_ms']:.1f} ms, p50 {sql.latency['p50_ms']:.1f} ms" if sql else None,
            }
        )
    return found


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/attestation/run.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the bulk file (default 1,000,000: half enrolments, half attendance)")
    parser.add_argument("--bad-share", type=float, default=0.01, help="share of refused rows (default 0.01)")
    parser.add_argument("--trainings", type=int, default=200)
    parser.add_argument("--batch-rows", type=int, default=5_000, help="the service's ATTESTATION_BULK_BATCH_ROWS (default 5000)")
    parser.add_argument("--single-rate", type=float, default=SINGLE_TARGET_RATE)
    parser.add_argument("--single-seconds", type=float, default=20.0)
    parser.add_argument("--single-warmup-seconds", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--pool-size", type=int, default=10)
    parser.add_argument("--relay-wait", type=float, default=600.0, help="seconds to wait for the relay to publish the upload's events (default 600)")
    parser.add_argument("--only", choices=["bulk", "single"])
    parser.add_argument("--profile", action="store_true", help="py-spy record of the service during the upload (bench/attestation/results/)")
    parser.add_argument("--slow-sql-ms", type=int, help="log the service's statements slower than this during the upload, and list them in the results")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=1800.0, help="hard limit in seconds after the stack is up (default 1800)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "latest.json")
    return parser.parse_args(argv)


async def measure_bulk(
    config: StackConfig, service: ServiceProcess, token: str, generated: Generated, organisation_id: uuid.UUID, args: argparse.Namespace,
    database_url: str, work: Path, report: dict[str, Any],
) -> None:  # fmt: skip
    assert service.pid is not None
    meter = CpuMeter(config, lambda: service.pid)
    spying, profile_path = profile_upload(service.pid, 600) if args.profile else (None, Path())
    if spying:
        await asyncio.sleep(3)  # attached (uvx may first install it)
    log_at = (config.logs_dir / "postgres.log").stat().st_size
    before = meter.snapshot()
    with RssSampler(service.pid) as rss:
        seconds, status, answer = await upload(service.url, token, generated)
    cpu = meter.delta(before, meter.snapshot())
    if spying:
        spying.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
        output, _ = spying.communicate(timeout=60)
        if not profile_path.exists():
            print(f"   py-spy wrote nothing: {output[-1000:]}", flush=True)
    if status != 201:
        raise RuntimeError(f"the upload was answered {status}: {json.dumps(answer)[:2000]}")
    report["bulk"] = {
        "rows": generated.rows,
        "file_mb": round(generated.bytes / 1e6, 1),
        "seconds": round(seconds, 2),
        "rows_s": round(generated.rows / seconds),
        "mb_s": round(generated.bytes / 1e6 / seconds, 1),
        "rss_before_mb": round(rss.before["VmRSS"] / 1024, 1),
        "rss_peak_mb": round(rss.peak_kb / 1024, 1),
        "vm_hwm_mb": round(rss.after["VmHWM"] / 1024, 1),
        "rss_after_mb": round(rss.after["VmRSS"] / 1024, 1),
        "rss_every_half_second_mb": [(t, round(kb / 1024)) for t, kb in rss.samples],
        "cpu": cpu,
    }
    b = report["bulk"]
    print(
        f"   {b['rows']:,} rows ({b['file_mb']} MB) in {b['seconds']} s: {b['rows_s']:,} rows/s; RSS {b['rss_before_mb']} -> peak {b['rss_peak_mb']} MB "
        f"(VmHWM {b['vm_hwm_mb']}); CPU {fmt_cpu(cpu)}",
        flush=True,
    )
    if args.slow_sql_ms is not None:
        report["slow_sql"] = slow_statements(config, log_at)
        for statement, figures in list(report["slow_sql"].items())[:8]:
            print(f"   slow: {figures} {statement[:160]}", flush=True)
    if spying and profile_path.exists():
        summary = summarise_stacks(profile_path, PROFILE_COMPONENTS, PROFILE_STAGES, other="other (litestar, asyncio, stdlib)")
        summary["collapsed_stacks"] = str(profile_path.relative_to(REPO_ROOT))
        report["bulk_profile"] = summary
        print(f"   profile: by stage {summary['stages_pct']}\n            by component {summary['components_pct']}", flush=True)
    print("-> checking the receipt, the report, the stored rows and the events ...", flush=True)
    report["bulk_check"] = await check_upload(database_url, organisation_id, answer, generated)
    c = report["bulk_check"]
    print(
        f"   complete: {c['complete']}; receipt {c['receipt']}; report {c['report_rows']} rows exactly the bad ones: {c['report_exactly_the_bad_rows']}; "
        f"stored {c['stored']}; events {c['events']}; numbers in report/events: {c['national_register_numbers_in_report']}/{c['national_register_numbers_in_events']}",
        flush=True,
    )
    print("-> the baseline: the same rows COPY'd into the same tables of a fresh database ...", flush=True)
    report["copy_baseline"] = await copy_baseline(config, database_url, work)
    cb = report["copy_baseline"]
    print(
        f"   attestations {cb['attestations_rows_s']:,} rows/s ({cb['attestations_s']} s); with outbox and report {cb['with_outbox_and_report_rows_s']:,} rows/s "
        f"({cb['with_outbox_and_report_s']} s); {cb['timings']}",
        flush=True,
    )
    print("-> waiting for the outbox relay to publish the upload's events ...", flush=True)
    report["relay"] = await wait_for_relay(database_url, args.relay_wait)
    print(f"   {report['relay']}", flush=True)
    # What a million rows leave behind (autovacuum's work, dirty pages) is done now, not during the single enrolments.
    started = time.monotonic()
    await admin_in(config, DATABASE, "VACUUM ANALYZE students, enrolments, attendances, outbox, receipt_problems")
    await checkpoint(config)
    report["after_bulk_vacuum_and_checkpoint_s"] = round(time.monotonic() - started, 1)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = StackConfig.bench()
    work = config.state_dir / "attestation-bench"
    runs: list[Run] = []
    report: dict[str, Any] = {}
    print(f"Benchmark stack '{config.name}' in {config.state_dir} (PostgreSQL 127.0.0.1:{config.postgres_port}, Kafka {config.kafka_bootstrap})", flush=True)
    with BenchStack(config) as run:
        deadline = run.start(args.timeout)
        work.mkdir(parents=True, exist_ok=True)
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        database_url = asyncio.run(postgres.recreate_database(config, DATABASE))
        tokens = Tokens(kid="attestation-bench")
        run.on_exit(tokens.close)
        service = ServiceProcess(
            "attestation",
            config,
            database_url,
            config.logs_dir / "attestation-bench.log",
            ATTESTATION_JWKS_URL=tokens.url,
            ATTESTATION_BULK_BATCH_ROWS=str(args.batch_rows),
            ATTESTATION_BULK_SPOOL_DIR=str(work),
        )
        run.on_exit(service.stop)
        print("-> migrating the attestation database (python -m attestation migrate) ...", flush=True)
        report["migrations"] = service.cli("migrate").strip().splitlines()[-1:]
        organisation_id, person_id = uuid.uuid4(), uuid.uuid4()
        trainings = trainings_of(args.trainings)
        report["register"] = asyncio.run(load_register(database_url, organisation_id, person_id, trainings))
        asyncio.run(checkpoint(config))
        if args.slow_sql_ms is not None:
            asyncio.run(admin(config, f"ALTER DATABASE {DATABASE} SET log_min_duration_statement = {int(args.slow_sql_ms)}"))
        generated = None
        if args.only != "single":
            print(f"-> writing a CSV of {args.rows:,} rows ({args.bad_share:.0%} bad) ...", flush=True)
            generated = generate_file(work / "attesten-2026-2027.csv", args.rows, trainings, args.seed, args.bad_share)
            report["file"] = {
                "rows": generated.rows,
                "students": generated.students,
                "mb": round(generated.bytes / 1e6, 1),
                "refused_expected": generated.expected["refused"],
                "bad": dict(generated.bad),
                "expected": dict(generated.expected),
                "seconds": generated.seconds,
            }
            print(f"   {report['file']}", flush=True)
        report["code_at_start"] = code_state(*CODE)
        print("-> starting ONE attestation process ...", flush=True)
        service.start(deadline)
        print(f"   attestation pid {service.pid} at {service.url}", flush=True)
        token = tokens.token(person_id, organisation_id, lifetime_s=3600)
        gc.collect()
        gc.freeze()
        if generated is not None:
            print("-> uploading the file to POST /v1/provider/bulk ...", flush=True)
            uvloop.run(asyncio.wait_for(measure_bulk(config, service, token, generated, organisation_id, args, database_url, work, report), deadline.left()))
            generated.path.unlink(missing_ok=True)
        if args.only != "bulk":
            print(f"-> single enrolments at {args.single_rate:g}/s for {args.single_seconds:g} s, then the same writes by hand ...", flush=True)
            uvloop.run(
                asyncio.wait_for(
                    measure_single(config, service, token, trainings, organisation_id, person_id, args, database_url, runs, report, deadline), deadline.left()
                )
            )
    error = run.error

    print()
    print(f"Results: ONE attestation process; {os.cpu_count()} CPUs shared by load generator, service, PostgreSQL, Kafka")
    if runs:
        print(run_table(runs, first="what", width=6))
    checks = verdicts(report, runs)
    print_verdicts(checks)
    code_now = code_state(*CODE)
    print_code(report.get("code_at_start"), code_now)
    if error:
        print(f"FAILED: {error}")
    write_results(
        args.output,
        {
            **results_head("attestation-bulk-and-single", "bench/attestation/run.py", argv, shared="load generator, service, PostgreSQL, Kafka"),
            "code": {"at_service_start": report.pop("code_at_start", None), "at_end": code_now},
            "settings": settings_of(args),
            "targets": {"rows_s": TARGET_ROWS_S, "rss_mb": TARGET_RSS_MB, "single_p99_ms": SINGLE_TARGET_P99_MS, "single_rate": SINGLE_TARGET_RATE},
            **report,
            "runs": [asdict(r) for r in runs],
            "verdicts": checks,
            "error": error,
        },
    )
    return 1 if error else 0


if __name__ == "__main__":
    sys.exit(main())
