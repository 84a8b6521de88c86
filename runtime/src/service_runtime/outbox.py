"""Transactional outbox.

`add_to_outbox` writes the event in the caller's transaction: it is published if and only if
the state change commits. `OutboxRelay` publishes committed rows in id order with an idempotent
producer (acks=all) and marks them only after Kafka acknowledged them, so a crash at any point
at most republishes (consumers deduplicate on the event id), and never loses or reorders.

Order per aggregate holds because only one relay per database publishes at a time (a session
advisory lock; other replicas stand by) and because a service writes one aggregate's events in
transactions serialised by a lock on that aggregate's row.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from prometheus_client import Counter, Gauge, Histogram

from service_runtime import tracing
from service_runtime.db import server_settings, service_of
from service_runtime.failpoints import failpoint
from service_runtime.logging import correlation_id_var
from wse_contracts import Envelope, Event, to_kafka_record
from wse_contracts.emails import EmailPersonalisation, email_request
from wse_contracts.notification import Recipient

log = structlog.get_logger(__name__)

# The event being handled, if any: events written while handling it name it as their cause.
causation_id_var: ContextVar[str | None] = ContextVar("causation_id", default=None)

_NOTIFY_CHANNEL = "wse_outbox"
_RELAY_LOCK_KEY = 7_341_002

OUTBOX_PUBLISHED = Counter("outbox_published_total", "Events the relay published to Kafka.", ["service"])
OUTBOX_PENDING = Gauge("outbox_pending", "Outbox rows not yet published (as last seen by the relay).", ["service"])
OUTBOX_PUBLISH_SECONDS = Histogram("outbox_publish_batch_seconds", "Time to publish one relay batch and mark it.", ["service"])
OUTBOX_ERRORS = Counter("outbox_publish_errors_total", "Relay batches that failed and will be retried.", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "outbox_oldest_pending_age_seconds",
    "How long the oldest unpublished outbox row has waited, as last seen by the publishing relay (0: none).",
    ["service"],
)


class NotInTransaction(RuntimeError):
    pass


_INSERT_OUTBOX = "INSERT INTO outbox (topic, key, value, headers, event_id, event_type) VALUES ($1, $2, $3, $4, $5, $6)"


def _outbox_row(envelope: Envelope, topic: str) -> tuple[Any, ...]:
    record = to_kafka_record(envelope, topic=topic)
    headers = [[name, value.decode()] for name, value in record.headers]
    return (record.topic, record.key, record.value, headers, envelope.id, envelope.type)


def _require_transaction(connection: asyncpg.Connection) -> None:
    if not connection.is_in_transaction():
        # Outside a transaction the row would commit on its own, whatever happens to the
        # state change it announces.
        raise NotInTransaction("the outbox is written inside the transaction of the state change")


async def add_to_outbox(connection: asyncpg.Connection, envelope: Envelope, *, topic: str) -> Envelope:
    _require_transaction(connection)
    # One round trip: the row, and a notification that is delivered at commit only and wakes
    # the relay instead of waiting for its next poll.
    await connection.execute(f"WITH added AS ({_INSERT_OUTBOX}) SELECT pg_notify($7, '')", *_outbox_row(envelope, topic), _NOTIFY_CHANNEL)
    return envelope


async def add_all_to_outbox(connection: asyncpg.Connection, envelopes: list[Envelope], *, topic: str) -> list[Envelope]:
    """Several events of one transaction, in their order, in one pipelined round trip."""
    _require_transaction(connection)
    if envelopes:
        await connection.executemany(_INSERT_OUTBOX, [_outbox_row(envelope, topic) for envelope in envelopes])
        await connection.execute("SELECT pg_notify($1, '')", _NOTIFY_CHANNEL)
    return envelopes


async def publish_event(
    connection: asyncpg.Connection,
    event: Event,
    *,
    source: str | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> Envelope:
    """Record `event` for publication, in the caller's transaction.

    The source is the service whose database this is (`/wse/<service>`, from the connection).
    The correlation id defaults to the one of the request or event being handled, and the
    causation id to the event being handled, so a chain of events can be followed in the logs.
    When tracing is on, the event carries the current span's trace context (ce_traceparent).
    """
    traceparent, tracestate = tracing.current_trace_context() if tracing.enabled else (None, None)
    envelope = event.to_envelope(
        source=source or event_source(connection),
        correlation_id=correlation_id or correlation_id_var.get() or "none",
        causation_id=causation_id or causation_id_var.get(),
        traceparent=traceparent,
        tracestate=tracestate,
    )
    return await add_to_outbox(connection, envelope, topic=event.topic)


async def send_email(connection: asyncpg.Connection, email: EmailPersonalisation, *, to: Mapping[str, Any], reference: str, key: str) -> None:
    """Asks the notification service for this email (`to`: a contact with `email` and `name`), in
    the caller's transaction, through the outbox; `key` makes a repeated request a no-op there.
    The requesting service is the connection's."""
    recipient = Recipient(email=to["email"], name=to.get("name"))
    await publish_event(
        connection, email_request(email, to=[recipient], reference=reference, idempotency_key=key, requested_by=event_source(connection).removeprefix("/wse/"))
    )


