"""The durable scheduler with two replicas of one service, over the real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service_runtime.scheduler import schedule_job
from tests.platform.helpers import Probe, connect, eventually, new_database, new_topic

pytestmark = pytest.mark.slow


async def test_two_replicas_run_each_due_job_exactly_once(stack, tmp_path):
    database_url = await new_database(stack, "scheduler")
    topic = await new_topic(stack)
    replicas = [Probe(stack, database_url=database_url, topic=topic, roles="scheduler", log_dir=tmp_path, name=f"replica-{i}") for i in (1, 2)]
    for replica in replicas:
        replica.start()  # migrations run at start; the second waits on the advisory lock
    try:
        connection = await connect(database_url)
        now = datetime.now(UTC)
        async with connection.transaction():
            for i in range(200):
                await schedule_job(connection, job="probe.job", due_at=now - timedelta(seconds=1), dedup_key=f"job-{i}")
            # Not due yet: must not run.
            await schedule_job(connection, job="probe.job", due_at=now + timedelta(days=1), dedup_key="tomorrow")

        async def all_done() -> bool:
            return await connection.fetchval("SELECT count(*) FROM scheduled_jobs WHERE status = 'done'") == 200

        await eventually(all_done, what="200 jobs done")
        runs = await connection.fetch("SELECT job_id, count(*) AS n FROM probe_job_runs GROUP BY job_id")
        assert len(runs) == 200 and all(r["n"] == 1 for r in runs)
        assert await connection.fetchval("SELECT status FROM scheduled_jobs WHERE dedup_key = 'tomorrow'") == "pending"
        runners = {r["runner"] for r in await connection.fetch("SELECT DISTINCT runner FROM probe_job_runs")}
        assert runners <= {replica.process.pid for replica in replicas}
        await connection.close()
    finally:
        for replica in replicas:
            replica.terminate()


async def test_rescheduling_a_pending_job_moves_its_due_time(stack):
    connection = await connect(await new_database(stack, "reschedule"))
    try:
        from service_runtime.migrations import apply_migrations, discover

        await apply_migrations(connection, discover("runtime", "service_runtime.sql"))
        first = datetime(2026, 1, 1, tzinfo=UTC)
        await schedule_job(connection, job="deadline", due_at=first, dedup_key="dossier-1")
        await schedule_job(connection, job="deadline", due_at=first + timedelta(days=10), dedup_key="dossier-1")
        assert await connection.fetchval("SELECT due_at FROM scheduled_jobs WHERE dedup_key = 'dossier-1'") == first + timedelta(days=10)
        assert await connection.fetchval("SELECT count(*) FROM scheduled_jobs") == 1
    finally:
        await connection.close()


async def test_a_job_that_ran_is_armed_again_when_its_facts_change_and_may_re_arm_itself(stack):
    from service_runtime.clock import FixedClock
    from service_runtime.db import create_pool
    from service_runtime.migrations import apply_migrations, discover
    from service_runtime.scheduler import Scheduler

    pool = await create_pool(await new_database(stack, "rearm"), min_size=1, max_size=2)
    runs: list[str] = []

    async def reminder(connection, job):
        runs.append(job.dedup_key)

    async def heartbeat(connection, job):  # re-arms itself, as a recurring job does
        runs.append("beat")
        await schedule_job(connection, job="heartbeat", due_at=job.due_at + timedelta(days=30), dedup_key="only")

    try:
        async with pool.acquire() as connection:
            await apply_migrations(connection, discover("runtime", "service_runtime.sql"))
            start = datetime(2026, 3, 1, tzinfo=UTC)
            await schedule_job(connection, job="reminder", due_at=start, dedup_key="dossier-9")
            await schedule_job(connection, job="heartbeat", due_at=start, dedup_key="only")
        clock = FixedClock(start)
        scheduler = Scheduler(pool=pool, handlers={"reminder": reminder, "heartbeat": heartbeat}, clock=clock)
        assert await scheduler.run_due_jobs() == 2
        assert sorted(runs) == ["beat", "dossier-9"]
        async with pool.acquire() as connection:
            assert await connection.fetchval("SELECT status FROM scheduled_jobs WHERE job = 'heartbeat'") == "pending"
            # The term was suspended and resumed: the deadline moved, so the reminder is due again.
            await schedule_job(connection, job="reminder", due_at=start + timedelta(days=5), dedup_key="dossier-9")
        clock.set(start + timedelta(days=5))
        assert await scheduler.run_due_jobs() == 1  # the reminder once more; the heartbeat is due in 30 days
        assert sorted(runs) == ["beat", "dossier-9", "dossier-9"]
    finally:
        await pool.close()
