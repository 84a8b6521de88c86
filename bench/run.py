"""Event-path benchmark: raw Kafka against the platform's full outbox -> relay -> consumer path.

Run it with `./dev bench [options]` (or `uv run python bench/run.py [options]`). It starts a stack
of its own (PostgreSQL, Kafka, mail sink under .run/bench, on ports of its own), measures

  raw-kafka   aiokafka producer (acks=all, idempotent, linger 2 ms) -> 3-partition topic ->
              aiokafka consumer group, offsets committed per getmany batch;
  full        add_all_to_outbox in the writers' transactions (asyncpg pool) -> OutboxRelay ->
              Kafka -> ConsumerRunner on a FastStream KafkaBroker -> one effect row per event,
              in a separate consumer database;

each in two modes (throughput: N events as fast as possible; steady: a paced rate for a number of
seconds), side by side in one run, prints a table and writes bench/results/latest.json, and stops
the stack. By default everything runs in ONE Python process (one event loop): writers, relay and
consumer share one core, where in production they would be separate service processes; `--split`
moves the full path's consumer into a child process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import shutil
import sys
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from faststream.kafka import KafkaBroker

# The workspace packages (installed by uv sync); nothing is imported from tests/. The repo root
# for bench.common and bench.stats, shared with the other benchmarks.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import service_runtime
from bench.common import BenchStack, Deadline, code_state, new_topic, raw_consumer, relay_producer, settings_of, write_results
from bench.stats import percentile
from devstack import postgres
from devstack.config import StackConfig
from service_runtime.consumer import Consumer, ConsumerRunner, RetryPolicy
from service_runtime.db import create_pool
from service_runtime.logging import configure_logging
from service_runtime.migrations import apply_migrations, discover
from service_runtime.outbox import OutboxRelay, add_all_to_outbox
from service_runtime.settings import ServiceSettings
from wse_contracts import Envelope, new_envelope

REPO_ROOT = Path(__file__).resolve().parents[1]
EVENT_TYPE = "be.vlaanderen.wse.bench.happened.v1"
PARTITIONS = 3
WARMUP_EVENTS = 20
AGGREGATES = 100  # events are keyed over this many aggregates (Kafka keys)
RESULTS_DIR = REPO_ROOT / "bench" / "results"
TARGET_THROUGHPUT = 5_000.0  # events/s, full path
TARGET_P99_MS = 50.0  # at a steady 1,000 events/s, full path
TARGET_RATE = 1_000.0


def bench_config() -> StackConfig:
    return StackConfig.bench()


# -- measurements -----------------------------------------------------------------------------


@dataclass
class Result:
    path: str
    mode: str
    events: int
    seconds: float  # first write/send to last receive/commit
    events_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    details: dict[str, Any] = field(default_factory=dict)


def summary_ms(latencies_s: list[float]) -> dict[str, float]:
    ordered = sorted(latencies_s)
    return {
        "p50_ms": round(percentile(ordered, 0.50) * 1000, 2),
        "p90_ms": round(percentile(ordered, 0.90) * 1000, 2),
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2) if ordered else math.nan,
    }


def make_result(path: str, mode: str, events: int, started: float, finished: float, latencies_s: list[float], **details: Any) -> Result:
    seconds = finished - started
    stats = summary_ms(latencies_s)
    return Result(
        path=path,
        mode=mode,
        events=events,
        seconds=round(seconds, 3),
        events_per_s=round(events / seconds, 1) if seconds > 0 else math.nan,
        p50_ms=stats["p50_ms"],
        p99_ms=stats["p99_ms"],
        max_ms=stats["max_ms"],
        details={"p90_ms": stats["p90_ms"], **details},
    )


async def paced(
    total: int, rate: float, group: int, fire: Callable[[int, int], Awaitable[None]], deadline: Deadline, *, max_in_flight: int = 256
) -> dict[str, float]:
    """Call fire(first_seq, count) for groups of `group` events at `rate` events/s, each in a task
    of its own (a slow one does not hold up the schedule); returns how well the schedule was kept."""
    started = time.monotonic()
    tasks: list[asyncio.Task[None]] = []
    pending: set[asyncio.Task[None]] = set()
    max_lag = 0.0
    try:
        for k in range(math.ceil(total / group)):
            target = started + k * group / rate
            delay = target - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                max_lag = max(max_lag, -delay)
            deadline.left()
            first = k * group
            task = asyncio.create_task(fire(first, min(group, total - first)))
            tasks.append(task)
            pending.add(task)
            task.add_done_callback(pending.discard)
            if len(pending) >= max_in_flight:  # falling far behind: wait instead of piling up
                await asyncio.wait(set(pending), timeout=deadline.left(), return_when=asyncio.FIRST_COMPLETED)
        async with asyncio.timeout(deadline.left()):
            await asyncio.gather(*tasks)
    finally:
        for task in tasks:  # on failure or time-out: nothing keeps writing behind our back
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = time.monotonic() - started
    return {"offered_seconds": round(elapsed, 3), "offered_events_per_s": round(total / elapsed, 1), "max_schedule_lag_ms": round(max_lag * 1000, 1)}


async def wait_event(event: asyncio.Event, deadline: Deadline, what: str, *, watch: asyncio.Task[Any] | None = None) -> None:
    """Wait for `event`, bounded by the deadline; fail early if the task producing it died."""
    waiter = asyncio.ensure_future(event.wait())
    try:
        done, _ = await asyncio.wait({waiter, *([watch] if watch else [])}, timeout=deadline.left(), return_when=asyncio.FIRST_COMPLETED)
        if waiter in done:
            return
        if watch is not None and watch in done:
            raise RuntimeError(f"{what}: the task it waited on ended: {watch.exception() if not watch.cancelled() else 'cancelled'!r}")
        raise TimeoutError(f"timed out waiting for {what}")
    finally:
        waiter.cancel()


async def quietly(what: str, awaitable: Awaitable[Any], timeout: float = 30.0) -> None:
    """Teardown step: bounded, and a failure is reported, not raised (the rest must still stop)."""
    try:
        await asyncio.wait_for(awaitable, timeout)
    except Exception as error:
        print(f"  (stopping {what} failed: {error!r})", flush=True)


# -- path 1: raw Kafka ------------------------------------------------------------------------


async def raw_kafka(config: StackConfig, args: argparse.Namespace, mode: str, deadline: Deadline) -> Result:
    events = args.events if mode == "throughput" else round(args.rate * args.seconds)
    topic = await new_topic(config, "raw", deadline, partitions=PARTITIONS)
    producer = relay_producer(config, "bench-raw-producer")
    consumer = raw_consumer(config, topic)
    latencies: list[float] = []
    last_receive = 0.0
    warm = 0
    measured_done = asyncio.Event()
    warm_done = asyncio.Event()
    stopping = False

    async def consume() -> None:
        nonlocal last_receive, warm
        while not stopping:
            batch = await consumer.getmany(timeout_ms=args.consumer_batch_timeout_ms, max_records=args.consumer_max_batch)
            now = time.time()
            for records in batch.values():
                for record in records:
                    value = json.loads(record.value)
                    if value["seq"] < 0:
                        warm += 1
                    else:
                        latencies.append(now - value["sent_at"])
                        last_receive = now
            if batch:
                await consumer.commit()
                if warm >= WARMUP_EVENTS:
                    warm_done.set()
                if len(latencies) >= events:
                    measured_done.set()

    def value(seq: int) -> bytes:
        return json.dumps({"seq": seq, "aggregate": f"agg-{seq % AGGREGATES}", "sent_at": time.time()}, separators=(",", ":")).encode()

    async def send(seq: int) -> asyncio.Future[Any]:
        return await producer.send(topic, value=value(seq), key=f"agg-{seq % AGGREGATES}".encode())

    consuming: asyncio.Task[None] | None = None
    await producer.start()
    try:
        await consumer.start()
        try:
            consuming = asyncio.create_task(consume(), name="bench-raw-consumer")
            # Warm-up: group joined, partitions assigned, connections open; not measured.
            await asyncio.gather(*[await send(-1 - i) for i in range(WARMUP_EVENTS)])
            await wait_event(warm_done, deadline, "the raw warm-up", watch=consuming)

            started = time.time()
            details: dict[str, Any] = {}
            if mode == "throughput":
                acks = [await send(seq) for seq in range(events)]
                async with asyncio.timeout(deadline.left()):
                    await asyncio.gather(*acks)
                details["send_seconds"] = round(time.time() - started, 3)
            else:

                async def fire(first: int, count: int) -> None:
                    acks = [await send(seq) for seq in range(first, first + count)]
                    await asyncio.gather(*acks)

                details.update(await paced(events, args.rate, args.steady_group, fire, deadline))
            await wait_event(measured_done, deadline, "the raw consumer", watch=consuming)
            if len(latencies) != events:
                raise RuntimeError(f"raw path: expected {events} events, received {len(latencies)}")
            return make_result("raw-kafka", mode, events, started, last_receive, latencies, **details)
        finally:
            stopping = True
            if consuming is not None:
                await quietly("the raw consumer loop", consuming, 5)  # ends within one getmany wait
            await quietly("the raw consumer", consumer.stop())
    finally:
        await quietly("the raw producer", producer.stop())


# -- path 2: outbox -> relay -> Kafka -> ConsumerRunner -> effect rows ----------------------------

EFFECTS_TABLE = """
CREATE TABLE bench_effects (
    event_id   text PRIMARY KEY,
    seq        integer          NOT NULL,
    written_at double precision NOT NULL,   -- epoch seconds, from the event's data (writer's clock)
    handled_at double precision NOT NULL DEFAULT extract(epoch FROM clock_timestamp()),
    batch      integer          NOT NULL    -- which consumer batch (transaction) wrote it
)
"""


@dataclass
class _Batch:
    number: int
    warm: int = 0
    measured: int = 0


_batch_var: ContextVar[_Batch | None] = ContextVar("bench_batch", default=None)


class TimedRunner(ConsumerRunner):
    """The runtime's ConsumerRunner, unchanged, plus a note of when each batch transaction
    committed (handle_batch returns after the commit, before the Kafka offset commit)."""

    def __init__(self, *, measured_target: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commit_times: dict[int, float] = {}
        self.batch_sizes: list[int] = []
        self.batch_seconds: list[float] = []  # handle_batch: the database work of one batch
        self.warm = 0
        self.measured = 0
        self.measured_target = measured_target
        self.warm_done = asyncio.Event()
        self.measured_done = asyncio.Event()
        self._numbers = 0

    async def handle_batch(self, records: list[Any]) -> None:
        self._numbers += 1
        batch = _Batch(self._numbers)
        token = _batch_var.set(batch)
        began = time.time()
        try:
            await super().handle_batch(records)
        finally:
            _batch_var.reset(token)
        self.commit_times[batch.number] = time.time()
        self.batch_sizes.append(len(records))
        self.batch_seconds.append(self.commit_times[batch.number] - began)
        self.warm += batch.warm
        self.measured += batch.measured
        if self.warm >= WARMUP_EVENTS:
            self.warm_done.set()
        if self.measured >= self.measured_target:
            self.measured_done.set()


async def record_effects(connection: asyncpg.Connection, envelopes: list[Envelope]) -> None:
    """A batch handler: the effect rows of consecutive events in one statement."""
    batch = _batch_var.get()
    assert batch is not None
    await connection.execute(
        "INSERT INTO bench_effects (event_id, seq, written_at, batch) SELECT e, s, w, $4 FROM unnest($1::text[], $2::int[], $3::float8[]) AS x(e, s, w)",
        [envelope.id for envelope in envelopes],
        [envelope.data["seq"] for envelope in envelopes],
        [envelope.data["written_at"] for envelope in envelopes],
        batch.number,
    )
    for envelope in envelopes:
        if envelope.data["seq"] < 0:
            batch.warm += 1
        else:
            batch.measured += 1


async def migrated_database(config: StackConfig, name: str) -> str:
    url = await postgres.recreate_database(config, name)
    connection = await asyncpg.connect(url)
    try:
        await apply_migrations(connection, discover("runtime", "service_runtime.sql"))
    finally:
        await connection.close()
    return url


class ConsumerSide:
    """The consuming service: a FastStream KafkaBroker with the TimedRunner subscribed, on a pool of
    the consumer database, wired as ServiceRuntime wires it. Runs in the caller's event loop."""

    def __init__(self, *, bootstrap: str, topic: str, database_url: str, events: int, max_batch: int, batch_timeout_ms: int, pool_max: int) -> None:
        self.bootstrap, self.topic, self.database_url, self.events = bootstrap, topic, database_url, events
        self.max_batch, self.batch_timeout_ms, self.pool_max = max_batch, batch_timeout_ms, pool_max
        self.pool: asyncpg.Pool | None = None
        self.broker: KafkaBroker | None = None
        self.runner: TimedRunner | None = None
        self.commit_times: dict[int, float] = {}
        self.batch_sizes: list[int] = []
        self.batch_seconds: list[float] = []

    async def start(self, deadline: Deadline) -> None:
        self.pool = await create_pool(self.database_url, min_size=2, max_size=self.pool_max)
        self.broker = KafkaBroker(self.bootstrap, client_id="bench", graceful_timeout=15.0, logger=structlog.get_logger("faststream"))
        self.runner = TimedRunner(
            measured_target=self.events,
            consumer=Consumer(name="effects", topics=[self.topic], batch_handlers={EVENT_TYPE: record_effects}),
            service="bench",
            pool=self.pool,
            retry=RetryPolicy(),
        )
        self.runner.subscribe(self.broker, max_records=self.max_batch, batch_timeout_ms=self.batch_timeout_ms)
        await asyncio.wait_for(self.broker.start(), deadline.left())

    async def wait_warm(self, deadline: Deadline) -> None:
        assert self.runner is not None
        await wait_event(self.runner.warm_done, deadline, "the full-path warm-up")

    async def wait_done(self, deadline: Deadline) -> None:
        assert self.runner is not None
        await wait_event(self.runner.measured_done, deadline, "the full-path consumer")
        self.commit_times, self.batch_sizes = self.runner.commit_times, self.runner.batch_sizes
        self.batch_seconds = self.runner.batch_seconds

    async def stop(self) -> None:
        # Stop taking work first (the batch in hand finishes), then the pool (as ServiceRuntime.stop).
        if self.broker is not None:
            await quietly("the Kafka broker (consumer)", self.broker.stop())
        if self.pool is not None:
            await quietly("the consumer pool", self.pool.close())


