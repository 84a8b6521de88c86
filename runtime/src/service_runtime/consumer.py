"""Idempotent consumers with bounded retries and a dead-letter topic.

A consumer is one Kafka consumer group. It reads records in batches and handles them in one
database transaction: for each record, the handler's effects and the (consumer, event id) inbox
row are written together in a savepoint; the transaction commits; only then is the Kafka offset
committed. A crash anywhere before the offset commit means redelivery, and the inbox turns the
redelivered event into a no-op.

A handler that raises is retried with exponential backoff, a bounded number of times; then the
record is written to `dead_letters` and, through the outbox, to the service's dead-letter topic,
in the same transaction, and the partition moves on. A record that is not a CloudEvent at all
is dead-lettered at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog
from aiokafka import TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from prometheus_client import Counter, Gauge, Histogram

from service_runtime import tracing
from service_runtime.clock import Clock, SystemClock, handlers_on
from service_runtime.failpoints import failpoint
from service_runtime.logging import correlation_id_var
from service_runtime.outbox import add_to_outbox, causation_id_var
from wse_contracts import Envelope, new_envelope
from wse_contracts.kafka_binding import MalformedRecord, from_kafka_record
from wse_contracts.topics import dead_letter_topic

log = structlog.get_logger(__name__)

EventHandler = Callable[[asyncpg.Connection, Envelope], Awaitable[None]]
# Handles consecutive events of one type together (one INSERT ... SELECT unnest, say). A batch
# handler that publishes events passes each one's correlation and causation ids itself.
BatchEventHandler = Callable[[asyncpg.Connection, list[Envelope]], Awaitable[None]]

CONSUMED = Counter(
    "consumer_events_total",
    "Events seen by a consumer, by outcome (processed, duplicate, ignored, retried, dead_lettered).",
    ["consumer", "outcome"],
)
BATCH_SECONDS = Histogram("consumer_batch_seconds", "Time to handle one batch and commit it.", ["consumer"])
BATCH_FAILURES = Counter("consumer_batch_failures_total", "Batches rolled back and re-read.", ["consumer"])
# Per partition this replica is assigned: the partition's end (highwater, as of the last fetch)
# minus the offset this consumer has handled up to. Partitions the group moved to another
# replica are removed from this replica's series, so a sum over replicas counts each once.
LAG = Gauge("consumer_lag", "Records not yet handled, by consumer group, topic and partition (this replica's assignment).", ["consumer", "topic", "partition"])

DEAD_LETTER_EVENT_TYPE = "be.vlaanderen.wse.runtime.dead_letter.v1"

_NO_SPAN = contextlib.nullcontext()  # reusable: what an untraced event gets, at no cost

# While a batch handler runs with tracing on: each traced event's id -> the traceparent of the span
# that processes it (trace_context_of_event).
_batch_trace_contexts: ContextVar[dict[str, str] | None] = ContextVar("batch_trace_contexts", default=None)


def trace_context_of_event(envelope: Envelope) -> str | None:
    """The traceparent that work caused by this event continues (a batch handler storing a row
    that is acted on later, an email): the span processing it, else the event's own; None when
    tracing is off or the event was not traced."""
    if not tracing.enabled:
        return None
    contexts = _batch_trace_contexts.get()
    # The span processing it; on the one-at-a-time path, the current span (that event's own).
    return (contexts or {}).get(envelope.id) or tracing.current_trace_context()[0] or envelope.traceparent


# Not the event's fault: the batch is rolled back and read again, never dead-lettered.
CONNECTION_LOST = (asyncpg.InterfaceError, asyncpg.exceptions.ConnectionDoesNotExistError, OSError)


@dataclass
class Consumer:
    """What a service declares: a name (its consumer group), topics, and a handler per event type.

    Event types a consumer has no handler for are skipped: a topic carries several types and a
    consumer cares about some of them.
    """

    name: str
    topics: list[str]
    handlers: dict[str, EventHandler] = field(default_factory=dict)
    batch_handlers: dict[str, BatchEventHandler] = field(default_factory=dict)
    description: str = ""
    max_attempts: int | None = None  # None: the service's setting

    def handler_for(self, event_type: str) -> EventHandler | None:
        """One event at a time (the careful path, replays): a batch handler gets a list of one."""
        if handler := self.handlers.get(event_type):
            return handler
        if batch_handler := self.batch_handlers.get(event_type):
            return lambda connection, envelope: batch_handler(connection, [envelope])
        return None


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    initial_seconds: float = 0.2
    max_seconds: float = 5.0
    # Backoff sleeps of one batch together stay well under Kafka's max.poll.interval (300 s), or
    # the consumer would be evicted mid-batch; once spent, a failing event is dead-lettered at once.
    batch_budget_seconds: float = 60.0

    def delay(self, attempt: int) -> float:
        return min(self.initial_seconds * (2 ** (attempt - 1)), self.max_seconds)


class _Record:
    """The parts of an aiokafka ConsumerRecord this module uses."""

    __slots__ = ("topic", "partition", "offset", "key", "value", "headers")

    def __init__(self, raw: Any) -> None:
        self.topic, self.partition, self.offset = raw.topic, raw.partition, raw.offset
        self.key, self.value, self.headers = raw.key, raw.value, list(raw.headers or ())


class ConsumerRunner:
    def __init__(
        self,
        *,
        consumer: Consumer,
        service: str,
        pool: asyncpg.Pool,
        retry: RetryPolicy,
        clock: Clock | None = None,
        group_prefix: str = "",
    ) -> None:
        self.consumer = consumer
        self.service = service
        self.group_id = f"{group_prefix}{service}.{consumer.name}"
        self._pool = pool
        self._retry = retry
        self._clock = clock or SystemClock()
        self._pending_commit: asyncio.Task[None] | None = None
        self._retry_budget_ends = 0.0
        self._positions: dict[TopicPartition, int] = {}  # the next offset to handle, per partition handled here
        # Exported at 0 from the start: the first dead letter is an increase Prometheus can see.
        CONSUMED.labels(self.group_id, "dead_lettered")
        BATCH_FAILURES.labels(self.group_id)

    def subscribe(
        self,
        broker: KafkaBroker,
        *,
        max_records: int,
        batch_timeout_ms: int,
        session_timeout_ms: int = 10_000,
        heartbeat_interval_ms: int = 3_000,
    ) -> None:
        subscriber = broker.subscriber(
            *self.consumer.topics,
            group_id=self.group_id,
            batch=True,
            max_records=max_records,
            batch_timeout_ms=batch_timeout_ms,
            session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=heartbeat_interval_ms,
            ack_policy=AckPolicy.MANUAL,  # offsets are committed after the database commit, never before
            auto_offset_reset="earliest",
            title=self.group_id,
            description=self.consumer.description or None,
            decoder=_keep_raw,
        )

        @subscriber
        async def handle(message: KafkaMessage) -> None:
            records = message.raw_message if isinstance(message.raw_message, tuple) else (message.raw_message,)
            if not records:
                return
            try:
                await self.handle_batch([_Record(r) for r in records])
            except Exception:
                BATCH_FAILURES.labels(self.group_id).inc()
                self._observe_lag(message.consumer, {})  # stuck on this batch: the lag still shows the highwater moving on
                log.exception("batch rolled back, will be read again", consumer=self.group_id)
                await message.nack()  # seek back to the first record of each partition
                await asyncio.sleep(self._retry.initial_seconds)
                return
            offsets: dict[TopicPartition, int] = {}
            for record in records:
                partition = TopicPartition(record.topic, record.partition)
                offsets[partition] = max(offsets.get(partition, 0), record.offset + 1)
            self._observe_lag(message.consumer, offsets)
            commit = self._commit_after(self._pending_commit, message.consumer, offsets)
            if subscriber.running:
                # The offset commit is a broker round trip (the group coordinator writes it to its
                # log): let it run while the next batch is fetched and handled. It only ever
                # follows the database commit; a crash before it completes means redelivery,
                # which the inbox turns into a no-op.
                self._pending_commit = asyncio.create_task(commit)
            else:
                self._pending_commit = None
                await commit  # shutting down: the last batch's offsets go out before the consumer stops

    def _observe_lag(self, kafka_consumer: Any, offsets: dict[TopicPartition, int]) -> None:
        """consumer_lag for the partitions assigned here: the highwater the last fetch saw minus
        the next offset to handle. Cheap: both are in the client's memory, no broker round trip."""
        self._positions.update(offsets)
        try:
            assigned = set(kafka_consumer.assignment())
        except Exception:
            return
        for partition in list(self._positions):
            if partition not in assigned:  # rebalanced away: another replica reports it now
                del self._positions[partition]
                with contextlib.suppress(KeyError):
                    LAG.remove(self.group_id, partition.topic, str(partition.partition))
        for partition, position in self._positions.items():
            highwater = kafka_consumer.highwater(partition)
            if highwater is not None:
                LAG.labels(self.group_id, partition.topic, str(partition.partition)).set(max(highwater - position, 0))

    async def _commit_after(self, previous: asyncio.Task[None] | None, kafka_consumer: Any, offsets: dict[TopicPartition, int]) -> None:
        if previous is not None:
            with contextlib.suppress(Exception):
                await previous  # never let an older commit land after a newer one
        try:
            await kafka_consumer.commit(offsets)
        except Exception as error:
            log.warning("offset commit failed, the batch will be redelivered", consumer=self.group_id, error=repr(error))

    async def handle_batch(self, records: list[_Record]) -> None:
        """The whole batch in one transaction. First the fast way: the inbox rows in one
        statement and the handlers without savepoints. If anything in it fails, that transaction
        is rolled back and the batch is done again the careful way: a savepoint, retries and,
        at worst, a dead letter per event."""
        self._retry_budget_ends = time.monotonic() + self._retry.batch_budget_seconds
        started = time.perf_counter()
        with handlers_on(self._clock):  # handlers judge time by the runtime's clock
            await self._handle_batch_in_transaction(records)
        BATCH_SECONDS.labels(self.group_id).observe(time.perf_counter() - started)

    async def _handle_batch_in_transaction(self, records: list[_Record]) -> None:
        async with self._pool.acquire() as connection:
            try:
                async with connection.transaction():
                    outcomes = await self._handle_batch_fast(connection, records)
                for outcome, count in outcomes.items():  # counted once it committed
                    CONSUMED.labels(self.group_id, outcome).inc(count)
            except CONNECTION_LOST:
                raise
            except Exception as error:
                log.info("batch fell back to one event at a time", consumer=self.group_id, error=repr(error))
                async with connection.transaction():
                    for record in records:
                        await self._handle_record(connection, record)
            failpoint("consumer.after_db_commit")

    async def _handle_batch_fast(self, connection: asyncpg.Connection, records: list[_Record]) -> dict[str, int]:
        """Handles the batch; returns how many events had each outcome."""
        known = self.consumer.handlers.keys() | self.consumer.batch_handlers.keys()
        envelopes: list[Envelope] = []
        for record in records:
            envelope = from_kafka_record(record.headers, record.value)  # MalformedRecord: careful path
            if envelope.type in known:
                envelopes.append(envelope)
        if not envelopes:
            return {"ignored": len(records)}
        first_time = {
            row["event_id"]
            for row in await connection.fetch(
                "INSERT INTO inbox (consumer, event_id, event_type) SELECT $1, e, t FROM unnest($2::text[], $3::text[]) AS x(e, t) "
                "ON CONFLICT DO NOTHING RETURNING event_id",
                self.group_id,
                [envelope.id for envelope in envelopes],
                [envelope.type for envelope in envelopes],
            )
        }
        todo = []
        for envelope in envelopes:
            if envelope.id in first_time:
                first_time.discard(envelope.id)  # the same event twice in one batch: once
                todo.append(envelope)
        failpoint("consumer.in_handler")
        # Consecutive events of a type with a batch handler go together; order is kept.
        for event_type, group in itertools.groupby(todo, key=lambda envelope: envelope.type):
            run = list(group)
            if batch_handler := self.consumer.batch_handlers.get(event_type):
                with (
                    structlog.contextvars.bound_contextvars(event_type=event_type, consumer=self.group_id, events=len(run)),
                    self._batch_spans(run),
                ):
                    await batch_handler(connection, run)
            else:
                for envelope in run:
                    await self._call(connection, envelope, self.consumer.handlers[event_type])
            log.debug("events handled", event_type=event_type, events=len(run), consumer=self.group_id)
        return {"ignored": len(records) - len(envelopes), "duplicate": len(envelopes) - len(todo), "processed": len(todo)}

    async def _call(self, connection: asyncpg.Connection, envelope: Envelope, handler: EventHandler) -> None:
        with self._about(envelope), self._span(envelope):
            await handler(connection, envelope)
            log.debug("event handled", outcome="processed")

    def _span_of(self, envelope: Envelope) -> dict[str, Any]:
        """The consumer's span for one event: its name, and its parent the span that wrote the event."""
        return {
            "name": f"process {envelope.type}",
            "kind": tracing.CONSUMER,
            "parent": envelope.traceparent,
            "tracestate": envelope.tracestate,
            "attributes": {
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.consumer.group.name": self.group_id,
                "messaging.message.id": envelope.id,
                "cloudevents.event_type": envelope.type,
                "wse.correlation_id": envelope.correlationid,
            },
        }

    def _span(self, envelope: Envelope) -> contextlib.AbstractContextManager[Any]:
        """The consumer's span for one event, continuing the trace the event was written in; the
        current span while its handler runs, so what the handler publishes continues it too.
        Untraced (tracing off, or an event written without it): a shared no-op, nothing made."""
        if not tracing.enabled or not envelope.traceparent:
            return _NO_SPAN
        return tracing.span(**self._span_of(envelope))

    def _batch_spans(self, run: list[Envelope]) -> contextlib.AbstractContextManager[Any]:
        if not tracing.enabled:
            return _NO_SPAN
        traced = [envelope for envelope in run if envelope.traceparent]
        return self._traced_batch(run, traced) if traced else _NO_SPAN

    @contextlib.contextmanager
    def _traced_batch(self, run: list[Envelope], traced: list[Envelope]) -> Iterator[None]:
        """A batch handler's events: one span each, all open while the handler runs. A run of one
        event makes its span current (what the handler publishes continues it); otherwise the
        handler asks for an event's context with trace_context_of_event."""
        if len(run) == 1:
            with self._span(run[0]):
                token = _batch_trace_contexts.set({run[0].id: tracing.current_trace_context()[0] or ""})
                try:
                    yield
                finally:
                    _batch_trace_contexts.reset(token)
            return
        spans = {envelope.id: tracing.start_span(**self._span_of(envelope)) for envelope in traced}
        token = _batch_trace_contexts.set({event_id: tracing.trace_context_of(span) or "" for event_id, span in spans.items()})
        error: str | None = None
        try:
            yield
        except BaseException as exception:
            error = type(exception).__name__  # never the message: it may quote personal data
            raise
        finally:
            _batch_trace_contexts.reset(token)
            for span in spans.values():
                tracing.end_span(span, error=error, attributes={"messaging.batch.message_count": len(run)})

    @contextlib.contextmanager
    def _about(self, envelope: Envelope) -> Iterator[None]:
        """The event's correlation id in the logs, and in the events the handler publishes."""
        correlation_token = correlation_id_var.set(envelope.correlationid)
        causation_token = causation_id_var.set(envelope.id)
        try:
            with structlog.contextvars.bound_contextvars(
                correlation_id=envelope.correlationid, event_id=envelope.id, event_type=envelope.type, consumer=self.group_id
            ):
                yield
        finally:
            correlation_id_var.reset(correlation_token)
            causation_id_var.reset(causation_token)

    async def _handle_record(self, connection: asyncpg.Connection, record: _Record) -> None:
        try:
            envelope = from_kafka_record(record.headers, record.value)
        except MalformedRecord as error:
            await self._dead_letter(connection, record, None, f"malformed record: {error}", attempts=0)
            return
        handler = self.consumer.handler_for(envelope.type)
        if handler is None:
            CONSUMED.labels(self.group_id, "ignored").inc()
            return
        with self._about(envelope), self._span(envelope):
            await self._handle_with_retries(connection, record, envelope, handler)

    async def _handle_with_retries(self, connection: asyncpg.Connection, record: _Record, envelope: Envelope, handler: EventHandler) -> None:
        max_attempts = self.consumer.max_attempts or self._retry.max_attempts
        for attempt in range(1, max_attempts + 1):
            try:
                first_time = await self._apply_once(connection, envelope, handler)
                outcome = "processed" if first_time else "duplicate"
                CONSUMED.labels(self.group_id, outcome).inc()
                log.debug("event handled", outcome=outcome)
                return
            except CONNECTION_LOST:
                raise  # the connection is gone: the whole batch is re-read, not dead-lettered
            except Exception as error:
                if attempt == max_attempts or time.monotonic() >= self._retry_budget_ends:
                    log.error("handler failed for the last time, dead-lettering", attempts=attempt, error=repr(error))
                    await self._dead_letter(connection, record, envelope, repr(error), attempts=attempt)
                    return
                CONSUMED.labels(self.group_id, "retried").inc()
                delay = self._retry.delay(attempt)
                log.warning("handler failed, retrying", attempt=attempt, retry_in_seconds=delay, error=repr(error))
                await asyncio.sleep(delay)

    async def _apply_once(self, connection: asyncpg.Connection, envelope: Envelope, handler: EventHandler) -> bool:
        """The handler's effects and the inbox row, in one savepoint; False for a duplicate."""
        async with connection.transaction():  # a savepoint: a failure undoes this event only
            first_time = await connection.fetchval(
                "INSERT INTO inbox (consumer, event_id, event_type) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING true",
                self.group_id,
                envelope.id,
                envelope.type,
            )
            if not first_time:
                return False
            failpoint("consumer.in_handler")
            await handler(connection, envelope)
            return True

    async def replay(self, connection: asyncpg.Connection, record: _Record) -> str | None:
        """Handle a stored record once more (an operator's replay); the error, or None."""
        try:
            envelope = from_kafka_record(record.headers, record.value)
        except MalformedRecord as error:
            return f"malformed record: {error}"
        handler = self.consumer.handler_for(envelope.type)
        if handler is None:
            return f"no handler for {envelope.type}"
        try:
            with handlers_on(self._clock):
                async with connection.transaction():
                    await connection.execute("DELETE FROM inbox WHERE consumer = $1 AND event_id = $2", self.group_id, envelope.id)
                    await self._apply_once(connection, envelope, handler)
        except Exception as error:
            return repr(error)
        return None

    async def _dead_letter(
        self,
        connection: asyncpg.Connection,
        record: _Record,
        envelope: Envelope | None,
        error: str,
        *,
        attempts: int,
    ) -> None:
        headers = [[name, (value or b"").decode(errors="replace")] for name, value in record.headers]
        if envelope is not None:
            # Handled, as far as this consumer goes: a redelivery of the batch must not
            # dead-letter it again. A replay removes this row first.
            await connection.execute(
                "INSERT INTO inbox (consumer, event_id, event_type) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                self.group_id,
                envelope.id,
                envelope.type,
            )
        dead_letter_id = await connection.fetchval(
            """
            INSERT INTO dead_letters (consumer, topic, partition, "offset", key, value, headers, event_id, event_type, error, attempts)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id
            """,
            self.group_id,
            record.topic,
            record.partition,
            record.offset,
            record.key,
            record.value,
            headers,
            envelope.id if envelope else None,
            envelope.type if envelope else None,
            error,
            attempts,
        )
        # The dead-letter topic gets it through the outbox: it is there if and only if the
        # partition moved on past it.
        await add_to_outbox(
            connection,
            new_envelope(
                source=f"/wse/{self.service}",
                type=DEAD_LETTER_EVENT_TYPE,
                subject=envelope.subject if envelope else None,
                data={
                    "dead_letter_id": dead_letter_id,
                    "consumer": self.group_id,
                    "topic": record.topic,
                    "partition": record.partition,
                    "offset": record.offset,
                    "error": error,
                    "attempts": attempts,
                    "event": envelope.model_dump(mode="json") if envelope else None,
                    # The record as it came, within what one Kafka record may carry: the event
                    # above already holds a readable record's data, so its value is left out, and
                    # a header longer than any real one is cut (the dead_letters row keeps all).
                    "headers": [[name, _cut(value, _MAX_DEAD_LETTER_HEADER)] for name, value in headers],
                    "value": _cut(record.value.decode(errors="replace"), _MAX_DEAD_LETTER_VALUE) if record.value and envelope is None else None,
                },
                correlation_id=envelope.correlationid if envelope else "none",
                causation_id=envelope.id if envelope else None,
                traceparent=envelope.traceparent if envelope else None,
                tracestate=envelope.tracestate if envelope else None,
            ),
            topic=dead_letter_topic(self.service),
        )
        CONSUMED.labels(self.group_id, "dead_lettered").inc()


_MAX_DEAD_LETTER_HEADER = 1_024
_MAX_DEAD_LETTER_VALUE = 256 * 1_024


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters in dead_letters)"


async def _keep_raw(message: Any) -> Any:
    # The handler reads the records itself (CloudEvents headers); skip FastStream's JSON decode.
    return None
