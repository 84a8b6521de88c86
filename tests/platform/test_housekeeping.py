"""The hourly housekeeping job, run by the scheduler on a real database with a moved clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service_runtime.clock import FixedClock
from service_runtime.db import create_pool
from service_runtime.housekeeping import HOUSEKEEPING_JOB, arm_housekeeping, housekeeping
from service_runtime.migrations import apply_migrations, discover
from service_runtime.scheduler import Scheduler
from tests.platform.helpers import new_database


async def test_housekeeping_removes_what_outlived_its_retention_and_arms_the_next_hour(stack):
    pool = await create_pool(await new_database(stack, "housekeeping"), min_size=1, max_size=2)
    try:
        async with pool.acquire() as connection:
            await apply_migrations(connection, discover("runtime", "service_runtime.sql"))
            now = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
            for event_id, published_at in [("old", now - timedelta(hours=80)), ("recent", now - timedelta(hours=1)), ("pending", None)]:
                await connection.execute(
                    "INSERT INTO outbox (topic, value, headers, event_id, event_type, published_at) VALUES ('t', '', '[]', $1, 'x', $2)",
                    event_id,
                    published_at,
                )
            await connection.execute(
                "INSERT INTO inbox (consumer, event_id, event_type, processed_at) VALUES ('c', 'old', 'x', $1), ('c', 'recent', 'x', $2)",
                now - timedelta(days=40),
                now - timedelta(days=1),
            )
            await arm_housekeeping(connection, now=now)
            await arm_housekeeping(connection, now=now)  # a second replica starting: still one job

        clock = FixedClock(now)
        scheduler = Scheduler(pool=pool, handlers={HOUSEKEEPING_JOB: housekeeping(outbox_retention_hours=72, inbox_retention_days=30)}, clock=clock)
        assert await scheduler.run_due_jobs() == 0  # due at 11:00, it is 10:30
        clock.set(now + timedelta(minutes=31))
        assert await scheduler.run_due_jobs() == 1

        async with pool.acquire() as connection:
            assert {r["event_id"] for r in await connection.fetch("SELECT event_id FROM outbox")} == {"recent", "pending"}
            assert {r["event_id"] for r in await connection.fetch("SELECT event_id FROM inbox")} == {"recent"}
            jobs = await connection.fetch("SELECT due_at, status FROM scheduled_jobs WHERE job = $1 ORDER BY due_at", HOUSEKEEPING_JOB)
            assert [(j["due_at"], j["status"]) for j in jobs] == [
                (datetime(2026, 11, 22, 11, tzinfo=UTC), "done"),
                (datetime(2026, 11, 22, 12, tzinfo=UTC), "pending"),
            ]
    finally:
        await pool.close()