_CHILD_PREFIX = "BENCH-CHILD "


class ChildConsumerSide:
    """The same ConsumerSide in a child process (`--split`): the consuming service as a process of
    its own, as in production. It reports over its stdout, in lines starting with _CHILD_PREFIX."""

    def __init__(self, **spec: Any) -> None:
        self.spec = spec
        self.process: asyncio.subprocess.Process | None = None
        self.commit_times: dict[int, float] = {}
        self.batch_sizes: list[int] = []
        self.batch_seconds: list[float] = []

    async def _next(self, expected: str, deadline: Deadline) -> dict[str, Any]:
        assert self.process is not None and self.process.stdout is not None
        while True:
            line = await asyncio.wait_for(self.process.stdout.readline(), deadline.left())
            if not line:
                raise RuntimeError(f"the consumer process exited (code {await self.process.wait()}) before '{expected}'")
            text = line.decode(errors="replace").rstrip()
            if not text.startswith(_CHILD_PREFIX):
                print(f"   [consumer process] {text}", flush=True)
                continue
            message = json.loads(text[len(_CHILD_PREFIX) :])
            if message["event"] == "failed":
                raise RuntimeError(f"the consumer process failed: {message['error']}")
            if message["event"] != expected:
                raise RuntimeError(f"the consumer process said {message['event']!r}, expected {expected!r}")
            return message

    async def start(self, deadline: Deadline) -> None:
        spec = {**self.spec, "timeout": deadline.left()}
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(Path(__file__).resolve()),
            "--consumer-process",
            json.dumps(spec),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            cwd=REPO_ROOT,
            limit=64 * 1024 * 1024,
        )
        await self._next("started", deadline)

    async def wait_warm(self, deadline: Deadline) -> None:
        await self._next("warm", deadline)

    async def wait_done(self, deadline: Deadline) -> None:
        message = await self._next("done", deadline)
        self.commit_times = {int(k): v for k, v in message["commit_times"].items()}
        self.batch_sizes = message["batch_sizes"]
        self.batch_seconds = message["batch_seconds"]

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        try:
            # It stops on its own after "done" (or at its time limit); read on so it never blocks on a full pipe.
            async def drain() -> None:
                assert self.process is not None and self.process.stdout is not None
                while await self.process.stdout.readline():
                    pass
                await self.process.wait()

            await asyncio.wait_for(drain(), 30)
        except TimeoutError:
            print("  (the consumer process did not stop in 30 s; killing it)", flush=True)
            self.process.kill()
            await self.process.wait()


