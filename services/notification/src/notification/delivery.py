"""Delivering accepted notifications over SMTP, in batches, from the notifications table itself:

1. **claim**: one statement takes up to N due notifications (`FOR UPDATE SKIP LOCKED`, so
   replicas never take the same one), marks them `sending` with a lease, and logs the attempt;
2. **send**: the emails go out over a few reused SMTP connections;
3. **record**: one transaction writes every outcome (decided by the retry policy, domain.py),
   its log line and its event.

A process killed between the server's "250 OK" and step 3 leaves the notification `sending`;
when its lease runs out it is claimed again and sent again: at most one duplicate per crash,
never a lost email (SMTP has no way to ask whether a message already arrived, so exactly-once
is not on offer). The duplicate carries the same Message-ID, so a mail client can tell.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

import asyncpg
import structlog
from prometheus_client import Gauge

from notification import queries
from notification.domain import Answer, RetryPolicy, Status, Step
from notification.mime import Email, UndeliverableAddress, build_email
from notification.smtp import PermanentFailure, ServerUnreachable, SmtpSender, TemporaryFailure
from service_runtime import tracing
from service_runtime.clock import Clock
from service_runtime.consumer import CONNECTION_LOST
from service_runtime.failpoints import failpoint

log = structlog.get_logger(__name__)

# The database went away (a restart, a failover, a dropped connection): worth trying again.
_DATABASE_AWAY = (*CONNECTION_LOST, asyncpg.exceptions.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError)
# For the operator: is mail piling up, and since when? (Every replica reports the same totals.)
BACKLOG = Gauge("notification_backlog", "Notifications not yet delivered or failed, by state: due now, retrying later, sending.", ["state"])
OLDEST_DUE = Gauge("notification_oldest_due_seconds", "How long the longest-waiting due notification has been due (0: none).")


@dataclass(frozen=True)
class DeliverySettings:
    mail_from: str
    reply_to: str | None
    retry: RetryPolicy
    batch_size: int = 100
    # How long a claimed notification stays `sending` before it counts as lost (a crash) and is
    # claimed again. A batch starts no send after half of it (SmtpSender.send_all), so a slow
    # server or a tight rate limit cannot keep a batch past its lease.
    lease_seconds: float = 300.0


# What became of one email of a batch: the server's answer, a failure, or not sent at all (and why).
Outcome = str | TemporaryFailure | PermanentFailure | tuple[Answer, str]


def _answer(result: Outcome) -> tuple[Answer, str]:
    if isinstance(result, str):
        return Answer.ACCEPTED, result
    if isinstance(result, tuple):
        return result
    if isinstance(result, PermanentFailure):
        return Answer.REFUSED, result.answer
    if isinstance(result, ServerUnreachable):
        return Answer.UNREACHABLE, result.answer
    return Answer.DEFERRED, result.answer


_SMTP_CODE = re.compile(r"[2-5]\d\d(?:[ -][2-5]\.\d{1,3}\.\d{1,3})?")  # "550 5.1.1": what a span may say of an answer


def span_outcome(answer: Answer, detail: str) -> str:
    """What an email's span says of the server's answer: its kind and code ("refused 550 5.1.1"),
    never its text, which for a refusal usually quotes the recipient's address."""
    code = _SMTP_CODE.match(detail or "")
    return f"{answer} {code.group(0)}" if code else str(answer)


BACKLOG_SECONDS = 15.0  # how often the backlog gauges are refreshed


