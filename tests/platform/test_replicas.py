"""Replicas come and go under load (issue 15, item 6): two processes of the notification service
on the test stack's Kafka, PostgreSQL and mail sink, a steady stream of notification requests, due
scheduled jobs; one replica is SIGKILLed mid-run (the one holding the most partitions) and a new
one started at once, as an orchestrator would. At the end every request has its one notification,
inbox row and outcome event, every email is in the mail sink once (a second copy, with the same
Message-ID, only for an email the dead replica had claimed: the crash window of
notification.delivery), every scheduled job ran once, and the time from the kill until the dead
replica's partitions were consumed again is printed (bench/replicas measures it repeatedly)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from devstack import replicas
from devstack import stack as devstack
from notification.mime import MESSAGE_ID_DOMAIN
from service_runtime.housekeeping import HOUSEKEEPING_JOB
from service_runtime.scheduler import schedule_job
from tests.platform.helpers import connect, eventually, new_database, unique
from wse_contracts.notification import NotificationDeliveredV1

pytestmark = pytest.mark.slow

SERVICE = "notification"
RATE = 10.0  # requests a second: modest, the machine is shared with Kafka, PostgreSQL and the sink
JOBS = 40  # scheduled jobs, one due every half second from the start of the load
JOBS_AFTER_KILL = 20  # and one every quarter second from the kill on


async def test_a_replica_killed_under_load_loses_nothing_and_doubles_nothing(stack, record_property, capsys):
    database_url = await new_database(stack, "notification_replicas")
    prefix = unique("replicas") + "."  # consumer groups of this test alone
    group = f"{prefix}notification.requests"
    env = {
        "NOTIFICATION_DATABASE_URL": database_url,
        "NOTIFICATION_CONSUMER_GROUP_PREFIX": prefix,
        # A claimed email whose replica died is claimed again after its lease: short, so the test
        # sees the crash window's resend, long enough that a slow batch on a busy machine keeps it.
        "NOTIFICATION_DELIVERY_LEASE_SECONDS": "10",
        "NOTIFICATION_SCHEDULER_POLL_SECONDS": "0.2",
        "JWKS_URL": "http://127.0.0.1:9/unused",  # no tokens: the load arrives over Kafka
    }
    partitions = await replicas.start_group_at_end(stack.kafka_bootstrap, group, replicas.REQUESTS_TOPIC)
    sink = f"http://127.0.0.1:{stack.smtp_http_port}"
    async with httpx.AsyncClient(timeout=30) as client:
        before = max((m["id"] for m in (await client.get(f"{sink}/api/messages", params={"view": "envelope"})).json()), default=0)
        load = replicas.NotificationLoad(stack.kafka_bootstrap, RATE)
        producing: asyncio.Task[None] | None = None
        try:
            for number in (1, 2):
                devstack.start_replica(stack, SERVICE, number, env=env, wait=False)
            for number in (1, 2):
                await asyncio.to_thread(devstack.wait_replica, stack, SERVICE, number)
            connection = await connect(database_url)
            try:
                start = datetime.now(UTC)
                async with connection.transaction():
                    for i in range(JOBS):
                        await schedule_job(connection, job=HOUSEKEEPING_JOB, due_at=start + timedelta(seconds=i / 2), dedup_key=f"replicas-{i}")
                producing = asyncio.create_task(load.run())

                kill = await replicas.kill_and_measure(client, stack, SERVICE, live=[1, 2], replacement=3, group=group, env=env, partitions=partitions)
                assert kill.pid is not None and kill.partitions
                assert _dead(kill.pid), f"replica {kill.victim} (pid {kill.pid}) still runs after its SIGKILL"
                # Jobs that fall due while the group is still settling after the kill, whatever
                # the machine's speed made of the first ones (they may all have run before it).
                after_kill = datetime.now(UTC)
                async with connection.transaction():
                    for i in range(JOBS_AFTER_KILL):
                        await schedule_job(connection, job=HOUSEKEEPING_JOB, due_at=after_kill + timedelta(seconds=i / 4), dedup_key=f"replicas-after-{i}")
                # The group takes the replacement in too: it handles partitions of its own under load.
                survivor = 3 - kill.victim
                await asyncio.to_thread(devstack.wait_replica, stack, SERVICE, 3)
                held = await replicas.settled_assignment(client, stack, SERVICE, [survivor, 3], group, partitions)
                await eventually(
                    lambda: _after(max(start + timedelta(seconds=JOBS / 2), after_kill + timedelta(seconds=JOBS_AFTER_KILL / 4)), 0),
                    what="the last scheduled job to be due",
                )
                load.stop.set()
                await producing
                requested = len(load.requests)

                # Everything settles: each request delivered, each job done, each event published.
                async def settled() -> bool:
                    delivered = await connection.fetchval("SELECT count(*) FROM notifications WHERE status = 'delivered'")
                    jobs = await connection.fetchval("SELECT count(*) FROM scheduled_jobs WHERE dedup_key LIKE 'replicas-%' AND status = 'done'")
                    unpublished = await connection.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                    return delivered == requested and jobs == JOBS + JOBS_AFTER_KILL and unpublished == 0

                await eventually(settled, timeout=120, interval=0.5, what="every request delivered, every job done, every event published")
                duplicates_skipped = await _duplicates_skipped(client, stack, [survivor, 3], group)

                # Every event's effect exactly once: one inbox row, one notification, one "created".
                inbox = [r["event_id"] for r in await connection.fetch("SELECT event_id FROM inbox WHERE consumer = $1", group)]
                assert sorted(inbox) == sorted(load.event_ids)
                rows = await connection.fetch("SELECT notification_id, idempotency_key FROM notifications")
                assert sorted(r["idempotency_key"] for r in rows) == sorted(r.idempotency_key for r in load.requests)
                created = await connection.fetchval("SELECT count(*) FROM delivery_log WHERE status = 'created'")
                assert created == requested
                # One outcome event per notification, published (the relay's leader may have died).
                outcomes = await connection.fetch(
                    "SELECT convert_from(value, 'UTF8')::jsonb ->> 'notification_id' AS id FROM outbox WHERE event_type = $1",
                    NotificationDeliveredV1.event_type,
                )
                assert sorted(r["id"] for r in outcomes) == sorted(str(r["notification_id"]) for r in rows)

                # Every email once in the mail sink; a second copy only in the crash window.
                copies = Counter(_message_id(m) for m in (await client.get(f"{sink}/api/messages", params={"after": before})).json())
                ours = {f"<{r['notification_id']}@{MESSAGE_ID_DOMAIN}>": r["notification_id"] for r in rows}
                assert all(copies[message_id] >= 1 for message_id in ours), "an email never reached the mail sink"
                doubled = {message_id: notification_id for message_id, notification_id in ours.items() if copies[message_id] > 1}
                for message_id, notification_id in doubled.items():
                    assert copies[message_id] == 2, f"{message_id} sent {copies[message_id]} times"
                    claims = await connection.fetch(
                        "SELECT at, detail FROM delivery_log WHERE notification_id = $1 AND status = 'sending' ORDER BY id", notification_id
                    )
                    # Claimed before the kill (by the replica that died, which sent it but never
                    # recorded it), claimed again once its lease lapsed: notification.delivery's window.
                    assert len(claims) == 2 and claims[0]["at"] <= kill.killed_at < claims[1]["at"], claims
                    assert "never confirmed" in claims[1]["detail"]
                # Every scheduled job ran once: done, on its first attempt, none failed or left.
                jobs = await connection.fetch("SELECT status, attempts FROM scheduled_jobs WHERE dedup_key LIKE 'replicas-%'")
                assert len(jobs) == JOBS + JOBS_AFTER_KILL and all(j["status"] == "done" and j["attempts"] == 1 for j in jobs), jobs
            finally:
                await connection.close()
        finally:
            load.stop.set()
            if producing is not None and not producing.done():
                with contextlib.suppress(Exception):
                    await producing
            for number in devstack.replica_numbers(stack, SERVICE):
                await asyncio.to_thread(devstack.stop_replica, stack, SERVICE, number)

    figures = {
        "rebalance_seconds": round(kill.rebalance_seconds, 2),
        "victim": devstack.replica_name(SERVICE, kill.victim),
        "victim_partitions": sorted(kill.partitions),
        "after": {devstack.replica_name(SERVICE, n): sorted(p) for n, p in held.items()},
        "requests": requested,
        "emails_sent_twice_in_the_crash_window": len(doubled),
        "redelivered_events_skipped_by_the_inbox": duplicates_skipped,
        "scheduled_jobs": JOBS + JOBS_AFTER_KILL,
    }
    (stack.state_dir / "replicas.json").write_text(json.dumps(figures, indent=2) + "\n")
    record_property("rebalance_seconds", figures["rebalance_seconds"])
    with capsys.disabled():
        print(
            f"\nreplicas: SIGKILL of {figures['victim']} -> its partitions {figures['victim_partitions']} consumed again after {kill.rebalance_seconds:.2f} s; {figures}"
        )


def _dead(pid: int) -> bool:
    """Gone, or a zombie its parent has not reaped yet (it runs no code either way)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


async def _after(start: datetime, seconds: float) -> bool:
    return datetime.now(UTC) >= start + timedelta(seconds=seconds)


def _message_id(message: dict) -> str:
    return next((value.strip() for name, value in message["headers"] if name.lower() == "message-id"), "")


async def _duplicates_skipped(client: httpx.AsyncClient, stack, numbers: list[int], group: str) -> int:
    """Redelivered events the live replicas found in the inbox (what the dead one had handled but
    not yet committed to Kafka), from their metrics."""
    total = 0.0
    for number in numbers:
        text = (await client.get(f"http://127.0.0.1:{stack.replica_port(SERVICE, number)}/metrics")).text
        for line in text.splitlines():
            if line.startswith("consumer_events_total{") and f'consumer="{group}"' in line and 'outcome="duplicate"' in line:
                total += float(line.rsplit(" ", 1)[1])
    return int(total)
