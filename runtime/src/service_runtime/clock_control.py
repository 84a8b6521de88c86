"""Moving an environment's clock, outside production (Stripe's test clocks are the model).

Every service whose settings say `ADJUSTABLE_CLOCK=true` (refused when `PLATFORM_ENVIRONMENT` is
production) runs on an `AdjustableClock` and follows the topic `platform.clock`: the latest
`ClockOffsetSetV1` on it is the environment's offset. Every replica reads the topic on its own
(no consumer group: each must see every change), so one event moves every running service
together, without a restart; a service that starts later reads the latest offset before it
serves anything. Due jobs then run as if the time had passed (the scheduler is woken), and
derived deadlines and the public register follow, since they are computed from `clock.now()`.

`python -m <service> clock show|advance 40d|set 3d|reset` and `./dev clock ...` write the event.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from service_runtime.clock import AdjustableClock, format_offset, parse_offset
from service_runtime.outbox import ensure_topics
from wse_contracts import from_kafka_record, to_kafka_record
from wse_contracts.platform import ClockOffsetSetV1

log = structlog.get_logger(__name__)

CLOCK_TOPIC = ClockOffsetSetV1.topic
_PARTITION = TopicPartition(CLOCK_TOPIC, 0)


def _offset_of(record: Any) -> timedelta | None:
    """The offset an aiokafka ConsumerRecord of the clock topic carries (None: not a clock event)."""
    try:
        envelope = from_kafka_record(record.headers, record.value)
        if envelope.type != ClockOffsetSetV1.event_type:
            return None
        event = ClockOffsetSetV1.model_validate(envelope.data)
    except ValueError as error:  # pydantic's ValidationError is one
        log.warning("ignored a malformed clock event", error=repr(error))
        return None
    return timedelta(seconds=event.offset_seconds)


async def latest_offset(bootstrap_servers: str) -> timedelta:
    """The environment's offset: the latest event on the topic (none: no offset)."""
    await ensure_topics(bootstrap_servers, {CLOCK_TOPIC: 1})
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([_PARTITION])
        end = (await consumer.end_offsets([_PARTITION]))[_PARTITION]
        if end == 0:
            return timedelta(0)
        consumer.seek(_PARTITION, end - 1)
        record = await asyncio.wait_for(consumer.getone(), 10)
        return _offset_of(record) or timedelta(0)
    finally:
        await consumer.stop()


async def set_offset(bootstrap_servers: str, offset: timedelta, *, set_by: str) -> timedelta:
    """Publish the environment's new offset; every adjustable service follows it."""
    await ensure_topics(bootstrap_servers, {CLOCK_TOPIC: 1})
    event = ClockOffsetSetV1(offset_seconds=offset.total_seconds(), set_by=set_by)
    record = to_kafka_record(event.to_envelope(source="/wse/platform", correlation_id=f"clock-{set_by}"), topic=CLOCK_TOPIC)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(record.topic, record.value, key=record.key, headers=record.headers, partition=0)
    finally:
        await producer.stop()
    log.info("clock offset set", offset=format_offset(offset), set_by=set_by)
    return offset


async def move_clock(bootstrap_servers: str, action: str, duration: str | None, *, set_by: str) -> timedelta:
    """show | advance DURATION | set DURATION | reset: the offset after the action."""
    current = await latest_offset(bootstrap_servers)
    if action == "show":
        return current
    if action == "reset":
        return await set_offset(bootstrap_servers, timedelta(0), set_by=set_by)
    if duration is None:
        raise ValueError(f"clock {action} needs a duration, like 40d, 8d12h, 90m or 3600s")
    step = parse_offset(duration)
    if action == "advance":
        return await set_offset(bootstrap_servers, current + step, set_by=set_by)
    if action == "set":
        return await set_offset(bootstrap_servers, step, set_by=set_by)
    raise ValueError(f"unknown clock action {action!r}: show, advance, set or reset")


class ClockFollower:
    """Keeps an AdjustableClock at the environment's offset, for one process."""

    def __init__(self, clock: AdjustableClock, *, bootstrap_servers: str, on_change: Callable[[], None] | None = None) -> None:
        self._clock = clock
        self._bootstrap_servers = bootstrap_servers
        self._on_change = on_change
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Read the latest offset before returning (a service never serves on the wrong time), then follow."""
        await ensure_topics(self._bootstrap_servers, {CLOCK_TOPIC: 1})
        consumer = self._consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap_servers, enable_auto_commit=False)
        await consumer.start()
        consumer.assign([_PARTITION])
        end = (await consumer.end_offsets([_PARTITION]))[_PARTITION]
        if end > 0:
            consumer.seek(_PARTITION, end - 1)
            self._apply(await asyncio.wait_for(consumer.getone(), 30))
        else:
            consumer.seek(_PARTITION, 0)
        self._task = asyncio.create_task(self._follow(consumer), name="clock-follower")

    def _apply(self, record: Any) -> None:
        offset = _offset_of(record)
        if offset is None or offset == self._clock.offset:
            return
        self._clock.set_offset(offset)
        log.warning("clock moved", clock_offset=format_offset(offset), now=self._clock.now().isoformat())
        if self._on_change:
            self._on_change()

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            try:
                self._apply(await consumer.getone())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("clock follower failed; retrying")
                await asyncio.sleep(1)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer:
            with contextlib.suppress(Exception):
                await self._consumer.stop()
