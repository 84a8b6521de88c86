"""The notification service's use cases: accept requests (render them, or fail them with the
reason), deliver them over SMTP with bounded retries, and answer "did the contact person get it?".

Delivery works in batches, from the notifications table itself:

1. **claim**: one statement takes up to N due notifications (`FOR UPDATE SKIP LOCKED`, so
   replicas never take the same one), marks them `sending` with a lease, and logs the attempt;
2. **send**: the emails go out over a few reused SMTP connections;
3. **record**: one transaction writes every outcome, its log line and its event.

A process killed between the server's "250 OK" and step 3 leaves the notification `sending`;
when its lease runs out it is claimed again and sent again: at most one duplicate per crash,
never a lost email (SMTP has no way to ask whether a message already arrived, so exactly-once
is not on offer). The duplicate carries the same Message-ID, so a mail client can tell.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from prometheus_client import Counter, Gauge

from notification import templates
from notification.mime import Email, UndeliverableAddress, build_email
from notification.smtp import PermanentFailure, ServerUnreachable, SmtpSender, TemporaryFailure
from service_runtime.clock import Clock
from service_runtime.consumer import CONNECTION_LOST
from service_runtime.failpoints import failpoint
from service_runtime.outbox import add_all_to_outbox
from wse_contracts import Envelope
from wse_contracts.notification import NotificationDeliveredV1, NotificationFailedV1, NotificationRequestedV1

log = structlog.get_logger(__name__)

SOURCE = "/wse/notification"
DUE_CHANNEL = "notification_due"  # notified (at commit) when requests were accepted
# The database went away (a restart, a failover, a dropped connection): worth trying again.
_DATABASE_AWAY = (*CONNECTION_LOST, asyncpg.exceptions.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError)
OUTCOMES = Counter("notification_outcomes_total", "Notifications by the outcome of an attempt.", ["status"])
# For the operator: is mail piling up, and since when? (Every replica reports the same totals.)
BACKLOG = Gauge("notification_backlog", "Notifications not yet delivered or failed, by state: due now, retrying later, sending.", ["state"])
OLDEST_DUE = Gauge("notification_oldest_due_seconds", "How long the longest-waiting due notification has been due (0: none).")


def backoff(attempt: int, *, initial: float, maximum: float) -> timedelta:
    """Exponential: initial, 2x, 4x, ... capped."""
    return timedelta(seconds=min(initial * 2 ** max(attempt - 1, 0), maximum))


def _outcome_envelope(row: Any, *, status: str, reason: str | None) -> Envelope:
    common = dict(
        notification_id=str(row["notification_id"]),
        reference=row["reference"],
        template_id=row["template_id"],
        requested_by=row["requested_by"],
        idempotency_key=row["idempotency_key"],
    )
    event = NotificationDeliveredV1(**common) if status == "delivered" else NotificationFailedV1(**common, status=status, reason=reason or status)
    # The requesting service's correlation id: its dossier's trail runs on to the email's fate.
    return event.to_envelope(source=SOURCE, correlation_id=row["correlation_id"] or "none")


async def _publish_outcomes(connection: asyncpg.Connection, envelopes: list[Envelope]) -> None:
    # Delivered and failed share one topic, keyed by notification: their order per email holds.
    await add_all_to_outbox(connection, envelopes, topic=NotificationDeliveredV1.topic)


# ------------------------------------------------------------------------------- accepting requests


@dataclass(frozen=True, slots=True)
class Accepted:
    request: NotificationRequestedV1
    correlation_id: str | None = None


async def accept_requests(connection: asyncpg.Connection, *, requests: list[Accepted], now: datetime) -> list[UUID]:
    """One notification per request and recipient, due at once, in one statement. The same request
    again (same requesting service, idempotency key and recipient) creates nothing. A request that
    cannot be rendered fails with the reason: no half-empty email goes out."""
    columns: dict[str, list[Any]] = {name: [] for name in _ACCEPT_COLUMNS}
    for accepted in requests:
        request = accepted.request
        try:
            rendered = templates.render(request.template_id, request.template_version, request.personalisation)
            failure = None
        except templates.TemplateError as error:  # missing personalisation, unknown template: no retry helps
            rendered, failure = None, str(error)
        for recipient in request.recipients:
            for name, value in (
                ("notification_id", uuid.uuid4()),
                ("requested_by", request.requested_by),
                ("idempotency_key", request.idempotency_key),
                ("reference", request.reference),
                ("template_id", request.template_id),
                ("template_version", request.template_version),
                ("recipient_email", str(recipient.email)),
                ("recipient_name", recipient.name),
                ("personalisation", request.personalisation),
                ("subject", rendered.subject if rendered else None),
                ("body_text", rendered.text if rendered else None),
                ("body_html", rendered.html if rendered else None),
                ("status", "created" if rendered else "technical-failure"),
                ("last_answer", failure),
                ("correlation_id", accepted.correlation_id),
            ):
                columns[name].append(value)
    if not columns["notification_id"]:
        return []
    rows = await connection.fetch(_ACCEPT, *columns.values(), now)
    failed = [row for row in rows if row["status"] == "technical-failure"]
    if len(failed) < len(rows):
        await connection.execute("SELECT pg_notify($1, '')", DUE_CHANNEL)  # delivered at commit: wakes the deliverers
    await connection.execute(
        "INSERT INTO delivery_log (notification_id, at, status, detail) SELECT id, $2, s, d FROM unnest($1::uuid[], $3::text[], $4::text[]) AS l(id, s, d)",
        [row["notification_id"] for row in rows] + [row["notification_id"] for row in failed],
        now,
        ["created"] * len(rows) + ["technical-failure"] * len(failed),
        [None] * len(rows) + [row["last_answer"] for row in failed],
    )
    if failed:
        await _publish_outcomes(connection, [_outcome_envelope(row, status="technical-failure", reason=row["last_answer"]) for row in failed])
        for row in failed:
            OUTCOMES.labels("technical-failure").inc()
            log.warning("notification not rendered", notification_id=str(row["notification_id"]), template_id=row["template_id"], reason=row["last_answer"])
    return [row["notification_id"] for row in rows]


async def accept_request(connection: asyncpg.Connection, *, request: NotificationRequestedV1, now: datetime) -> list[UUID]:
    return await accept_requests(connection, requests=[Accepted(request)], now=now)


_ACCEPT_COLUMNS = (
    "notification_id",
    "requested_by",
    "idempotency_key",
    "reference",
    "template_id",
    "template_version",
    "recipient_email",
    "recipient_name",
    "personalisation",
    "subject",
    "body_text",
    "body_html",
    "status",
    "last_answer",
    "correlation_id",
)
_ACCEPT = """
    INSERT INTO notifications (notification_id, requested_by, idempotency_key, reference, template_id, template_version,
        recipient_email, recipient_name, personalisation, subject, body_text, body_html, status, last_answer, correlation_id,
        created_at, updated_at, next_attempt_at)
    SELECT r.*, $16, $16, CASE WHEN r.status = 'created' THEN $16::timestamptz END
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[], $9::jsonb[],
                $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[])
         AS r(notification_id, requested_by, idempotency_key, reference, template_id, template_version, recipient_email,
              recipient_name, personalisation, subject, body_text, body_html, status, last_answer, correlation_id)
    ON CONFLICT (requested_by, idempotency_key, recipient_email) DO NOTHING
    RETURNING notification_id, reference, template_id, requested_by, idempotency_key, status, last_answer, correlation_id