def event_source(connection: asyncpg.Connection) -> str:
    """CloudEvents `source` of what this service publishes: `/wse/<service>`."""
    service = service_of(connection)
    if service is None:
        raise RuntimeError("this connection belongs to no service: open it with service_runtime.db.create_pool/connect(service=...)")
    return f"/wse/{service}"


def _producer(bootstrap_servers: str, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,  # implies acks=all; no duplicates from the producer's own retries
        acks="all",
        linger_ms=2,
        max_batch_size=256 * 1024,
        request_timeout_ms=15_000,
    )


class OutboxRelay:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        database_url: str,
        bootstrap_servers: str,
        service: str,
        batch_size: int = 1000,
        poll_seconds: float = 0.5,
    ) -> None:
        self._pool = pool
        self._database_url = database_url
        self._bootstrap_servers = bootstrap_servers
        self._service = service
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.is_leader = False
        # Export the series from the start, not only after the first batch.
        OUTBOX_PENDING.labels(service)
        OUTBOX_PUBLISHED.labels(service)
        OUTBOX_OLDEST_AGE.labels(service)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"{self._service}-outbox-relay")

    async def stop(self) -> None:
        """Finish the batch in flight, then stop."""
        self._stopping = True
        self._wake.set()
        if self._task:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        backoff = 0.2
        while not self._stopping:
            try:
                await self._lead_and_relay()
                backoff = 0.2
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("outbox relay lost its database connection, retrying", error=str(error))
            except Exception:
                log.exception("outbox relay failed, retrying")
            self.is_leader = False
            if not self._stopping:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _lead_and_relay(self) -> None:
        leader = await asyncpg.connect(self._database_url, server_settings=server_settings(f"{self._service}-outbox-relay"))
        try:
            while not await leader.fetchval("SELECT pg_try_advisory_lock($1)", _RELAY_LOCK_KEY):
                if self._stopping:
                    return
                await asyncio.sleep(self._poll_seconds)
            self.is_leader = True
            log.info("outbox relay is the publishing replica")
            await leader.add_listener(_NOTIFY_CHANNEL, lambda *_: self._wake.set())
            producer = None
            try:
                while not self._stopping and not leader.is_closed():
                    if producer is None:
                        producer = _producer(self._bootstrap_servers, f"{self._service}-outbox-relay")
                        await producer.start()
                    # Cleared before reading: a commit notified while this batch is being
                    # published wakes the next round instead of being lost.
                    self._wake.clear()
                    try:
                        published = await self._relay_batch(producer)
                    except asyncpg.PostgresError:
                        raise
                    except Exception as error:
                        OUTBOX_ERRORS.labels(self._service).inc()
                        log.warning("outbox relay could not publish, will retry the same rows", error=repr(error))
                        with contextlib.suppress(Exception):
                            await producer.stop()
                        producer = None
                        await asyncio.sleep(1.0)
                        continue
                    if published < self._batch_size:
                        with contextlib.suppress(asyncio.TimeoutError):
                            await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
            finally:
                if producer is not None:
                    with contextlib.suppress(Exception):
                        await producer.stop()
        finally:
            self.is_leader = False
            with contextlib.suppress(Exception):
                await leader.close()

    async def _relay_batch(self, producer: AIOKafkaProducer) -> int:
        async with self._pool.acquire() as connection:
            # The oldest row's age comes with the rows (the first, in id order): no query of its own.
            rows = await connection.fetch(
                "SELECT id, topic, key, value, headers, extract(epoch FROM now() - created_at)::float8 AS age_seconds "
                "FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1",
                self._batch_size,
            )
            if not rows:
                OUTBOX_PENDING.labels(self._service).set(0)
                OUTBOX_OLDEST_AGE.labels(self._service).set(0)
                return 0
            # Set before publishing: while Kafka refuses the batch, every retry reads it again and the age grows.
            OUTBOX_OLDEST_AGE.labels(self._service).set(max(rows[0]["age_seconds"], 0.0))
            with OUTBOX_PUBLISH_SECONDS.labels(self._service).time():
                failpoint("relay.before_publish")
                spans = self._publish_spans(rows) if tracing.enabled else []
                sends = []
                for row in rows:
                    sends.append(
                        await producer.send(
                            row["topic"],
                            value=row["value"],
                            key=row["key"],
                            headers=[(name, value.encode()) for name, value in row["headers"]],
                        )
                    )
                try:
                    await asyncio.gather(*sends)
                except Exception as error:
                    for span in spans:
                        tracing.end_span(span, error=type(error).__name__)
                    raise
                for span in spans:
                    tracing.end_span(span)
                failpoint("relay.after_publish")
                await connection.execute("UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", [row["id"] for row in rows])
            OUTBOX_PUBLISHED.labels(self._service).inc(len(rows))
            OUTBOX_PENDING.labels(self._service).set(len(rows) if len(rows) == self._batch_size else 0)
            if len(rows) < self._batch_size:
                OUTBOX_OLDEST_AGE.labels(self._service).set(0)  # all published (a full batch: the next round reads on)
            return len(rows)

    def _publish_spans(self, rows: list[asyncpg.Record]) -> list[Any]:
        """A producer span per traced row, continuing the trace the event was written in (its
        ce_traceparent), from the send until Kafka acknowledged it. The record keeps the writer's
        traceparent, as the CloudEvents extension asks: consumers continue the writer's trace."""
        spans = []
        for row in rows:
            headers = dict(row["headers"])
            if parent := headers.get("ce_traceparent"):
                spans.append(
                    tracing.start_span(
                        f"send {row['topic']}",
                        kind=tracing.PRODUCER,
                        parent=parent,
                        tracestate=headers.get("ce_tracestate"),
                        attributes={
                            "messaging.system": "kafka",
                            "messaging.operation.type": "send",
                            "messaging.destination.name": row["topic"],
                            "messaging.message.id": headers.get("ce_id", ""),
                            "cloudevents.event_type": headers.get("ce_type", ""),
                            "wse.service": self._service,
                        },
                    )
                )
        return spans


async def ensure_topics(bootstrap_servers: str, topics: dict[str, int], *, replication_factor: int = 1) -> None:
    """Create the topics a service writes to, with their partition counts, if they are missing."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(name, num_partitions=n, replication_factor=replication_factor) for name, n in topics.items() if name not in existing]
        if missing:
            with contextlib.suppress(Exception):  # another replica may create them at the same moment
                await admin.create_topics(missing)
    finally:
        await admin.close()