async def consumer_process(spec: dict[str, Any]) -> int:
    """Entry of the `--split` child: run a ConsumerSide and report to the parent."""

    def say(event: str, **fields: Any) -> None:
        sys.stdout.write(_CHILD_PREFIX + json.dumps({"event": event, **fields}) + "\n")
        sys.stdout.flush()

    deadline = Deadline(spec.pop("timeout"))
    side = ConsumerSide(**spec)
    try:
        await side.start(deadline)
        say("started")
        await side.wait_warm(deadline)
        say("warm")
        await side.wait_done(deadline)
        say("done", commit_times=side.commit_times, batch_sizes=side.batch_sizes, batch_seconds=side.batch_seconds)
        return 0
    except Exception as error:
        say("failed", error=repr(error))
        return 1
    finally:
        await side.stop()


async def full_path(config: StackConfig, args: argparse.Namespace, mode: str, deadline: Deadline) -> Result:
    events = args.events if mode == "throughput" else round(args.rate * args.seconds)
    producer_url = await migrated_database(config, "bench_producer")
    consumer_url = await migrated_database(config, "bench_consumer")
    connection = await asyncpg.connect(consumer_url)
    try:
        await connection.execute(EFFECTS_TABLE)
    finally:
        await connection.close()
    topic = await new_topic(config, "full", deadline, partitions=PARTITIONS)

    spec = dict(
        bootstrap=config.kafka_bootstrap,
        topic=topic,
        database_url=consumer_url,
        events=events,
        max_batch=args.consumer_max_batch,
        batch_timeout_ms=args.consumer_batch_timeout_ms,
        pool_max=args.pool_max,
    )
    consumer_side: ConsumerSide | ChildConsumerSide = ChildConsumerSide(**spec) if args.split else ConsumerSide(**spec)
    producer_pool: asyncpg.Pool | None = None
    relay: OutboxRelay | None = None
    try:
        await consumer_side.start(deadline)
        # Connections opened up front (SCRAM authentication is slow): writers + the relay's.
        producer_pool = await create_pool(producer_url, min_size=args.writers + 2, max_size=args.writers + 2)
        relay = OutboxRelay(
            pool=producer_pool,
            database_url=producer_url,
            bootstrap_servers=config.kafka_bootstrap,
            service="bench",
            batch_size=args.outbox_batch_size,
            poll_seconds=args.outbox_poll_seconds,
        )
        await relay.start()
        pool = producer_pool

        async def write(first: int, count: int) -> None:
            """One transaction with `count` events, as a service's request handler would write them."""
            async with pool.acquire() as connection, connection.transaction():
                envelopes = [
                    new_envelope(
                        source="/wse/bench",
                        type=EVENT_TYPE,
                        subject=f"agg-{seq % AGGREGATES}",
                        data={"seq": seq, "aggregate": f"agg-{seq % AGGREGATES}", "written_at": time.time()},
                        correlation_id="bench",
                    )
                    for seq in range(first, first + count)
                ]
                await add_all_to_outbox(connection, envelopes, topic=topic)

        # Warm-up: relay leading with its producer started, consumer group joined; not measured.
        await write(-WARMUP_EVENTS, WARMUP_EVENTS)
        await consumer_side.wait_warm(deadline)

        started = time.time()
        details: dict[str, Any] = {"consumer_in": "a child process" if args.split else "this process"}
        if mode == "throughput":
            cursor = 0

            async def writer() -> None:
                nonlocal cursor
                while cursor < events:
                    first = cursor
                    cursor += args.tx_size
                    await write(first, min(args.tx_size, events - first))

            async with asyncio.timeout(deadline.left()), asyncio.TaskGroup() as group:
                for _ in range(args.writers):
                    group.create_task(writer())
            written = time.time() - started
            details["write_seconds"] = round(written, 3)
            details["write_events_per_s"] = round(events / written, 1)
        else:
            details.update(await paced(events, args.rate, args.steady_group, write, deadline, max_in_flight=args.writers * 8))
        await consumer_side.wait_done(deadline)

        # Every measured event has exactly one effect row; read them back for the latencies.
        connection = await asyncpg.connect(consumer_url)
        try:
            rows = await connection.fetch("SELECT seq, written_at, handled_at, batch FROM bench_effects WHERE seq >= 0")
        finally:
            await connection.close()
        if len(rows) != events or len({r["seq"] for r in rows}) != events:
            raise RuntimeError(f"full path: expected {events} distinct effects, found {len(rows)}")
        commit_times = consumer_side.commit_times
        to_commit = [commit_times[r["batch"]] - r["written_at"] for r in rows]
        to_handling = [r["handled_at"] - r["written_at"] for r in rows]
        finished = max(commit_times[r["batch"]] for r in rows)
        details["handled_latency"] = summary_ms(to_handling)
        batches = consumer_side.batch_sizes
        details["consumer_batches"] = len(batches)
        details["consumer_mean_batch"] = round(sum(batches) / len(batches), 1) if batches else 0
        # Time in handle_batch (database work) against the time between batches (poll, ack, loop).
        details["consumer_batch_handling"] = summary_ms(consumer_side.batch_seconds)
        busy = sum(consumer_side.batch_seconds)
        details["consumer_busy_share"] = round(busy / (finished - started), 2) if finished > started else None

        # Where the time goes: outbox write -> relay marked it published (after Kafka's ack).
        async with producer_pool.acquire() as connection:
            for _ in range(100):  # the relay marks a batch after the consumer may already have it
                if not await connection.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"):
                    break
                await asyncio.sleep(0.1)
            published = await connection.fetch(
                """
                SELECT (convert_from(value, 'UTF8')::jsonb ->> 'written_at')::float8 AS written_at,
                       extract(epoch FROM published_at)::float8 AS published_at
                FROM outbox WHERE published_at IS NOT NULL AND (convert_from(value, 'UTF8')::jsonb ->> 'seq')::int >= 0
                """
            )
        if published:
            details["write_to_published_latency"] = summary_ms([r["published_at"] - r["written_at"] for r in published])
            details["last_published_after_s"] = round(max(r["published_at"] for r in published) - started, 3)
        return make_result("full", mode, events, started, finished, to_commit, **details)
    finally:
        # Stop taking work first, then flush, then the pools (as ServiceRuntime.stop does).
        await consumer_side.stop()
        if relay is not None:
            await quietly("the outbox relay", relay.stop())
        if producer_pool is not None:
            await quietly("the producer pool", producer_pool.close())