"""


# ------------------------------------------------------------------------------- delivering


@dataclass(frozen=True)
class DeliverySettings:
    mail_from: str
    reply_to: str | None
    max_attempts: int
    backoff_initial: float
    backoff_max: float
    batch_size: int = 100
    # How long a claimed notification stays `sending` before it counts as lost (a crash) and is
    # claimed again. A batch starts no send after half of it (SmtpSender.send_all), so a slow
    # server or a tight rate limit cannot keep a batch past its lease.
    lease_seconds: float = 300.0
    # While the server cannot be reached, an email waits; after this long it is given up.
    give_up_after_hours: float = 72.0


# One statement: take the due notifications (new, retrying, or `sending` with a lapsed lease, i.e.
# the process that had them died), mark them `sending` with a lease, and log the attempt.
_CLAIM = """
    WITH due AS (
        SELECT notification_id, status AS previous_status FROM notifications
        WHERE status IN ('created', 'temporary-failure', 'sending') AND next_attempt_at <= $1
        ORDER BY next_attempt_at
        LIMIT $2
        FOR UPDATE SKIP LOCKED
    ), claimed AS (
        UPDATE notifications n SET status = 'sending', attempts = n.attempts + 1, next_attempt_at = $3, updated_at = $1
        FROM due WHERE n.notification_id = due.notification_id
        RETURNING n.notification_id, n.reference, n.template_id, n.requested_by, n.idempotency_key, n.correlation_id,
                  n.recipient_email, n.recipient_name, n.subject, n.body_text, n.body_html, n.attempts, n.created_at,
                  due.previous_status
    ), logged AS (
        INSERT INTO delivery_log (notification_id, at, status, detail)
        SELECT notification_id, $1, 'sending',
               'attempt ' || attempts || CASE WHEN previous_status = 'sending' THEN ', the previous attempt was never confirmed' ELSE '' END
        FROM claimed
    )
    SELECT * FROM claimed
