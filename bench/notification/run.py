"""Notification benchmark (issue 5): requests on Kafka -> ONE notification service process -> the
local SMTP server (devstack's mail sink), beside raw aiosmtplib and raw Kafka in the same run.

    uv run python bench/notification/run.py [options]            (from the repository root)

Target: "At least 500 emails/s into the local SMTP server with connection reuse; from request to
email in the server, p99 at most 1 s at 100 requests/s."

It starts a stack of its OWN with devstack (PostgreSQL, Kafka, the mail sink; no services) under
.run/bench-notification, on ports of its own (Kafka 32092/32093, PostgreSQL 35533, SMTP 31125,
mail sink web view 38125, service ports 38001-38005), so it can run beside the other benchmarks,
which use .run/bench and the 2xxxx ports. Its state folder is wiped first (fresh topics, database
and mailbox), and the stack is stopped at the end, also on an error or Ctrl-C.

It creates and migrates the notification database, starts ONE `python -m notification serve`
(environment from StackConfig.service_env('notification'), LOG_LEVEL=WARNING as in the other
benchmarks; --log-level INFO for the production default), and measures, in this order:

  raw-smtp  max     the service's own email (its template, rendered once, written out by
                    notification.mime.build_email), sent with aiosmtplib's sendmail of those bytes:
                    first sequentially on ONE reused connection (the ceiling of one connection),
                    then the same number spread over N concurrent reused connections, N = the
                    service's smtp_connections (4): the fair baseline for the service, which
                    sends each batch over that many sessions;
  raw-kafka max     the same request records to a fresh 3-partition topic, as fast as possible,
                    read by a consumer group (getmany, commit per batch, as the service's runtime);
  raw-kafka steady  the same at --rate for --baseline-seconds: latency produce -> receive;
  service   max     --requests NotificationRequestedV1 (registration.application_submitted with its
                    example personalisation, one unique recipient and idempotency key each),
                    produced as fast as possible; emails/s = requests / (time until every one is
                    `delivered` in the notifications table), checked against the mail sink (one
                    message per recipient, none missing, none twice); the delivery batches are
                    counted from the delivery log (one claim time per batch);
  service   steady  --rate requests/s for --steady-seconds, open loop; latency from the produce
                    call to the mail sink's received_at of that recipient's message (same
                    machine, same clock), with the stages in between from the database:
                    accepted (notifications.created_at), claimed (the delivery log's first
                    'sending' line), in the sink;

and, when the service stays below 500 emails/s (or with --profile), samples the service and the
mail sink with py-spy during another burst (results/profile-*.txt). Before all that it times the
parts of one delivery alone (a PostgreSQL round trip and commit, rendering, build_email, and the
same email with the standard library's EmailMessage for comparison). Then, unless
--null-requests 0, it starts bench/notification/null_smtp.py (an SMTP server that answers at once
and parses nothing), restarts the service against it and runs raw-smtp (1 and N connections),
service max (--null-requests), steady and the profile again: what the service itself can do when
the SMTP server is not the limit (information, not the target's server).
It prints a table with the verdicts and writes bench/notification/results/latest.json.

Everything shares the machine's cores (this generator, the service, PostgreSQL, Kafka, the mail
sink): only figures from the same run are comparable; the CPU columns say who used the cores.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Any

# A stack of its own, so that another benchmark on the default bench ports (.run/bench, 2xxxx)
# can run at the same time. Set before StackConfig.bench() reads them.
PORTS = {
    "WSE_BENCH_STATE_DIR": None,  # filled in below: <repo>/.run/bench-notification
    "WSE_BENCH_KAFKA_PORT": 32092,
    "WSE_BENCH_KAFKA_CONTROLLER_PORT": 32093,
    "WSE_BENCH_POSTGRES_PORT": 35533,
    "WSE_BENCH_SMTP_PORT": 31125,
    "WSE_BENCH_SMTP_HTTP_PORT": 38125,
    "WSE_BENCH_IDENTITY_PORT": 38001,
    "WSE_BENCH_REGISTRATION_PORT": 38002,
    "WSE_BENCH_RECOGNITION_PORT": 38003,
    "WSE_BENCH_ATTESTATION_PORT": 38004,
    "WSE_BENCH_NOTIFICATION_PORT": 38005,
}

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
PORTS["WSE_BENCH_STATE_DIR"] = str(REPO_ROOT / ".run" / "bench-notification")

import aiosmtplib  # noqa: E402
import asyncpg  # noqa: E402
import httpx  # noqa: E402
import uvloop  # noqa: E402
from aiokafka import AIOKafkaProducer  # noqa: E402

from bench.common import (  # noqa: E402 - the same CPU accounting, stack handling and output as the other benchmarks
    BenchStack,
    CpuMeter,
    Deadline,
    code_state,
    live_pid,
    new_topic,
    print_code,
    print_verdicts,
    py_spy,
    raw_consumer,
    relay_producer,
    results_head,
    settings_of,
    stop_process,
    summarise_stacks,
    wait_ready,
    write_results,
)
from bench.stats import latency_summary  # noqa: E402
from devstack import postgres, processes, stack  # noqa: E402
from devstack.config import StackConfig  # noqa: E402
from notification import templates  # noqa: E402
from notification.definition import Settings as NotificationSettings  # noqa: E402
from notification.delivery import Deliverer  # noqa: E402
from notification.mime import Email, build_email  # noqa: E402
from wse_contracts.kafka_binding import KafkaRecord, to_kafka_record  # noqa: E402
from wse_contracts.notification import NotificationRequestedV1, Recipient  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
SERVICE = "notification"
TEMPLATE_ID, TEMPLATE_VERSION = "registration.application_submitted", 1
TARGET_EMAILS_PER_S = 500.0
TARGET_P99_MS = 1000.0
TARGET_RATE = 100.0
PARTITIONS = 3
CODE = ("runtime", "services/notification", "tools/devstack")  # whose uncommitted changes the results name


def configure_ports() -> None:
    for name, value in PORTS.items():
        os.environ[name] = str(value)


# -- CPU accounting: the shared meter (bench/common.py) plus the mail sink ---------------------------


class Meter(CpuMeter):
    """Adds the SMTP server (the mail sink, or the null server) as `smtp`."""

    def __init__(self, config: StackConfig, service_pid, smtp_pid) -> None:
        super().__init__(config, service_pid)
        self.smtp_pid = smtp_pid

    def snapshot(self) -> dict[str, Any]:
        snap = super().snapshot()
        if pid := self.smtp_pid():
            snap["pids"]["smtp"] = {pid: self._tree_seconds(pid)}
        return snap

    @staticmethod
    def delta(before: dict[str, Any], after: dict[str, Any], *, child: bool = False) -> dict[str, float]:
        out = CpuMeter.delta(before, after, child=child)
        if "smtp" in out and not math.isnan(out.get("others", math.nan)):
            out["others"] = round(out["others"] - out["smtp"], 1)
        return out


def fmt_cpu(cpu: dict[str, float]) -> str:
    return " ".join(f"{k} {cpu[k]:.0f}%" for k in ("service", "postgres", "kafka", "smtp", "generator", "others") if k in cpu)


# -- what is sent -----------------------------------------------------------------------------------


def example_personalisation() -> dict[str, Any]:
    return dict(templates.catalogue().get(TEMPLATE_ID, TEMPLATE_VERSION).example)  # its model's example


def recipient(tag: str, i: int) -> str:
    return f"bench-{tag}-{i:06d}@contact.example"


def build_requests(tag: str, count: int, personalisation: dict[str, Any]) -> list[tuple[str, KafkaRecord]]:
    """(recipient address, Kafka record) of `count` requests, each its own dossier, key and recipient,
    built as the registration service's outbox would carry them."""
    out = []
    for i in range(count):
        address = recipient(tag, i)
        request = NotificationRequestedV1(
            template_id=TEMPLATE_ID,
            template_version=TEMPLATE_VERSION,
            recipients=[Recipient(email=address, name="Contact Persoon")],
            personalisation={**personalisation, "dossier_number": 100_000 + i},
            reference=f"bench-{tag}-{i}",
            idempotency_key=uuid.uuid4().hex,
            requested_by="registration",
        )
        out.append((address, to_kafka_record(request.to_envelope(source="/wse/registration", correlation_id=f"bench-{tag}"), topic=request.topic)))
    return out


