"""A replica killed under load, and how long its partitions wait: what the replica test
(tests/platform/test_replicas.py) and the benchmark (bench/replicas/run.py) share.

- `NotificationLoad`: a steady stream of notification requests on Kafka, as the domain services'
  outbox relays publish them; each causes consumer work (the request consumer's inbox row and
  notification), an email (the delivery loop) and an outcome event (the outbox relay).
- `assignment`: which partitions of a consumer group each replica holds, read from its
  `/metrics`: a replica reports `consumer_lag` for a partition once it has handled a batch of it,
  and drops the series when the group moves the partition away (service_runtime.consumer).
- `kill_and_measure`: SIGKILL the replica holding the most partitions, start a replacement at
  once (as an orchestrator would), and time from the kill until every partition the dead replica
  held has been handled again by a live replica: the rebalance time operators wait through.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from devstack import processes, stack
from devstack.config import StackConfig, replica_name
from service_runtime.outbox import ensure_topics
from wse_contracts.kafka_binding import to_kafka_record
from wse_contracts.notification import NotificationRequestedV1, Recipient
from wse_contracts.topics import topic

REQUESTS_TOPIC = NotificationRequestedV1.topic


async def start_group_at_end(bootstrap: str, group: str, name: str) -> int:
    """Create the topic if need be and commit `group`'s offsets at its current end, so replicas of
    a new group (a fresh consumer-group prefix) handle what is published from now on, not the
    topic's history. Returns the topic's partition count."""
    count = topic(name).partitions
    await ensure_topics(bootstrap, {name: count})
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(name, p) for p in range(count)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.commit({p: ends[p] for p in partitions})
    finally:
        await consumer.stop()
    return count


@dataclass
class NotificationLoad:
    """`rate` notification requests a second until `stop` is set; each to a recipient of its own
    (`<tag>-<n>@replicas.example`), with an idempotency key of its own."""

    bootstrap: str
    rate: float
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    requests: list[NotificationRequestedV1] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True)
        await producer.start()
        try:
            started = time.monotonic()
            while not self.stop.is_set():
                number = len(self.requests)
                request = NotificationRequestedV1(
                    template_id="registration.application_submitted",
                    recipients=[Recipient(email=f"{self.tag}-{number}@replicas.example", name="Contact Persoon")],
                    personalisation={
                        "dossier_number": number,
                        "training_name": "Lassen",
                        "organisation_name": "Centrum",
                        "decision_due_on": "2027-02-22",
                        "held_for_quality_registration": False,
                    },
                    reference=f"replicas-{self.tag}-{number}",
                    idempotency_key=f"{self.tag}-{number}",
                    requested_by="registration",
                )
                envelope = request.to_envelope(source="/wse/registration", correlation_id=f"replicas-{self.tag}")
                record = to_kafka_record(envelope, topic=request.topic)
                await producer.send_and_wait(record.topic, record.value, key=record.key, headers=record.headers)
                self.requests.append(request)
                self.event_ids.append(envelope.id)
                # Paced from the start (an open loop): a slow send does not lower the rate.
                wait = started + len(self.requests) / self.rate - time.monotonic()
                if wait > 0:
                    try:
                        await asyncio.wait_for(self.stop.wait(), wait)
                    except TimeoutError:
                        pass
        finally:
            await producer.stop()


async def assignment(client: httpx.AsyncClient, config: StackConfig, service: str, numbers: Iterable[int], group: str) -> dict[int, set[int]]:
    """Per replica that answers: the partitions of `group` it has handled and still holds."""
    held: dict[int, set[int]] = {}
    for number in numbers:
        try:
            response = await client.get(f"http://127.0.0.1:{config.replica_port(service, number)}/metrics", timeout=2)
        except httpx.HTTPError:
            continue
        if response.status_code != 200:
            continue
        partitions: set[int] = set()
        for family in text_string_to_metric_families(response.text):
            if family.name == "consumer_lag":
                partitions |= {int(s.labels["partition"]) for s in family.samples if s.labels.get("consumer") == group}
        held[number] = partitions
    return held


async def settled_assignment(
    client: httpx.AsyncClient, config: StackConfig, service: str, numbers: list[int], group: str, partitions: int, *, within_seconds: float = 120
) -> dict[int, set[int]]:
    """Waits until every one of `numbers` holds partitions of `group`, none twice, all of them."""
    deadline = time.monotonic() + within_seconds
    held: dict[int, set[int]] = {}
    while time.monotonic() < deadline:
        held = await assignment(client, config, service, numbers, group)
        sets = [held.get(n, set()) for n in numbers]
        if all(sets) and sum(len(s) for s in sets) == partitions and set().union(*sets) == set(range(partitions)):
            return held
        await asyncio.sleep(0.2)
    raise processes.StackError(f"the replicas {numbers} of {service} did not settle on the {partitions} partitions of {group}: {held}")


@dataclass(frozen=True)
class Kill:
    victim: int  # the replica's number
    pid: int | None
    partitions: frozenset[int]  # what it held
    killed_at: datetime
    rebalance_seconds: float  # from the SIGKILL until each of its partitions was handled again


async def kill_and_measure(
    client: httpx.AsyncClient,
    config: StackConfig,
    service: str,
    *,
    live: list[int],
    replacement: int | None,
    group: str,
    env: dict[str, str],
    partitions: int,
    within_seconds: float = 120,
) -> Kill:
    """SIGKILL the replica of `live` that holds the most partitions of `group`, start replica
    `replacement` (if given) without waiting for it, and measure until the dead replica's
    partitions are handled again by the others or the replacement (polled every 0.1 s)."""
    held = await settled_assignment(client, config, service, live, group, partitions)
    victim = max(live, key=lambda n: (len(held[n]), -n))
    theirs = frozenset(held[victim])
    others = [n for n in live if n != victim] + ([replacement] if replacement else [])
    killed_at = datetime.now(UTC)
    started = time.monotonic()
    pid = await asyncio.to_thread(stack.kill_replica, config, service, victim)
    if replacement:
        await asyncio.to_thread(stack.start_replica, config, service, replacement, env=env, wait=False)
    deadline = started + within_seconds
    while time.monotonic() < deadline:
        now_held = await assignment(client, config, service, others, group)
        if theirs <= set().union(*now_held.values()):
            return Kill(victim, pid, theirs, killed_at, time.monotonic() - started)
        await asyncio.sleep(0.1)
    raise processes.StackError(
        f"the partitions {sorted(theirs)} of {replica_name(service, victim)} were not consumed again within {within_seconds:.0f} s "
        f"of its SIGKILL; the others hold {await assignment(client, config, service, others, group)}"
    )
