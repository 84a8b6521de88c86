"""A durable scheduler: due jobs are rows in the service's own database.

A job runs in the same transaction that marks it done, on a row claimed with
`FOR UPDATE SKIP LOCKED`: with any number of replicas, each due job runs once, and a crash
before the commit leaves it due for the next try. A job's effects are database writes (events go
through the outbox), so "ran" and "marked done" cannot disagree.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import structlog
from prometheus_client import Counter

from service_runtime.clock import Clock, SystemClock

log = structlog.get_logger(__name__)

JOBS_RUN = Counter("scheduler_jobs_total", "Scheduled jobs run, by job and outcome.", ["job", "outcome"])


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    job: str
    dedup_key: str
    due_at: datetime
    payload: dict[str, Any]
    attempts: int
    # The scheduler's clock when the job ran: a recurring job arms its next run from here, so a
    # service that was down for a day runs it once, not once for every hour it missed.
    ran_at: datetime | None = None


JobHandler = Callable[[asyncpg.Connection, Job], Awaitable[None]]


async def schedule_job(
    connection: asyncpg.Connection,
    *,
    job: str,
    due_at: datetime,
    dedup_key: str,
    payload: dict[str, Any] | None = None,
) -> None:
    """Arm, or re-arm, the job `job` for `dedup_key` at `due_at`.

    Deadlines are derived from stored facts; when the facts change (a term suspended and resumed),
    the caller schedules again with the new due time: the row moves, and is pending again even if
    it had run or was cancelled. A job may re-arm itself from its own handler.
    """
    await connection.execute(
        """
        INSERT INTO scheduled_jobs (job, dedup_key, due_at, payload) VALUES ($1, $2, $3, $4)
        ON CONFLICT (job, dedup_key) DO UPDATE SET due_at = EXCLUDED.due_at, payload = EXCLUDED.payload,
            status = 'pending', attempts = 0, last_error = NULL, done_at = NULL
        """,
        job,
        dedup_key,
        due_at,
        payload or {},
    )


async def cancel_job(connection: asyncpg.Connection, *, job: str, dedup_key: str) -> None:
    await connection.execute(
        "UPDATE scheduled_jobs SET status = 'cancelled' WHERE job = $1 AND dedup_key = $2 AND status = 'pending'",
        job,
        dedup_key,
    )


class Scheduler:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        handlers: dict[str, JobHandler],
        clock: Clock | None = None,
        poll_seconds: float = 1.0,
        max_attempts: int = 5,
    ) -> None:
        self._pool = pool
        self._handlers = handlers
        self._clock = clock or SystemClock()
        self._poll_seconds = poll_seconds
        self._max_attempts = max_attempts
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._woken = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="scheduler")

    async def stop(self) -> None:
        self._stopping = True
        self._woken.set()
        if self._task:
            # The job in flight finishes: the loop checks `_stopping` only between jobs.
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while not self._stopping:
            try:
                ran = await self.run_due_jobs()
            except Exception:
                log.exception("scheduler pass failed")
                ran = 0
            if not ran:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), self._poll_seconds)
                self._woken.clear()

    def wake(self) -> None:
        """Look for due jobs now (the clock moved, or a job was armed for now)."""
        self._woken.set()

    async def run_due_jobs(self, limit: int = 100) -> int:
        """Run what is due now, one job per transaction; returns how many ran."""
        ran = 0
        while ran < limit and not self._stopping:
            if not await self._run_one():
                break
            ran += 1
        return ran

    async def _run_one(self) -> bool:
        now = self._clock.now()
        async with self._pool.acquire() as connection, connection.transaction():
            row = await connection.fetchrow(
                """
                    SELECT id, job, dedup_key, due_at, payload, attempts FROM scheduled_jobs
                    WHERE status = 'pending' AND due_at <= $1 AND job = ANY($2::text[])
                    ORDER BY due_at, id
                    FOR UPDATE SKIP LOCKED
                    LIMIT 1
                    """,
                now,
                list(self._handlers),
            )
            if row is None:
                return False
            job = Job(**dict(row), ran_at=now)
            with structlog.contextvars.bound_contextvars(job=job.job, job_id=job.id, dedup_key=job.dedup_key):
                try:
                    async with connection.transaction():
                        await self._handlers[job.job](connection, job)
                except Exception as error:
                    attempts = job.attempts + 1
                    final = attempts >= self._max_attempts
                    await connection.execute(
                        "UPDATE scheduled_jobs SET attempts = $2, last_error = $3, status = $4, due_at = $5 WHERE id = $1",
                        job.id,
                        attempts,
                        repr(error),
                        "failed" if final else "pending",
                        now + timedelta(seconds=min(2**attempts, 3600)),
                    )
                    JOBS_RUN.labels(job.job, "failed" if final else "retry").inc()
                    log.error("scheduled job failed", attempts=attempts, final=final, error=repr(error))
                    return True
                # Unless the handler re-armed this very job for later (due_at moved).
                await connection.execute(
                    "UPDATE scheduled_jobs SET status = 'done', done_at = $2, attempts = attempts + 1 WHERE id = $1 AND due_at = $3",
                    job.id,
                    now,
                    job.due_at,
                )
                JOBS_RUN.labels(job.job, "done").inc()
                log.info("scheduled job done")
            return True