def rendered_email(personalisation: dict[str, Any], settings: NotificationSettings) -> Email:
    """The email the service sends for one request: its own rendering and its own build_email(),
    with its mail_from and reply_to."""
    rendered = templates.render(TEMPLATE_ID, TEMPLATE_VERSION, personalisation)
    return build_email(
        notification_id=uuid.uuid4(),
        sender=settings.mail_from,
        sender_address=parseaddr(settings.mail_from)[1],
        reply_to=settings.reply_to,
        recipient_name="Contact Persoon",
        recipient_email=recipient("raw", 0),
        subject=rendered.subject,
        reference="bench-raw",
        text=rendered.text,
        html=rendered.html,
        date=datetime.now(UTC),
    )


def producer(config: StackConfig) -> AIOKafkaProducer:
    return relay_producer(config, "bench-notification")


async def send(p: AIOKafkaProducer, record: KafkaRecord, topic: str | None = None) -> asyncio.Future:
    return await p.send(topic or record.topic, value=record.value, key=record.key, headers=record.headers)


# -- the mail sink ---------------------------------------------------------------------------------


class Sink:
    """The mail sink of this stack: its HTTP API, and the .eml files it writes (--store). The runs
    count and timestamp messages from the files, so that watching the sink during a measurement
    costs the sink nothing; after a run its API (`?view=envelope`: ids, times and addresses, no
    parsing) gives its own received_at per recipient."""

    name = "mailsink"

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.url = f"http://127.0.0.1:{config.smtp_http_port}"
        self.store = config.state_dir / "mail"
        self.host, self.port = "127.0.0.1", config.smtp_port

    def pid(self) -> int | None:
        return processes.running_pid(self.config, stack.MAILSINK)

    async def steady_received(self) -> list[tuple[float, str]]:
        """The sink's own record of each message (its API): (received_at, recipient)."""
        messages = await self.messages()
        return [(datetime.fromisoformat(m["received_at"]).timestamp(), to.lower()) for m in messages for to in m["rcpt_tos"]]

    def count(self) -> int:
        try:
            return sum(1 for entry in os.scandir(self.store) if entry.name.endswith(".eml"))
        except FileNotFoundError:
            return 0

    async def clear(self) -> None:
        async with httpx.AsyncClient(timeout=60) as client:
            (await client.delete(self.url + "/api/messages")).raise_for_status()

    async def messages(self) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(timeout=120) as client:
            response = await client.get(self.url + "/api/messages", params={"view": "envelope"})
            response.raise_for_status()
            return response.json()

    def received(self) -> list[tuple[float, str]]:
        """(received_at as a Unix time, recipient) of every stored message, from the envelope headers the
        sink writes at the top of each .eml (the same received_at as its API)."""
        out = []
        for entry in os.scandir(self.store):
            if not entry.name.endswith(".eml"):
                continue
            with open(entry.path, "rb") as handle:
                head = handle.read(600).split(b"\r\n")
            fields = dict(line.decode().split(": ", 1) for line in head[:3] if line.startswith(b"X-Mailsink-"))
            for to in json.loads(fields["X-Mailsink-Rcpt-To"]):
                out.append((datetime.fromisoformat(fields["X-Mailsink-Received-At"]).timestamp(), to.lower()))
        return out


class NullSink:
    """bench/notification/null_smtp.py in a process of its own: a fast SMTP server that keeps one line per message."""

    name = "null"

    def __init__(self, config: StackConfig, port: int) -> None:
        self.host, self.port = "127.0.0.1", port
        self.log = config.state_dir / "null-smtp.messages"
        self.output = config.logs_dir / "null-smtp.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        processes.require_free_port(self.port, "the null SMTP server", "--null-smtp-port")
        self.log.write_text("")
        with open(self.output, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, str(HERE / "null_smtp.py"), "--port", str(self.port), "--log", str(self.log)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=REPO_ROOT,
            )
        until = time.monotonic() + 20
        while time.monotonic() < until:
            if self.process.poll() is not None:
                raise RuntimeError("the null SMTP server exited:\n" + processes.tail(self.output))
            if not processes.port_is_free(self.port):
                return
            time.sleep(0.1)
        raise RuntimeError("the null SMTP server did not listen")

    def stop(self) -> None:
        stop_process(self.process, wait=10, kill_wait=5)

    def pid(self) -> int | None:
        return live_pid(self.process)

    def _lines(self) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if line.strip()]

    def count(self) -> int:
        return sum(len(line.split()) - 1 for line in self._lines())

    async def clear(self) -> None:
        with open(self.log, "r+") as handle:
            handle.truncate(0)  # the server appends (O_APPEND): its next line starts the file again

    def received(self) -> list[tuple[float, str]]:
        out = []
        for line in self._lines():
            at, *tos = line.split()
            out += [(float(at), to) for to in tos]
        return out

    async def steady_received(self) -> list[tuple[float, str]]:
        return self.received()


# -- figures ---------------------------------------------------------------------------------------


def run_entry(name: str, mode: str, count: int, seconds: float, latencies_s: list[float] | None, cpu: dict[str, float], **details: Any) -> dict[str, Any]:
    return {
        "name": name,
        "mode": mode,
        "count": count,
        "seconds": round(seconds, 3),
        "per_s": round(count / seconds, 1) if seconds > 0 else math.nan,
        "latency": latency_summary(latencies_s) if latencies_s else {},
        "cpu": cpu,
        "details": details,
    }