"""

# Every outcome of a batch in one statement; a row whose lease another process took over (its
# attempts moved on) is left to that process.
_RECORD = """
    UPDATE notifications n SET status = o.status, last_answer = o.answer, updated_at = $5, attempts = o.counted_attempts,
        next_attempt_at = o.next_attempt_at, delivered_at = CASE WHEN o.status = 'delivered' THEN $5::timestamptz END
    FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $6::timestamptz[], $7::int[])
         AS o(notification_id, attempts, status, answer, next_attempt_at, counted_attempts)
    WHERE n.notification_id = o.notification_id AND n.status = 'sending' AND n.attempts = o.attempts
    RETURNING n.notification_id
"""


@dataclass(frozen=True, slots=True)
class NotSent:
    """An email this service did not try to send, and why (a final state)."""

    status: str
    answer: str


# What became of one email of a batch: the server's answer, a failure, or not sent at all.
Outcome = str | TemporaryFailure | PermanentFailure | NotSent


BACKLOG_SECONDS = 15.0  # how often the backlog gauges are refreshed
_NEXT_DUE = "SELECT min(next_attempt_at) FROM notifications WHERE status IN ('created', 'temporary-failure', 'sending')"
_BACKLOG = """
    SELECT count(*) FILTER (WHERE status <> 'sending' AND next_attempt_at <= $1) AS due,
           count(*) FILTER (WHERE status = 'temporary-failure' AND next_attempt_at > $1) AS retrying,
           count(*) FILTER (WHERE status = 'sending') AS sending,
           min(next_attempt_at) FILTER (WHERE status <> 'sending' AND next_attempt_at <= $1) AS oldest_due
    FROM notifications WHERE status IN ('created', 'temporary-failure', 'sending')