class Deliverer:
    """The loop that delivers due notifications, a batch at a time, until stopped.

    It does not poll: accepting a request notifies `notification_due` at commit, which wakes it
    (on every replica: SKIP LOCKED shares the work), and between batches it sleeps until the
    next retry or lease is due. `poll_seconds` is only the safety net for a wake-up missed while
    its listening connection was being reopened.
    """

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        sender: SmtpSender,
        settings: DeliverySettings,
        clock: Clock,
        poll_seconds: float,
    ) -> None:
        self._pool, self._sender, self._settings, self._clock, self._poll_seconds = pool, sender, settings, clock, poll_seconds
        self._connect = connect  # the listening connection, outside the pool
        self._sender_address = parseaddr(settings.mail_from)[1]
        # A sender or reply-to that cannot be written into an email fails the start, not every email.
        build_email(
            notification_id=uuid.uuid4(),
            sender=settings.mail_from,
            sender_address=self._sender_address,
            reply_to=settings.reply_to,
            recipient_name=None,
            recipient_email="check@example.org",
            subject="",
            reference="",
            text="",
            html="",
            date=clock.now(),
        )
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._wake = asyncio.Event()
        self._listener: asyncpg.Connection | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="notification-deliverer")

    async def stop(self) -> None:
        """The batch in flight is sent and recorded, then the loop ends."""
        self._stopping = True
        self._wake.set()
        if self._task:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close()

    async def measure_backlog(self) -> dict[str, float]:
        """The backlog gauges, from the table (the partial index of undelivered rows)."""
        now = self._clock.now()
        async with self._pool.acquire() as connection:
            row = await connection.fetchrow(queries.BACKLOG, now)
        figures = {"due": row["due"], "retrying": row["retrying"], "sending": row["sending"]}
        for state, count in figures.items():
            BACKLOG.labels(state).set(count)
        oldest = (now - row["oldest_due"]).total_seconds() if row["oldest_due"] else 0.0
        OLDEST_DUE.set(oldest)
        return {**figures, "oldest_due_seconds": oldest}

    async def _run(self) -> None:
        failures = 0
        measured_at = 0.0
        while not self._stopping:
            try:
                await self._listening()
                if time.monotonic() - measured_at >= BACKLOG_SECONDS:
                    measured_at = time.monotonic()
                    await self.measure_backlog()
                self._wake.clear()  # before the claim: a commit notified during the batch wakes the next one
                delivered = await self.deliver_due()
                if delivered < self._settings.batch_size:
                    await self._sleep_until_due()
                failures = 0
            except Exception:
                failures += 1
                log.exception("delivery pass failed", failures=failures)
                await asyncio.sleep(min(0.05 * 2**failures, 5.0))  # no log storm while the database is away

    async def _listening(self) -> None:
        """A connection of its own that listens for `notification_due` (reopened when lost)."""
        if self._listener is not None and not self._listener.is_closed():
            return
        self._listener = await self._connect()
        await self._listener.add_listener(queries.DUE_CHANNEL, lambda *_: self._wake.set())

    async def _sleep_until_due(self) -> None:
        """Until a request is accepted, the next retry or lease is due, or the safety net."""
        async with self._pool.acquire() as connection:
            next_due = await connection.fetchval(queries.NEXT_DUE)
        wait = self._poll_seconds
        if next_due is not None:
            wait = min(wait, max((next_due - self._clock.now()).total_seconds(), 0.0))
        if wait > 0 and not self._stopping:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def deliver_due(self) -> int:
        """One batch: claim, send, record. Returns how many were claimed."""
        settings = self._settings
        now = self._clock.now()
        async with self._pool.acquire() as connection:
            claimed = await connection.fetch(queries.CLAIM, now, settings.batch_size, now + timedelta(seconds=settings.lease_seconds))
        if not claimed:
            return 0
        results: list[Outcome] = [(Answer.NOT_SENT, "not tried")] * len(claimed)
        emails: list[tuple[int, Email]] = []
        for index, row in enumerate(claimed):
            if settings.retry.lost_too_often(previous_status=Status(row["previous_status"]), attempts=row["attempts"]):
                results[index] = (Answer.NOT_SENT, f"gave up after {row['attempts'] - 1} attempts that were never confirmed")
                continue
            try:
                emails.append((index, self._email(row, now)))
            except UndeliverableAddress as error:
                results[index] = (Answer.REFUSED, str(error))
            except Exception as error:
                log.exception("could not write the email", notification_id=str(row["notification_id"]))
                results[index] = (Answer.NOT_SENT, f"the email could not be written: {type(error).__name__}: {error}")
        spans = self._send_spans(claimed, emails) if tracing.enabled else {}
        sent = await self._sender.send_all([email for _, email in emails], within_seconds=settings.lease_seconds / 2)
        for (index, _), result in zip(emails, sent, strict=True):
            results[index] = result
        for index, span in spans.items():
            answer, detail = _answer(results[index])
            outcome = span_outcome(answer, detail)
            tracing.end_span(span, error=None if answer == Answer.ACCEPTED else outcome, attributes={"wse.delivery.answer": outcome})
        failpoint("notification.after_send")  # tests: killed between the server's 250 and the commit
        await self._record(claimed, results)
        return len(claimed)

    def _send_spans(self, claimed: list[asyncpg.Record], emails: list[tuple[int, Email]]) -> dict[int, object]:
        """A span per email whose request was traced, continuing that trace, from the batch's
        send until the server answered. It names the notification, never the address or subject."""
        spans = {}
        for index, _ in emails:
            row = claimed[index]
            if row["traceparent"]:
                spans[index] = tracing.start_span(
                    "smtp send",
                    kind=tracing.CLIENT,
                    parent=row["traceparent"],
                    attributes={
                        "wse.notification_id": str(row["notification_id"]),
                        "wse.template_id": row["template_id"],
                        "wse.delivery.attempt": row["attempts"],
                        "wse.correlation_id": row["correlation_id"] or "",
                    },
                )
        return spans

    def _email(self, row: asyncpg.Record, now: datetime) -> Email:
        return build_email(
            notification_id=row["notification_id"],
            sender=self._settings.mail_from,
            sender_address=self._sender_address,
            reply_to=self._settings.reply_to,
            recipient_name=row["recipient_name"],
            recipient_email=row["recipient_email"],
            subject=row["subject"],
            reference=row["reference"],
            text=row["body_text"],
            html=row["body_html"],
            date=now,
        )

    async def _record(self, claimed: list[asyncpg.Record], results: list[Outcome]) -> None:
        retry = self._settings.retry
        now = self._clock.now()
        steps: list[Step] = []
        for row, result in zip(claimed, results, strict=True):
            answer, detail = _answer(result)
            steps.append(retry.after(answer, detail, attempts=row["attempts"], created_at=row["created_at"], now=now))
        # The emails are out: losing their outcomes to a database blip would send them all again
        # when the lease runs out, so the write is retried for a while first.
        for attempt in itertools.count(1):
            try:
                mine = await self._write_outcomes(claimed, steps, now)
                break
            except _DATABASE_AWAY:
                if attempt >= 8 or self._stopping:
                    raise
                log.warning("could not record delivery outcomes, retrying", attempt=attempt)
                await asyncio.sleep(min(0.25 * 2**attempt, 10.0))
        for i in mine:
            step = steps[i]
            queries.OUTCOMES.labels(step.status).inc()
            if step.status != Status.DELIVERED:
                log.info("not delivered", notification_id=str(claimed[i]["notification_id"]), status=step.status, attempts=step.attempts, answer=step.answer)
        if lost := len(claimed) - len(mine):
            log.warning("outcomes not recorded: another process had taken the notifications over", count=lost)

    async def _write_outcomes(self, claimed: list[asyncpg.Record], steps: list[Step], now: datetime) -> list[int]:
        """Indexes of the outcomes written (those still under this process's lease)."""
        async with self._pool.acquire() as connection, connection.transaction():
            recorded = {
                r["notification_id"]
                for r in await connection.fetch(
                    queries.RECORD,
                    [r["notification_id"] for r in claimed],
                    [r["attempts"] for r in claimed],
                    [step.status for step in steps],
                    [step.answer for step in steps],
                    now,
                    [step.next_attempt_at for step in steps],
                    [step.attempts for step in steps],
                )
            }
            mine = [i for i, row in enumerate(claimed) if row["notification_id"] in recorded]
            await queries.log_statuses(
                connection,
                ids=[claimed[i]["notification_id"] for i in mine],
                statuses=[steps[i].status for i in mine],
                details=[steps[i].answer for i in mine],
                at=now,
            )
            await queries.publish_outcomes(connection, [(claimed[i], steps[i].status, steps[i].answer) for i in mine if steps[i].status.final], at=now)
        return mine