def spread(values: list[float]) -> dict[str, float]:
    """p50/p95/p99/max in ms of durations in seconds."""
    if not values:
        return {}
    s = latency_summary(values)
    return {k: s[k] for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms")}


def sustained_rate(times: list[float]) -> float:
    """Arrivals per second between the 10th and the 90th percentile arrival (no ramp-up, no tail)."""
    ordered = sorted(times)
    if len(ordered) < 20:
        return math.nan
    a, b = ordered[len(ordered) // 10], ordered[len(ordered) * 9 // 10]
    return round((len(ordered) * 8 // 10) / (b - a), 1) if b > a else math.nan


# -- baselines -------------------------------------------------------------------------------------


async def raw_smtp(
    config: StackConfig,
    sink: Sink | NullSink,
    meter: Meter,
    personalisation: dict[str, Any],
    settings: NotificationSettings,
    count: int,
    *,
    connections: int,
    deadline: Deadline,
) -> dict[str, Any]:
    """`count` sends of the service's email bytes (build_email, built once) with aiosmtplib's
    sendmail, as the service sends them, over `connections` reused connections at once, each
    sending its next message when the previous one is answered (one connection: sequential). One
    connection is the ceiling of one session; the service's smtp_connections is its fair baseline."""
    email = rendered_email(personalisation, settings)
    tag = "raw" if connections == 1 else f"raw{connections}c"
    await sink.clear()
    clients = [aiosmtplib.SMTP(hostname=sink.host, port=sink.port, timeout=10) for _ in range(connections)]
    latencies: list[float] = []

    async def work(client: aiosmtplib.SMTP, indices, record: bool) -> None:
        for i in indices:  # shared by the connections: each message is sent once, by whichever is free
            t = time.perf_counter()
            await client.sendmail(email.mail_from, [recipient(tag if record else tag + "w", i)], email.data)
            if record:
                latencies.append(time.perf_counter() - t)
                if i % 500 == 0:
                    deadline.left()

    await asyncio.gather(*(client.connect() for client in clients))
    try:
        warm = iter(range(50 * connections))
        await asyncio.gather(*(work(client, warm, False) for client in clients))
        await sink.clear()
        pending = iter(range(count))
        before = meter.snapshot()
        started = time.perf_counter()
        await asyncio.gather(*(work(client, pending, True) for client in clients))
        seconds = time.perf_counter() - started
        cpu = Meter.delta(before, meter.snapshot())
    finally:
        for client in clients:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()
    arrived = sink.count()
    received = [t for t, _ in sink.received()]
    return run_entry(
        "raw-smtp" if sink.name == "mailsink" else "raw-smtp/null",
        "max",
        count,
        seconds,
        latencies,
        cpu,
        client=f"aiosmtplib, {connections} reused connection{'s' if connections > 1 else ''}" + (", concurrent" if connections > 1 else ", sequential"),
        connections=connections,
        what="sendmail(the service's build_email bytes, built once)",
        message_bytes=len(email.data),
        in_sink=arrived,
        smtp=sink.name,
        sink_rate=sustained_rate(received),
        complete=arrived == count,
    )


async def raw_kafka(config: StackConfig, meter: Meter, personalisation: dict[str, Any], args: argparse.Namespace, deadline: Deadline) -> list[dict[str, Any]]:
    """The same request records, produced and consumed with nothing in between (no database, no SMTP)."""
    topic = await new_topic(config, "notification-raw", deadline, partitions=PARTITIONS)
    throughput = build_requests("kraw", args.requests, personalisation)
    steady = build_requests("ksteady", int(args.rate * args.baseline_seconds), personalisation)
    warm = build_requests("kwarm", 20, personalisation)
    sent_at: dict[bytes, float] = {}
    received_at: dict[bytes, float] = {}
    p = producer(config)
    consumer = raw_consumer(config, topic)
    stopping = False

    async def consume() -> None:
        while not stopping:
            batch = await consumer.getmany(timeout_ms=10, max_records=500)  # the service's consumer_max_batch / batch timeout
            now = time.time()
            for records in batch.values():
                for record in records:
                    received_at.setdefault(record.key, now)
            if batch:
                await consumer.commit()

    async def until(keys: list[bytes]) -> None:
        while not all(k in received_at for k in keys):
            deadline.left()
            await asyncio.sleep(0.01)

    runs = []
    await p.start()
    await consumer.start()
    consuming = asyncio.create_task(consume())
    try:
        await asyncio.gather(*[await send(p, r, topic) for _, r in warm])
        await until([r.key for _, r in warm])

        before = meter.snapshot()
        started = time.time()
        for _, r in throughput:
            sent_at[r.key] = time.time()
            await send(p, r, topic)
        await p.flush()
        produced = time.time() - started
        await until([r.key for _, r in throughput])
        last = max(received_at[r.key] for _, r in throughput)
        runs.append(
            run_entry(
                "raw-kafka",
                "max",
                len(throughput),
                last - started,
                [received_at[r.key] - sent_at[r.key] for _, r in throughput],
                Meter.delta(before, meter.snapshot()),
                produce_seconds=round(produced, 3),
            )
        )

        before = meter.snapshot()
        lag = await paced(p, steady, args.rate, sent_at, deadline, topic=topic)
        await until([r.key for _, r in steady])
        runs.append(
            run_entry(
                "raw-kafka",
                "steady",
                len(steady),
                args.baseline_seconds,
                [received_at[r.key] - sent_at[r.key] for _, r in steady],
                Meter.delta(before, meter.snapshot()),
                rate=args.rate,
                max_schedule_lag_ms=lag,
            )
        )
    finally:
        stopping = True
        await asyncio.wait_for(consuming, 5)
        await consumer.stop()
        await p.stop()
    return runs


async def paced(
    p: AIOKafkaProducer,
    requests: list[tuple[str, KafkaRecord]],
    rate: float,
    sent_at: dict[Any, float],
    deadline: Deadline,
    *,
    topic: str | None = None,
    by_address: bool = False,
) -> float:
    """Open loop: request i is produced at start + i/rate whatever happened to the others; records the
    wall-clock time of each produce call. Returns the generator's largest lag behind its schedule (ms)."""
    start = time.perf_counter() + 0.05
    acks, max_lag = [], 0.0
    for i, (address, record) in enumerate(requests):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        max_lag = max(max_lag, time.perf_counter() - due)
        sent_at[address if by_address else record.key] = time.time()
        acks.append(await send(p, record, topic))
        if i % 200 == 0:
            deadline.left()
    await asyncio.gather(*acks)
    return round(max_lag * 1000, 2)


# -- the service -----------------------------------------------------------------------------------


class Notification:
    def __init__(self, config: StackConfig, args: argparse.Namespace) -> None:
        self.config = config
        self.port = config.service_ports[SERVICE]
        self.url = f"http://127.0.0.1:{self.port}"
        level = args.log_level.upper()
        self.env = {**config.service_env(SERVICE), "LOG_LEVEL": level, "NOTIFICATION_LOG_LEVEL": level}
        for item in args.env:
            name, _, value = item.partition("=")
            self.env[name] = value

    def migrate(self) -> list[str]:
        result = subprocess.run(
            [sys.executable, "-m", SERVICE, "migrate"], env={**os.environ, **self.env}, capture_output=True, text=True, cwd=REPO_ROOT, timeout=120
        )
        if result.returncode != 0:
            raise RuntimeError(f"notification migrate failed:\n{result.stdout}{result.stderr}")
        return json.loads(result.stdout.strip().splitlines()[-1])["applied"]

    def start(self) -> None:
        # Through devstack's process table: stack.down() stops it too, whatever happens here.
        processes.require_free_port(self.port, "the notification service", self.config.port_variable("NOTIFICATION"))
        processes.start(self.config, SERVICE, [sys.executable, "-m", SERVICE, "serve"], env=self.env, cwd=REPO_ROOT)
        wait_ready(self.url, SERVICE, 90, running=lambda: bool(self.pid), log=lambda: processes.tail(processes.log_file(self.config, SERVICE), 40), poll=0.2)

    def settings(self) -> NotificationSettings:
        """The settings the service process reads (as service_runtime.settings.load_settings does, from
        its environment: `NOTIFICATION_X` over `X`), for what the baselines must match: mail_from,
        reply_to, smtp_connections."""
        env = {**os.environ, **self.env}
        values: dict[str, Any] = {}
        for field in NotificationSettings.model_fields:
            value = env.get(f"{SERVICE.upper()}_{field.upper()}", env.get(field.upper()))
            if value is not None:
                values[field] = value
        values["service_name"] = SERVICE
        return NotificationSettings.model_validate(values)

    @property
    def pid(self) -> int | None:
        return processes.running_pid(self.config, SERVICE)

    def restart(self, env: dict[str, str]) -> None:
        processes.stop(self.config, SERVICE)
        self.env.update(env)
        self.start()


STATUS_SQL = """
SELECT count(*) AS rows, count(*) FILTER (WHERE status = 'delivered') AS delivered,
       count(*) FILTER (WHERE status NOT IN ('created', 'sending', 'delivered')) AS other
FROM notifications WHERE reference LIKE $1
"""


async def wait_delivered(
    db: asyncpg.Connection, sink: Sink | NullSink, tag: str, count: int, started: float, deadline: Deadline, *, stall_seconds: float, poll: float = 0.1
) -> dict[str, Any]:
    """Poll the notifications table (and the sink's files) until all `count` are delivered; a timeline
    of (seconds since start, rows, delivered, in sink) every ~0.5 s."""
    timeline: list[list[float]] = []
    last_progress, last_delivered, last_mark = time.monotonic(), -1, -1.0
    all_accepted_at = None
    while True:
        row = await db.fetchrow(STATUS_SQL, f"bench-{tag}-%")
        now = time.time()
        if all_accepted_at is None and row["rows"] >= count:
            all_accepted_at = now
        if now - last_mark >= 0.5 or row["delivered"] >= count:
            timeline.append([round(now - started, 2), row["rows"], row["delivered"], sink.count()])
            last_mark = now
        if row["other"]:
            bad = await db.fetch(
                "SELECT status, last_answer, count(*) FROM notifications WHERE reference LIKE $1 "
                "AND status NOT IN ('created', 'sending', 'delivered') "
                "GROUP BY 1, 2",
                f"bench-{tag}-%",
            )
            raise RuntimeError(f"notifications not delivered: {[tuple(r) for r in bad]}")
        if row["delivered"] >= count:
            return {"all_delivered_at": now, "all_accepted_at": all_accepted_at, "timeline": timeline}
        if row["delivered"] != last_delivered:
            last_delivered, last_progress = row["delivered"], time.monotonic()
        elif time.monotonic() - last_progress > stall_seconds:
            raise RuntimeError(f"no delivery for {stall_seconds:g} s: {dict(row)} of {count}")
        deadline.left()
        await asyncio.sleep(poll)


STAGES_SQL = """
SELECT lower(n.recipient_email) AS r, n.created_at, n.delivered_at, n.attempts, min(l.at) AS claimed_at
FROM notifications n LEFT JOIN delivery_log l ON l.notification_id = n.notification_id AND l.status = 'sending'
WHERE n.reference LIKE $1
GROUP BY n.notification_id
"""


async def stages(db: asyncpg.Connection, tag: str) -> dict[str, dict[str, float]]:
    """Per recipient: created_at (the consumer accepted and rendered it), claimed (the delivery log's
    first 'sending' line: the clock when the Deliverer's claim statement took it into a batch),
    recorded (delivered_at: the clock when the batch's outcomes were recorded, after all its sends),
    attempts."""
    rows = await db.fetch(STAGES_SQL, f"bench-{tag}-%")
    return {
        r["r"]: {
            "created": r["created_at"].timestamp(),
            "claimed": r["claimed_at"].timestamp(),
            "recorded": r["delivered_at"].timestamp(),
            "attempts": r["attempts"],
        }
        for r in rows
    }


def batches(per: dict[str, dict[str, float]], batch_size: int) -> dict[str, Any]:
    """The delivery batches, from the claim times: one claim statement stamps all of its batch with
    the same time. Wall time of a batch: its claim to its outcomes recorded (build, send, record)."""
    by_claim: dict[float, list[float]] = {}
    for v in per.values():
        by_claim.setdefault(v["claimed"], []).append(v["recorded"])
    sizes = sorted(len(recorded) for recorded in by_claim.values())
    if not sizes:
        return {}
    return {
        "batches": len(sizes),
        "mean_size": round(sum(sizes) / len(sizes), 1),
        "max_size": sizes[-1],
        "full_batches": sum(1 for n in sizes if n >= batch_size),
        "batch_size_setting": batch_size,
        "claim_to_recorded_ms": spread([max(recorded) - claimed for claimed, recorded in by_claim.items()]),
    }


def describe_batches(b: dict[str, Any]) -> str:
    if not b:
        return "no delivery batches found"
    wall = b["claim_to_recorded_ms"]
    return (
        f"{b['batches']} delivery batches (claims), mean {b['mean_size']} emails per batch (max {b['max_size']}, {b['full_batches']} full of "
        f"{b['batch_size_setting']}); claim -> outcomes recorded p50 {wall.get('p50_ms', math.nan):.1f} ms, max {wall.get('max_ms', math.nan):.1f} ms"
    )


def check_mailbox(expected: list[str], received: list[tuple[float, str]]) -> dict[str, Any]:
    counts = Counter(to for _, to in received)
    wanted = {a.lower() for a in expected}
    return {
        "expected": len(wanted),
        "messages": len(received),
        "missing": len(wanted - set(counts)),
        "twice": sum(1 for a in wanted if counts[a] > 1),
        "unexpected": len(set(counts) - wanted),
    }


async def service_max(
    config: StackConfig,
    service: Notification,
    sink: Sink | NullSink,
    meter: Meter,
    db: asyncpg.Connection,
    p: AIOKafkaProducer,
    personalisation: dict[str, Any],
    count: int,
    tag: str,
    args: argparse.Namespace,
    deadline: Deadline,
) -> dict[str, Any]:
    requests = build_requests(tag, count, personalisation)
    await sink.clear()
    gc.collect()
    before = meter.snapshot()
    started = time.time()
    acks = []
    for _, record in requests:
        acks.append(await send(p, record))
    await asyncio.gather(*acks)
    produced = time.time() - started
    waited = await wait_delivered(db, sink, tag, count, started, deadline, stall_seconds=args.stall_seconds)
    cpu = Meter.delta(before, meter.snapshot())
    seconds = waited["all_delivered_at"] - started
    await asyncio.sleep(0.5)  # the last message's file is written before its 250; a margin all the same
    received = sink.received()
    mailbox = check_mailbox([a for a, _ in requests], received)
    per = await stages(db, tag)
    arrival = sorted(t for t, _ in received)
    created = sorted(v["created"] for v in per.values())
    by_recipient = {to: t for t, to in received}
    # A batch's emails are claimed together, then built and sent over the connections one after
    # another on each; claimed -> the sink's received_at includes the earlier emails of the batch.
    to_sink = [by_recipient[r] - v["claimed"] for r, v in per.items() if r in by_recipient]
    details = {
        "produce_seconds": round(produced, 3),
        "all_accepted_after_s": round(waited["all_accepted_at"] - started, 2) if waited["all_accepted_at"] else None,
        "last_created_after_s": round(created[-1] - started, 3),
        "first_email_after_s": round(arrival[0] - started, 3) if arrival else None,
        "last_email_after_s": round(arrival[-1] - started, 3) if arrival else None,
        "emails_per_s_until_last_in_sink": round(count / (arrival[-1] - started), 1) if arrival else None,
        "accept_rate_sustained": sustained_rate(created),
        "delivery_rate_sustained": sustained_rate(arrival),
        "delivery_batches": batches(per, service.settings().delivery_batch_size),
        "claimed_to_in_sink_ms": spread(to_sink),
        "attempts": dict(Counter(v["attempts"] for v in per.values())),
        "smtp": sink.name,
        "mailbox": mailbox,
        "timeline": waited["timeline"],
    }
    entry = run_entry("service" if sink.name == "mailsink" else "service/null", "max", count, seconds, None, cpu, **details)
    entry["complete"] = mailbox["missing"] == 0 and mailbox["twice"] == 0 and mailbox["unexpected"] == 0 and mailbox["messages"] == count
    return entry


async def service_steady(
    config: StackConfig,
    service: Notification,
    sink: Sink | NullSink,
    meter: Meter,
    db: asyncpg.Connection,
    p: AIOKafkaProducer,
    personalisation: dict[str, Any],
    args: argparse.Namespace,
    deadline: Deadline,
    tag: str,
) -> dict[str, Any]:
    requests = build_requests(tag, int(args.rate * args.steady_seconds), personalisation)
    await sink.clear()
    gc.collect()
    sent_at: dict[str, float] = {}
    before = meter.snapshot()
    started = time.time()
    lag = await paced(p, requests, args.rate, sent_at, deadline, by_address=True)
    offered_seconds = time.time() - started
    await wait_delivered(db, sink, tag, len(requests), started, deadline, stall_seconds=args.stall_seconds)
    cpu = Meter.delta(before, meter.snapshot())
    await asyncio.sleep(0.5)
    received = await sink.steady_received()  # the server's own record of each message: received_at per recipient
    mailbox = check_mailbox(list(sent_at), received)
    by_recipient = {to: t for t, to in received}
    per = await stages(db, tag)
    latencies, kafka_accept, queued, smtp, after = [], [], [], [], []
    for address, sent in sent_at.items():
        a = address.lower()
        if a not in by_recipient:
            continue
        latencies.append(by_recipient[a] - sent)
        if a in per:
            kafka_accept.append(per[a]["created"] - sent)
            queued.append(per[a]["claimed"] - per[a]["created"])
            smtp.append(by_recipient[a] - per[a]["claimed"])
            after.append(per[a]["recorded"] - by_recipient[a])
    entry = run_entry(
        "service" if sink.name == "mailsink" else "service/null",
        "steady",
        len(latencies),
        offered_seconds,
        latencies,
        cpu,
        rate=args.rate,
        offered=len(requests),
        smtp=sink.name,
        offered_per_s=round(len(requests) / offered_seconds, 1),
        max_schedule_lag_ms=lag,
        mailbox=mailbox,
        stages_ms={
            "produce_to_accepted (Kafka, consumer, render, insert)": spread(kafka_accept),
            "accepted_to_claimed (delivery poll, queue)": spread(queued),
            "claimed_to_in_sink (build, SMTP, earlier emails of the batch)": spread(smtp),
        },
        in_sink_to_recorded_ms=spread(after),
        delivery_batches=batches(per, service.settings().delivery_batch_size),
        note="latency = the sink's received_at (ms resolution, UTC) minus the wall-clock time of the produce call; "
        "in_sink_to_recorded (the rest of the batch and the record transaction) comes after it",
    )
    entry["complete"] = mailbox["missing"] == 0 and mailbox["twice"] == 0 and mailbox["unexpected"] == 0
    return entry


async def timed(times: int, call: Callable[..., Awaitable[Any]], *args: Any) -> list[float]:
    """The seconds each of `times` calls of call(*args), one after the other, took."""
    out = []
    for _ in range(times):
        t = time.perf_counter()
        await call(*args)
        out.append(time.perf_counter() - t)
    return out


async def round_trips(config: StackConfig, sink: Sink, personalisation: dict[str, Any], settings: NotificationSettings) -> dict[str, Any]:
    """What one delivery's parts cost when nothing else runs: a PostgreSQL round trip (asyncpg,
    SELECT 1), a one-row INSERT committed on its own (the WAL flush every transaction pays), and the
    CPU time of rendering and of building the service's email with build_email (and, for
    comparison, of the same email built and flattened with the standard library's EmailMessage, as
    the service did before)."""
    db = await asyncpg.connect(config.database_url(SERVICE))
    try:
        for _ in range(50):
            await db.fetchval("SELECT 1")
        pg = await timed(500, db.fetchval, "SELECT 1")
        # A commit that writes: what each transaction (a batch's claim, its record) costs at least (WAL flush).
        await db.execute("CREATE TABLE bench_commit_probe (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())")
        commits = await timed(300, db.execute, "INSERT INTO bench_commit_probe DEFAULT VALUES")
        await db.execute("DROP TABLE bench_commit_probe")
        settings_pg = {
            r["name"]: r["setting"]
            for r in await db.fetch("SELECT name, setting FROM pg_settings WHERE name IN ('synchronous_commit', 'fsync', 'wal_sync_method', 'commit_delay')")
        }
    finally:
        await db.close()
    rendered = templates.render(TEMPLATE_ID, TEMPLATE_VERSION, personalisation)
    sender_address = parseaddr(settings.mail_from)[1]
    now = datetime.now(UTC)
    rounds = 2000
    t = time.perf_counter()
    for i in range(rounds):
        email = build_email(
            notification_id=uuid.uuid4(),
            sender=settings.mail_from,
            sender_address=sender_address,
            reply_to=settings.reply_to,
            recipient_name="Contact Persoon",
            recipient_email=recipient("rt", i),
            subject=rendered.subject,
            reference="bench-rt",
            text=rendered.text,
            html=rendered.html,
            date=now,
        )
    build = (time.perf_counter() - t) / rounds
    # The same two-part email with EmailMessage (set_content, add_alternative, the header registry),
    # built and flattened: what the service paid per email before build_email.
    from email.message import EmailMessage
    from email.utils import format_datetime, formataddr

    t = time.perf_counter()
    for i in range(200):
        notification_id = uuid.uuid4()
        message = EmailMessage()
        message["From"] = settings.mail_from
        if settings.reply_to:
            message["Reply-To"] = settings.reply_to
        message["To"] = formataddr(("Contact Persoon", recipient("rt", i)))
        message["Subject"] = rendered.subject
        message["Date"] = format_datetime(now)
        message["Message-ID"] = f"<{notification_id}@wse.vlaanderen.be>"
        message["X-WSE-Reference"] = "bench-rt"
        message.set_content(rendered.text)
        message.add_alternative(rendered.html, subtype="html")
        message.as_bytes()
    email_message_build_and_flatten = (time.perf_counter() - t) / 200
    t = time.perf_counter()
    for i in range(200):
        templates.render(TEMPLATE_ID, TEMPLATE_VERSION, {**personalisation, "dossier_number": i})
    render = (time.perf_counter() - t) / 200
    return {
        "pg_select_1": spread(pg),
        "pg_insert_autocommit": spread(commits),
        "pg_settings": settings_pg,
        "build_email_ms": round(build * 1000, 4),
        "email_bytes": len(email.data),
        "subject_chars": len(rendered.subject),
        "stdlib_email_message_build_and_flatten_ms": round(email_message_build_and_flatten * 1000, 3),
        "template_render_ms": round(render * 1000, 3),
    }


# -- profile -----------------------------------------------------------------------------------------

# py-spy frames read "Qualified.name (package/module.py:line)"; a sample counts for the innermost frame that matches.
COMPONENTS = [
    ("asyncpg (protocol, codecs, pool)", ("(asyncpg/",)),
    ("aiosmtplib (SMTP client)", ("(aiosmtplib/",)),
    ("email stdlib (header folding, addresses, parse)", ("(email/",)),
    ("jinja2 (rendering)", ("(jinja2/",)),
    ("pydantic", ("(pydantic",)),
    ("structlog / logging", ("(structlog/", "(logging/")),
    ("prometheus_client", ("(prometheus_client/",)),
    ("aiokafka / faststream", ("(aiokafka/", "(faststream/")),
    ("aiosmtpd (SMTP server)", ("(aiosmtpd/",)),
    ("event loop: uvloop's C code (socket I/O syscalls, callbacks) and asyncio", ("(asyncio/", "(uvloop/")),
    ("service_runtime (consumer, outbox)", ("(service_runtime/",)),
    ("notification (service code)", ("(notification/",)),
    ("devstack mailsink", ("(devstack/",)),
]


def _claim_frame() -> str:
    """The frame of Deliverer.deliver_due while it waits on (or decodes) the claim statement: its line
    that fetches the claim statement (queries.CLAIM)."""
    import inspect

    lines, first = inspect.getsourcelines(Deliverer.deliver_due)
    line = next(first + i for i, text in enumerate(lines) if "queries.CLAIM" in text)
    return f"Deliverer.deliver_due (notification/delivery.py:{line})"


# Inclusive shares. The sends run in tasks of their own (asyncio.gather of one worker per SMTP
# connection in SmtpSender.send_all), so their stacks do not pass through deliver_due.
STAGES = [
    ("delivery: Deliverer.deliver_due (claim, build, record; not the sends)", ("Deliverer.deliver_due (",)),
    ("  of which the claim (queries.CLAIM fetch)", (_claim_frame(),)),
    ("  of which build_email (the emails' bytes)", ("build_email (",)),
    ("  of which Deliverer._record (outcomes, log, events)", ("Deliverer._record (",)),
    ("delivery: SmtpSender.send_all (SMTP conversations, notification/smtp.py)", ("(notification/smtp.py:",)),
    ("consumer: handle_batch (accept_requests: render, insert)", ("handle_batch (",)),
    ("  of which accept_requests", ("accept_requests (",)),
    ("  of which template rendering", ("(notification/templates.py:",)),
    ("outbox relay (delivered events to Kafka)", ("_relay_batch (", "_lead_and_relay (")),
    ("mail sink: handle_DATA (store, log)", ("handle_DATA (",)),
    ("mail sink: message parse (only when asked: should be ~0)", ("Message._parsed (",)),
]


def summarise(path: Path) -> dict[str, Any]:
    """py-spy raw stacks: shares of busy samples by component (innermost frame that matches) and by stage (inclusive)."""
    return summarise_stacks(path, COMPONENTS, STAGES, other="other (stdlib, C)", top=15, empty_stages=False)


async def profile(
    config: StackConfig,
    service: Notification,
    sink: Sink | NullSink,
    meter: Meter,
    db: asyncpg.Connection,
    p: AIOKafkaProducer,
    personalisation: dict[str, Any],
    args: argparse.Namespace,
    deadline: Deadline,
    expected_rate: float,
    tag: str,
) -> dict[str, Any]:
    spy = py_spy()
    if not spy:
        return {"error": "py-spy not found (pip install py-spy, or install uv for uvx)"}
    count = args.profile_requests
    seconds = max(8, min(30, int(count / max(expected_rate, 1) * 0.8)))
    targets = {"service": service.pid, **({sink.name: sink.pid()} if sink.name == "mailsink" else {})}
    spies, outputs = {}, {}
    for name, pid in targets.items():
        outputs[name] = RESULTS_DIR / f"profile-{sink.name}-{name}.txt"
        spies[name] = subprocess.Popen(
            [
                *spy,
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(seconds),
                "--rate",
                "200",
                "--nonblocking",
                "--format",
                "raw",
                "--output",
                str(outputs[name]),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    await asyncio.sleep(3)  # attached (uvx may first install it)
    run = await service_max(config, service, sink, meter, db, p, personalisation, count, tag, args, deadline)
    out: dict[str, Any] = {"requests": count, "py_spy_seconds": seconds, "emails_per_s_during_profile": run["per_s"], "cpu_during_profile": run["cpu"]}
    for name, process in spies.items():
        try:
            text, _ = process.communicate(timeout=seconds + 60)
        except subprocess.TimeoutExpired:
            process.kill()
            text, _ = process.communicate()
        if process.returncode != 0 or not outputs[name].exists():
            out[name] = {"error": f"py-spy failed ({process.returncode}): {text[-1500:]}"}
        else:
            out[name] = summarise(outputs[name]) | {"collapsed_stacks": str(outputs[name].relative_to(REPO_ROOT))}
    out["note"] = "py-spy record --nonblocking (idle samples excluded): shares of each process's busy CPU time during a burst"
    return out


# -- the whole run -------------------------------------------------------------------------------------


async def service_runs(
    config: StackConfig,
    service: Notification,
    sink: Sink | NullSink,
    meter: Meter,
    personalisation: dict[str, Any],
    requests: int,
    args: argparse.Namespace,
    runs: list[dict[str, Any]],
    report: dict[str, Any],
    deadline: Deadline,
    done,
) -> None:
    """Warm-up, max, steady and (below the target, or with --profile) a profiled burst, against one SMTP server."""
    prefix = "" if sink.name == "mailsink" else sink.name
    db = await asyncpg.connect(config.database_url(SERVICE))
    p = producer(config)
    await p.start()
    try:
        print(f"-> [{sink.name}] warm-up: 50 requests through the service (not counted) ...", flush=True)
        await service_max(config, service, sink, meter, db, p, personalisation, 50, prefix + "warm", args, deadline)

        print(f"-> [{sink.name}] service / max: {requests} requests produced as fast as possible, until all are delivered ...", flush=True)
        run = await service_max(config, service, sink, meter, db, p, personalisation, requests, prefix + "max", args, deadline)
        done(run)
        d = run["details"]
        print(
            f"   produced in {d['produce_seconds']} s; all accepted after {d['all_accepted_after_s']} s (accept rate {d['accept_rate_sustained']}/s); "
            f"emails in the server: first {d['first_email_after_s']} s, last {d['last_email_after_s']} s, sustained {d['delivery_rate_sustained']}/s; "
            f"{describe_batches(d['delivery_batches'])}; mailbox {d['mailbox']}",
            flush=True,
        )
        if not run["complete"]:
            raise RuntimeError(f"service max: mailbox {d['mailbox']}")

        await asyncio.sleep(2)
        print(
            f"-> [{sink.name}] service / steady: {args.rate:g} requests/s for {args.steady_seconds:g} s, open loop; latency to the server's received_at ...",
            flush=True,
        )
        run = await service_steady(config, service, sink, meter, db, p, personalisation, args, deadline, prefix + "steady")
        done(run)
        for name, figures in run["details"]["stages_ms"].items():
            print(f"     {name}: p50 {figures.get('p50_ms', math.nan):.1f} ms, p99 {figures.get('p99_ms', math.nan):.1f} ms", flush=True)
        print(f"     {describe_batches(run['details']['delivery_batches'])}", flush=True)
        if not run["complete"]:
            raise RuntimeError(f"service steady: mailbox {run['details']['mailbox']}")

        rate = next(r["per_s"] for r in runs if r["name"].startswith("service") and r["mode"] == "max" and r["details"].get("smtp") == sink.name)
        if args.profile_requests and (args.profile or rate < TARGET_EMAILS_PER_S):
            print(
                f"-> [{sink.name}] profile: py-spy on the service{' and the mail sink' if sink.name == 'mailsink' else ''} during a burst of "
                f"{args.profile_requests} requests ...",
                flush=True,
            )
            found = await profile(config, service, sink, meter, db, p, personalisation, args, deadline, rate, prefix + "profile")
            report.setdefault("profile", {})[sink.name] = found
            for name in ("service", "mailsink"):
                part = found.get(name)
                if part:
                    print(f"   {name}: {part.get('components_pct', part.get('error'))}", flush=True)
                    if part.get("stages_pct"):
                        print(f"   {name} stages: {part['stages_pct']}", flush=True)
    finally:
        await p.stop()
        await db.close()


async def measure(
    config: StackConfig, service: Notification, args: argparse.Namespace, runs: list[dict[str, Any]], report: dict[str, Any], deadline: Deadline
) -> None:
    sink = Sink(config)
    null = NullSink(config, args.null_smtp_port)
    meter = Meter(config, lambda: service.pid, sink.pid)
    personalisation = example_personalisation()

    def done(run: dict[str, Any]) -> None:
        runs.append(run)
        lat = run["latency"]
        text = f", p50 {lat['p50_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms" if lat else ""
        print(f"   {run['count']} in {run['seconds']:.2f} s: {run['per_s']:,.0f}/s{text}; CPU {fmt_cpu(run['cpu'])}", flush=True)

    settings = service.settings()
    connections = max(1, settings.smtp_connections)
    print("-> round trips and CPU costs of one delivery's parts, alone ...", flush=True)
    report["costs"] = await round_trips(config, sink, personalisation, settings)
    print(f"   {report['costs']}", flush=True)

    async def raw_smtp_runs(target: Sink | NullSink, target_meter: Meter) -> None:
        # One connection: the ceiling of one session. The service's smtp_connections at once: its fair baseline.
        for n in sorted({1, connections}):
            how = "ONE connection, sequential" if n == 1 else f"{n} concurrent reused connections (the service's smtp_connections)"
            print(
                f"-> raw-smtp{'' if target.name == 'mailsink' else '/' + target.name} / max: {args.smtp_messages} x sendmail of the service's "
                f"build_email bytes, aiosmtplib, {how}, to the {target.name} ...",
                flush=True,
            )
            run = await raw_smtp(config, target, target_meter, personalisation, settings, args.smtp_messages, connections=n, deadline=deadline)
            done(run)
            if not run["details"]["complete"]:
                raise RuntimeError(f"raw SMTP: {run['details']['in_sink']} of {args.smtp_messages} in the {target.name}")

    await raw_smtp_runs(sink, meter)
    await sink.clear()

    print(f"-> raw-kafka / max and steady: {args.requests} request records, then {args.rate:g}/s for {args.baseline_seconds:g} s, fresh topic ...", flush=True)
    for run in await raw_kafka(config, meter, personalisation, args, deadline):
        done(run)

    await service_runs(config, service, sink, meter, personalisation, args.requests, args, runs, report, deadline, done)
    await sink.clear()

    if args.null_requests:
        # The same service against an SMTP server that costs next to nothing: what the service itself can do.
        print(f"-> null SMTP server (bench/notification/null_smtp.py) on 127.0.0.1:{null.port}; the service restarted against it ...", flush=True)
        null.start()
        try:
            null_meter = Meter(config, lambda: service.pid, null.pid)
            await raw_smtp_runs(null, null_meter)
            await asyncio.to_thread(service.restart, {"NOTIFICATION_SMTP_PORT": str(null.port)})
            await service_runs(config, service, null, null_meter, personalisation, args.null_requests, args, runs, report, deadline, done)
        finally:
            null.stop()


# -- output ------------------------------------------------------------------------------------------


def table(runs: list[dict[str, Any]]) -> str:
    header = (
        f"{'path':<13} {'mode':<13} {'count':>6} {'per s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}  "
        f"{'CPU % of a core: svc / pg / kafka / smtp / gen / others'}"
    )
    lines = [header, "-" * len(header)]
    for r in runs:
        c, lat = r["cpu"], r["latency"]
        mode = f"{r['mode']} {r['details']['rate']:g}/s" if "rate" in r["details"] else r["mode"]
        if r["name"].startswith("raw-smtp"):
            mode += f" {r['details']['connections']} conn"
        cpu = " / ".join(f"{c.get(k, 0):>4.0f}" for k in ("service", "postgres", "kafka", "smtp", "generator", "others"))
        lines.append(
            f"{r['name']:<13} {mode:<13} {r['count']:>6} {r['per_s']:>8,.0f} {lat.get('p50_ms', math.nan):>8.1f} {lat.get('p95_ms', math.nan):>8.1f} "
            f"{lat.get('p99_ms', math.nan):>8.1f} {lat.get('max_ms', math.nan):>8.1f}  {cpu}"
        )
    return "\n".join(lines)


def verdicts(runs: list[dict[str, Any]], args: argparse.Namespace) -> list[dict[str, Any]]:
    def one(name: str, mode: str, connections: int | None = None) -> dict[str, Any] | None:
        return next(
            (r for r in runs if r["name"] == name and r["mode"] == mode and (connections is None or r["details"].get("connections") == connections)), None
        )

    def raw_smtp_text(name: str) -> str | None:
        single, several = (
            one(name, "max", 1),
            max((r for r in runs if r["name"] == name and r["details"].get("connections", 1) > 1), key=lambda r: r["details"]["connections"], default=None),
        )
        parts = ([f"{single['per_s']:,.0f}/s on one connection"] if single else []) + (
            [f"{several['per_s']:,.0f}/s on {several['details']['connections']} concurrent connections (the service's smtp_connections)"] if several else []
        )
        return "raw aiosmtplib sendmail of the service's email bytes to the same server: " + ", ".join(parts) if parts else None

    found = []
    smtp = one("raw-smtp", "max", 1)
    if r := one("service", "max"):
        d = r["details"]
        met = r["per_s"] >= TARGET_EMAILS_PER_S and r.get("complete", False)
        found.append(
            {
                "target": f">= {TARGET_EMAILS_PER_S:g} emails/s into the local SMTP server with connection reuse",
                "met": met,
                "measured": f"{r['count']:,} requests -> all delivered in {r['seconds']:.1f} s: {r['per_s']:,.0f} emails/s (sustained in the sink "
                f"{d['delivery_rate_sustained']}/s; consumer accepted at {d['accept_rate_sustained']}/s; "
                f"{describe_batches(d['delivery_batches'])}); mailbox: {d['mailbox']['messages']} messages, {d['mailbox']['missing']} missing, "
                f"{d['mailbox']['twice']} twice",
                "baseline": raw_smtp_text("raw-smtp"),
            }
        )
    if r := one("service", "steady"):
        d, lat = r["details"], r["latency"]
        offered_ok = d["offered_per_s"] >= 0.95 * TARGET_RATE and args.rate >= TARGET_RATE
        met = offered_ok and lat["p99_ms"] <= TARGET_P99_MS and r.get("complete", False)
        kafka = one("raw-kafka", "steady")
        found.append(
            {
                "target": f"request -> email in the server p99 <= {TARGET_P99_MS:g} ms at {TARGET_RATE:g} requests/s",
                "met": met,
                "measured": f"{r['count']}/{d['offered']} emails at {d['offered_per_s']}/s offered over {args.steady_seconds:g} s: p50 {lat['p50_ms']:.1f} ms, "
                f"p95 {lat['p95_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms, max {lat['max_ms']:.1f} ms",
                "baseline": (
                    f"raw Kafka produce -> consume at the same rate: p50 {kafka['latency']['p50_ms']:.1f} ms, p99 {kafka['latency']['p99_ms']:.1f} ms; "
                    f"one raw SMTP send: p50 {smtp['latency']['p50_ms']:.2f} ms, p99 {smtp['latency']['p99_ms']:.2f} ms"
                    if kafka and smtp
                    else None
                ),
            }
        )
    # Not the target's SMTP server: what the service itself does when the server costs nothing.
    if r := one("service/null", "max"):
        d = r["details"]
        found.append(
            {
                "target": "(information) the same service against the null SMTP server: its own ceiling",
                "met": None,
                "measured": f"{r['count']:,} requests -> {r['per_s']:,.0f} emails/s (sustained {d['delivery_rate_sustained']}/s; "
                f"{describe_batches(d['delivery_batches'])}; CPU {fmt_cpu(r['cpu'])})",
                "baseline": raw_smtp_text("raw-smtp/null"),
            }
        )
    if r := one("service/null", "steady"):
        lat = r["latency"]
        found.append(
            {
                "target": f"(information) the same service against the null SMTP server at {r['details']['rate']:g}/s",
                "met": None,
                "measured": f"{r['count']}/{r['details']['offered']}: p50 {lat['p50_ms']:.1f} ms, p95 {lat['p95_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms, "
                f"max {lat['max_ms']:.1f} ms",
                "baseline": None,
            }
        )
    return found


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/notification/run.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10_000, help="requests of the max run (and of the raw Kafka max run); default 10000")
    parser.add_argument("--smtp-messages", type=int, default=5_000, help="messages of each raw SMTP run (default 5000)")
    parser.add_argument("--rate", type=float, default=TARGET_RATE, help="requests/s of the steady runs (default 100)")
    parser.add_argument("--steady-seconds", type=float, default=30.0)
    parser.add_argument("--baseline-seconds", type=float, default=10.0, help="length of the raw Kafka steady run (default 10)")
    parser.add_argument(
        "--log-level", default="WARNING", help="the service's LOG_LEVEL (default WARNING as the other benchmarks; INFO is the production default)"
    )
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="extra environment for the service, e.g. NOTIFICATION_DATABASE_POOL_MAX=20"
    )
    parser.add_argument("--profile", action="store_true", help="profile with py-spy even when the throughput target is met")
    parser.add_argument("--profile-requests", type=int, default=3_000, help="requests of each profiled burst (default 3000; 0: no profile)")
    parser.add_argument(
        "--null-requests", type=int, default=5_000, help="requests of the max run against the null SMTP server (default 5000; 0: skip the null SMTP part)"
    )
    parser.add_argument("--null-smtp-port", type=int, default=31126, help="port of the null SMTP server (default 31126)")
    parser.add_argument("--stall-seconds", type=float, default=30.0, help="fail when no notification is delivered for this long (default 30)")
    parser.add_argument("--timeout", type=float, default=1200.0, help="hard limit in seconds after the stack is up (default 1200)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "latest.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_ports()
    config = StackConfig.bench()
    runs: list[dict[str, Any]] = []
    report: dict[str, Any] = {}
    print(
        f"Benchmark stack '{config.name}' in {config.state_dir} (PostgreSQL 127.0.0.1:{config.postgres_port}, Kafka {config.kafka_bootstrap}, "
        f"SMTP 127.0.0.1:{config.smtp_port}, mail sink http://127.0.0.1:{config.smtp_http_port}, notification :{config.service_ports[SERVICE]})",
        flush=True,
    )
    # First stops whatever an interrupted run of THIS benchmark left behind (its own state folder only).
    with BenchStack(config, timed_out=lambda failure: f"timed out: {failure!r}") as run:
        if config.state_dir.name == "bench-notification" and config.state_dir.exists():
            shutil.rmtree(config.state_dir)  # fresh database cluster, topics, consumer offsets and mailbox
        deadline = run.start(args.timeout)
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        asyncio.run(postgres.recreate_database(config, SERVICE))
        service = Notification(config, args)
        print("-> migrating the notification database (python -m notification migrate) ...", flush=True)
        report["migrations"] = service.migrate()
        report["code_at_start"] = code_state(*CODE)
        print(f"-> starting ONE notification process (LOG_LEVEL={args.log_level.upper()}) ...", flush=True)
        service.start()
        print(f"   notification pid {service.pid} at {service.url}", flush=True)
        gc.collect()
        gc.freeze()
        uvloop.run(asyncio.wait_for(measure(config, service, args, runs, report, deadline), deadline.left()))
    error = run.error

    print()
    print(
        f"Results: NotificationRequestedV1 on Kafka -> ONE notification process -> the mail sink (aiosmtpd), beside raw SMTP and raw Kafka; "
        f"{os.cpu_count()} CPUs shared by generator, service, PostgreSQL, Kafka, mail sink"
    )
    print(table(runs))
    print(
        "  raw-smtp: aiosmtplib sendmail of the service's email bytes (build_email, built once); 1 conn: one reused connection, sequential; "
        "N conn: N reused connections at once, N = the service's smtp_connections;"
    )
    print("  raw-kafka: latency produce -> getmany; service/max: per s = requests / time until all delivered in the table, latencies not measured;")
    print("  service/steady: latency produce call -> the server's received_at of that recipient's message (open loop).")
    print("  */null: against bench/notification/null_smtp.py instead of the mail sink (the service restarted with NOTIFICATION_SMTP_PORT).")
    checks = verdicts(runs, args)
    print_verdicts(checks)
    code_now = code_state(*CODE)
    print_code(report.get("code_at_start"), code_now)
    if error:
        print(f"FAILED: {error}")

    write_results(
        args.output,
        {
            **results_head("notification", "bench/notification/run.py", argv, shared="generator, service, PostgreSQL, Kafka, mail sink"),
            "stack": {
                "state_dir": str(config.state_dir),
                "kafka": config.kafka_bootstrap,
                "postgres_port": config.postgres_port,
                "smtp_port": config.smtp_port,
                "smtp_http_port": config.smtp_http_port,
                "service_ports": config.service_ports,
            },
            "code": {"at_service_start": report.pop("code_at_start", None), "at_end": code_now},
            "settings": settings_of(args),
            "targets": {"emails_per_s": TARGET_EMAILS_PER_S, "p99_ms": TARGET_P99_MS, "rate": TARGET_RATE},
            **report,
            "runs": runs,
            "verdicts": checks,
            "error": error,
        },
    )
    return 1 if error else 0


if __name__ == "__main__":
    sys.exit(main())