"""


class Deliverer:
    """The loop that delivers due notifications, a batch at a time, until stopped.

    It does not poll: accepting a request notifies `notification_due` at commit, which wakes it
    (on every replica: SKIP LOCKED shares the work), and between batches it sleeps until the
    next retry or lease is due. `poll_seconds` is only the safety net for a wake-up missed while
    its listening connection was being reopened.
    """

    def __init__(self, *, pool: asyncpg.Pool, database_url: str, sender: SmtpSender, settings: DeliverySettings, clock: Clock, poll_seconds: float) -> None:
        self._pool, self._sender, self._settings, self._clock, self._poll_seconds = pool, sender, settings, clock, poll_seconds
        self._database_url = database_url
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
            row = await connection.fetchrow(_BACKLOG, now)
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
        self._listener = await asyncpg.connect(self._database_url)
        await self._listener.add_listener(DUE_CHANNEL, lambda *_: self._wake.set())

    async def _sleep_until_due(self) -> None:
        """Until a request is accepted, the next retry or lease is due, or the safety net."""
        async with self._pool.acquire() as connection:
            next_due = await connection.fetchval(_NEXT_DUE)
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
            claimed = await connection.fetch(_CLAIM, now, settings.batch_size, now + timedelta(seconds=settings.lease_seconds))
        if not claimed:
            return 0
        results: list[Outcome | None] = [None] * len(claimed)
        emails: list[tuple[int, Email]] = []
        for index, row in enumerate(claimed):
            if row["previous_status"] == "sending" and row["attempts"] > settings.max_attempts:
                # Claimed and lost again and again (a process that dies on this batch): stop.
                results[index] = NotSent("technical-failure", f"gave up after {row['attempts'] - 1} attempts that were never confirmed")
                continue
            try:
                emails.append((index, self._email(row, now)))
            except UndeliverableAddress as error:
                results[index] = PermanentFailure(str(error))
            except Exception as error:
                log.exception("could not write the email", notification_id=str(row["notification_id"]))
                results[index] = NotSent("technical-failure", f"the email could not be written: {type(error).__name__}: {error}")
        sent = await self._sender.send_all([email for _, email in emails], within_seconds=settings.lease_seconds / 2)
        for (index, _), result in zip(emails, sent):
            results[index] = result
        failpoint("notification.after_send")  # tests: killed between the server's 250 and the commit
        await self._record(claimed, results)  # type: ignore[arg-type]
        return len(claimed)

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
        settings = self._settings
        now = self._clock.now()
        statuses, answers, next_attempts, counted = [], [], [], []
        for row, result in zip(claimed, results):
            attempts = row["attempts"]
            if isinstance(result, str):
                status, answer, next_attempt = "delivered", result, None
            elif isinstance(result, NotSent):
                status, answer, next_attempt = result.status, result.answer, None
            elif isinstance(result, PermanentFailure):
                status, answer, next_attempt = "permanent-failure", result.answer, None
            elif isinstance(result, ServerUnreachable):
                # Not the email's fault (the server was down, or refused our session): it does not
                # count as an attempt. It waits longer the older it is, and is given up by age.
                attempts -= 1
                age = now - row["created_at"]
                if age >= timedelta(hours=settings.give_up_after_hours):
                    status, answer, next_attempt = "technical-failure", f"gave up after {age} without reaching the server: {result.answer}", None
                else:
                    status, answer = "temporary-failure", result.answer
                    wait = min(settings.backoff_max, max(settings.backoff_initial, age.total_seconds() / 4))
                    next_attempt = now + timedelta(seconds=wait)
            elif attempts >= settings.max_attempts:
                status, answer, next_attempt = "technical-failure", f"gave up after {attempts} attempts: {result.answer}", None
            else:
                status, answer = "temporary-failure", result.answer
                next_attempt = now + backoff(attempts, initial=settings.backoff_initial, maximum=settings.backoff_max)
            statuses.append(status)
            answers.append(answer)
            next_attempts.append(next_attempt)
            counted.append(attempts)
        # The emails are out: losing their outcomes to a database blip would send them all again
        # when the lease runs out, so the write is retried for a while first.
        for attempt in itertools.count(1):
            try:
                mine = await self._write_outcomes(claimed, statuses, answers, next_attempts, counted, now)
                break
            except _DATABASE_AWAY:
                if attempt >= 8 or self._stopping:
                    raise
                log.warning("could not record delivery outcomes, retrying", attempt=attempt)
                await asyncio.sleep(min(0.25 * 2**attempt, 10.0))
        for i in mine:
            OUTCOMES.labels(statuses[i]).inc()
            if statuses[i] != "delivered":
                log.info("not delivered", notification_id=str(claimed[i]["notification_id"]), status=statuses[i], attempts=counted[i], answer=answers[i])
        if lost := len(claimed) - len(mine):
            log.warning("outcomes not recorded: another process had taken the notifications over", count=lost)

    async def _write_outcomes(
        self,
        claimed: list[asyncpg.Record],
        statuses: list[str],
        answers: list[str],
        next_attempts: list[datetime | None],
        counted: list[int],
        now: datetime,
    ) -> list[int]:
        """Indexes of the outcomes written (those still under this process's lease)."""
        async with self._pool.acquire() as connection, connection.transaction():
            recorded = {
                r["notification_id"]
                for r in await connection.fetch(
                    _RECORD,
                    [r["notification_id"] for r in claimed],
                    [r["attempts"] for r in claimed],
                    statuses,
                    answers,
                    now,
                    next_attempts,
                    counted,
                )
            }
            mine = [i for i, row in enumerate(claimed) if row["notification_id"] in recorded]
            await connection.execute(
                "INSERT INTO delivery_log (notification_id, at, status, detail) SELECT id, $2, s, d FROM unnest($1::uuid[], $3::text[], $4::text[]) AS l(id, s, d)",
                [claimed[i]["notification_id"] for i in mine],
                now,
                [statuses[i] for i in mine],
                [answers[i] for i in mine],
            )
            await _publish_outcomes(
                connection,
                [
                    _outcome_envelope(claimed[i], status=statuses[i], reason=None if statuses[i] == "delivered" else answers[i])
                    for i in mine
                    if statuses[i] != "temporary-failure"
                ],
            )
        return mine


# ------------------------------------------------------------------------------- the delivery log (back office)


async def notifications(
    connection: asyncpg.Connection, *, reference: str | None, recipient: str | None, status: str | None, limit: int
) -> list[dict[str, Any]]:
    rows = await connection.fetch(
        """
        SELECT notification_id, reference, template_id, template_version, recipient_email, recipient_name, requested_by, status,
               attempts, last_answer, created_at, updated_at, delivered_at
        FROM notifications
        WHERE ($1::text IS NULL OR reference = $1) AND ($2::text IS NULL OR lower(recipient_email) = lower($2)) AND ($3::text IS NULL OR status = $3)
        ORDER BY created_at DESC LIMIT $4
        """,
        reference,
        recipient,
        status,
        limit,
    )
    return [dict(r) for r in rows]


async def notification(connection: asyncpg.Connection, *, notification_id: UUID) -> dict[str, Any] | None:
    row = await connection.fetchrow("SELECT * FROM notifications WHERE notification_id = $1", notification_id)
    if row is None:
        return None
    result = dict(row)
    result["log"] = [
        dict(r) for r in await connection.fetch("SELECT at, status, detail FROM delivery_log WHERE notification_id = $1 ORDER BY id", notification_id)
    ]
    return result