# -- the run ------------------------------------------------------------------------------------


def code_measured() -> dict[str, Any]:
    """Which code was measured: where service_runtime came from, the commit, and uncommitted changes to the runtime or contracts."""
    state = code_state("runtime", "contracts")
    return {"runtime_from": str(Path(service_runtime.__file__).parent), **state} if state else {}


def table(results: list[Result]) -> str:
    header = f"{'path':<10} {'mode':<11} {'events':>7} {'events/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(f"{r.path:<10} {r.mode:<11} {r.events:>7} {r.events_per_s:>10.1f} {r.p50_ms:>8.1f} {r.p99_ms:>8.1f} {r.max_ms:>8.1f}")
    return "\n".join(lines)


def verdicts(results: list[Result], args: argparse.Namespace) -> list[dict[str, Any]]:
    found = []
    for r in results:
        if r.path == "full" and r.mode == "throughput":
            found.append(
                {
                    "target": f"full path throughput >= {TARGET_THROUGHPUT:.0f} events/s",
                    "measured": r.events_per_s,
                    "met": r.events_per_s >= TARGET_THROUGHPUT,
                    "margin": f"{(r.events_per_s / TARGET_THROUGHPUT - 1) * 100:+.0f}%",
                }
            )
        if r.path == "full" and r.mode == "steady":
            offered = r.details.get("offered_events_per_s", 0.0)
            at_rate = offered >= 0.95 * TARGET_RATE  # the writers kept (nearly) to the schedule
            if args.rate < 0.95 * TARGET_RATE:
                why = f"; run at --rate {args.rate:.0f}, not at the target's rate"
            elif not at_rate:
                why = f"; writers offered only {offered:.0f} events/s"
            else:
                why = ""
            found.append(
                {
                    "target": f"full path p99 <= {TARGET_P99_MS:.0f} ms at a steady {TARGET_RATE:.0f} events/s",
                    "measured": r.p99_ms,
                    "offered_events_per_s": offered,
                    "met": r.p99_ms <= TARGET_P99_MS and at_rate,
                    "margin": f"{(r.p99_ms / TARGET_P99_MS - 1) * 100:+.0f}%{why}",
                }
            )
    return found


