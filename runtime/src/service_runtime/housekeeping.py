"""An hourly job every service runs through its own scheduler: removes published outbox rows and
old inbox rows once their retention has passed, so neither table grows without end."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
import structlog

from service_runtime.scheduler import Job, JobHandler, schedule_job

log = structlog.get_logger(__name__)

HOUSEKEEPING_JOB = "runtime.housekeeping"


def _next_hour(after: datetime) -> datetime:
    return after.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


async def _arm(connection: asyncpg.Connection, due_at: datetime) -> None:
    # One row per hour: replicas arming the same hour meet on the dedup key.
    await schedule_job(connection, job=HOUSEKEEPING_JOB, due_at=due_at, dedup_key=due_at.isoformat())


async def arm_housekeeping(connection: asyncpg.Connection, *, now: datetime) -> None:
    await _arm(connection, _next_hour(now))


def housekeeping(*, outbox_retention_hours: int, inbox_retention_days: int) -> JobHandler:
    async def run(connection: asyncpg.Connection, job: Job) -> None:
        outbox = await connection.execute("DELETE FROM outbox WHERE published_at < $1", job.due_at - timedelta(hours=outbox_retention_hours))
        inbox = await connection.execute("DELETE FROM inbox WHERE processed_at < $1", job.due_at - timedelta(days=inbox_retention_days))
        log.info("housekeeping done", outbox_rows_removed=int(outbox.split()[-1]), inbox_rows_removed=int(inbox.split()[-1]))
        await _arm(connection, _next_hour(max(job.due_at, job.ran_at or job.due_at)))

    return run