async def bench(config: StackConfig, args: argparse.Namespace, results: list[Result], deadline: Deadline) -> None:
    plan = [(path, mode) for mode in args.modes for path in args.paths]
    for path, mode in plan:
        print(f"-> {path} / {mode} ...", flush=True)
        measure = raw_kafka if path == "raw" else full_path
        result = await measure(config, args, mode, deadline)
        results.append(result)
        print(f"   {result.events} events, {result.events_per_s:.1f} events/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms", flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    defaults = ServiceSettings()
    parser = argparse.ArgumentParser(prog="./dev bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000, help="events in each throughput run (default 20000)")
    parser.add_argument("--rate", type=float, default=1_000.0, help="events/s of the steady runs (default 1000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the steady runs (default 10)")
    parser.add_argument("--writers", type=int, default=4, help="concurrent outbox writers / pool connections (default 4)")
    parser.add_argument("--tx-size", type=int, default=100, help="events per outbox transaction in the throughput run (default 100)")
    parser.add_argument(
        "--steady-group",
        type=int,
        default=10,
        help="events per transaction / send group in the steady runs, one group every group/rate s (default 10: one every 10 ms at 1000/s)",
    )
    parser.add_argument("--consumer-max-batch", type=int, default=defaults.consumer_max_batch, help="records per consumer batch (service default %(default)s)")
    parser.add_argument(
        "--consumer-batch-timeout-ms", type=int, default=defaults.consumer_batch_timeout_ms, help="consumer batch wait (service default %(default)s)"
    )
    parser.add_argument("--outbox-batch-size", type=int, default=defaults.outbox_batch_size, help="relay batch size (service default %(default)s)")
    parser.add_argument("--outbox-poll-seconds", type=float, default=defaults.outbox_poll_seconds, help="relay poll interval (service default %(default)s)")
    parser.add_argument("--pool-max", type=int, default=defaults.database_pool_max, help="consumer pool size (service default %(default)s)")
    parser.add_argument("--paths", default="raw,full", help="comma-separated: raw, full (default both)")
    parser.add_argument("--modes", default="throughput,steady", help="comma-separated: throughput, steady (default both)")
    parser.add_argument("--timeout", type=float, default=300.0, help="hard limit in seconds on the measuring part (default 300)")
    parser.add_argument("--log-level", default="WARNING", help="runtime/FastStream log level (default WARNING; services run INFO)")
    parser.add_argument("--split", action="store_true", help="run the full path's consumer side in a child process (default: all in one process)")
    parser.add_argument("--fresh", action="store_true", help="wipe the bench stack's state (.run/bench) before starting")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "latest.json", help="where the JSON goes")
    args = parser.parse_args(argv)
    args.paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not set(args.paths) <= {"raw", "full"} or not set(args.modes) <= {"throughput", "steady"}:
        parser.error("--paths takes raw,full and --modes takes throughput,steady")
    for name in ("events", "rate", "seconds", "writers", "tx_size", "steady_group", "timeout"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--consumer-process"]:  # the child of --split; not for people
        configure_logging(service="bench-consumer", level="WARNING", json=False)
        return asyncio.run(consumer_process(json.loads(argv[1])))
    args = parse_args(argv)
    configure_logging(service="bench", level=args.log_level, json=False)
    config = bench_config()
    results: list[Result] = []
    print(f"Benchmark stack '{config.name}' in {config.state_dir} (Kafka {config.kafka_bootstrap}, PostgreSQL 127.0.0.1:{config.postgres_port})", flush=True)
    if args.split:
        print("Note: writers and relay run in this process, the full path's consumer in a child process; the raw path runs in this process.", flush=True)
    else:
        print("Note: relay, consumer and writers all run in this ONE Python process (one asyncio loop).", flush=True)
    code = code_measured()
    if code:
        changed = f" + uncommitted changes to {', '.join(code['uncommitted'])}" if code["uncommitted"] else ""
        print(f"Code measured: commit {code['commit']}{changed}; service_runtime from {code['runtime_from']}", flush=True)
    with BenchStack(config, timeouts=(TimeoutError,), timed_out=lambda _: f"timed out after {args.timeout:.0f} s") as run:
        if args.fresh:
            shutil.rmtree(config.state_dir, ignore_errors=True)
        deadline = run.start(args.timeout)
        asyncio.run(asyncio.wait_for(bench(config, args, results, deadline), args.timeout))
    error = run.error

    print()
    topology = "full-path consumer in a child process" if args.split else "one process"
    print(f"Results ({len(results)} runs; {topology}; {os.cpu_count()} CPUs, shared with Kafka and PostgreSQL):")
    print(table(results))
    checks = verdicts(results, args)
    for check in checks:
        print(f"  {'MET   ' if check['met'] else 'MISSED'} {check['target']}: {check['measured']} ({check['margin']})")
    for r in results:
        if r.path == "full":
            d = r.details
            print(
                f"  full/{r.mode}: handled (clock_timestamp) p50 {d['handled_latency']['p50_ms']} ms p99 {d['handled_latency']['p99_ms']} ms; "
                f"write->published p50 {d.get('write_to_published_latency', {}).get('p50_ms')} ms p99 {d.get('write_to_published_latency', {}).get('p99_ms')} ms; "
                f"{d['consumer_batches']} consumer batches (mean {d['consumer_mean_batch']} events, "
                f"handled in p50 {d['consumer_batch_handling']['p50_ms']} ms, busy {d['consumer_busy_share']:.0%} of the run)"
                + (f"; writes alone {d['write_events_per_s']} events/s" if "write_events_per_s" in d else "")
            )
    if error:
        print(f"\nIncomplete: {error}", file=sys.stderr)

    document = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", "bench/run.py", *argv]),
        "code": code,
        "one_process": not args.split,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "settings": settings_of(args),
        "latency_definitions": {
            "raw-kafka": "consumer receive time (getmany returned) minus the send time carried in the value",
            "full": "consumer batch transaction committed (effect row durable) minus the event's outbox write time "
            "carried in its data; details.handled_latency uses clock_timestamp() at the effect insert instead",
        },
        "results": [asdict(r) for r in results],
        "targets": checks,
        "error": error,
    }
    print()
    write_results(args.output, document)
    return 1 if error else 0


if __name__ == "__main__":
    sys.exit(main())
