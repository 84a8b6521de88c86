"""The notification service's use cases: accept a request (render it, or fail it with the reason),
deliver it over SMTP with bounded retries, and answer "did the contact person get it?".

Delivery is a durable scheduler job per notification, run in a database transaction: the
email is sent, then its status is committed. A process killed between the server's "250 OK" and
that commit sends the email again after a restart: at most one duplicate, never a lost email
(SMTP has no way to ask whether a message already arrived, so exactly-once is not on offer).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any
from uuid import UUID

import asyncpg
import structlog

from notification import templates
from notification.smtp import PermanentFailure, SmtpSender, TemporaryFailure
from service_runtime.failpoints import failpoint
from service_runtime.outbox import publish_event
from service_runtime.scheduler import Job, schedule_job
from wse_contracts.notification import NotificationDeliveredV1, NotificationFailedV1, NotificationRequestedV1

log = structlog.get_logger(__name__)

SOURCE = "/wse/notification"
DELIVER_JOB = "notification.deliver"
TERMINAL = ("delivered", "permanent-failure", "technical-failure")


def backoff(attempt: int, *, initial: float, maximum: float) -> timedelta:
    """Exponential: initial, 2x, 4x, ... capped."""
    return timedelta(seconds=min(initial * 2 ** max(attempt - 1, 0), maximum))


async def _log(connection: asyncpg.Connection, notification_id: UUID, *, at: datetime, status: str, detail: str | None = None) -> None:
    await connection.execute(
        "INSERT INTO delivery_log (notification_id, at, status, detail) VALUES ($1, $2, $3, $4)", notification_id, at, status, detail
    )


async def _outcome_event(connection: asyncpg.Connection, row: asyncpg.Record, *, status: str, reason: str | None = None) -> None:
    common = dict(
        notification_id=str(row["notification_id"]), reference=row["reference"], template_id=row["template_id"],
        requested_by=row["requested_by"], idempotency_key=row["idempotency_key"],
    )
    event = NotificationDeliveredV1(**common) if status == "delivered" else NotificationFailedV1(**common, status=status, reason=reason or status)
    await publish_event(connection, event, source=SOURCE)


# ------------------------------------------------------------------------------- accepting requests


async def accept_request(connection: asyncpg.Connection, *, request: NotificationRequestedV1, now: datetime) -> list[UUID]:
    """One notification per recipient. The same request again (same requesting service and
    idempotency key) creates nothing. A request that cannot be rendered fails with the reason:
    no half-empty email goes out."""
    try:
        rendered = templates.render(request.template_id, request.template_version, request.personalisation)
        failure = None
    except templates.TemplateError as error:  # missing personalisation, unknown template: no retry helps
        rendered, failure = None, str(error)
    created = []
    for recipient in request.recipients:
        notification_id = uuid.uuid4()
        row = await connection.fetchrow(
            """
            INSERT INTO notifications (notification_id, requested_by, idempotency_key, reference, template_id, template_version,
                recipient_email, recipient_name, personalisation, subject, body_text, body_html, status, last_answer, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
            ON CONFLICT (requested_by, idempotency_key, recipient_email) DO NOTHING
            RETURNING *
            """,
            notification_id, request.requested_by, request.idempotency_key, request.reference, request.template_id, request.template_version,
            str(recipient.email), recipient.name, request.personalisation,
            rendered.subject if rendered else None, rendered.text if rendered else None, rendered.html if rendered else None,
            "created" if rendered else "technical-failure", failure, now,
        )
        if row is None:
            continue  # seen before
        created.append(notification_id)
        await _log(connection, notification_id, at=now, status="created")
        if failure:
            await _log(connection, notification_id, at=now, status="technical-failure", detail=failure)
            await _outcome_event(connection, row, status="technical-failure", reason=failure)
            log.warning("notification not rendered", notification_id=str(notification_id), template_id=request.template_id, reason=failure)
            continue
        await schedule_job(connection, job=DELIVER_JOB, dedup_key=str(notification_id), due_at=now, payload={"notification_id": str(notification_id)})
    return created


# ------------------------------------------------------------------------------- delivering


def email_message(row: asyncpg.Record, *, sender: str, reply_to: str | None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    if reply_to:
        message["Reply-To"] = reply_to
    message["To"] = formataddr((row["recipient_name"] or "", row["recipient_email"]))
    message["Subject"] = row["subject"]
    message["Message-ID"] = make_msgid(idstring=str(row["notification_id"]), domain="wse.vlaanderen.be")
    message["X-WSE-Reference"] = row["reference"]
    message["X-WSE-Notification-Id"] = str(row["notification_id"])
    message.set_content(row["body_text"])
    message.add_alternative(row["body_html"], subtype="html")
    return message


def deliver_job(*, sender: SmtpSender, mail_from: str, reply_to: str | None, max_attempts: int, backoff_initial: float, backoff_max: float):
    async def deliver(connection: asyncpg.Connection, job: Job) -> None:
        now = job.ran_at or datetime.now(timezone.utc)
        row = await connection.fetchrow("SELECT * FROM notifications WHERE notification_id = $1 FOR UPDATE", UUID(job.payload["notification_id"]))
        if row is None or row["status"] in TERMINAL:
            return
        attempts = row["attempts"] + 1
        try:
            answer = await sender.send(email_message(row, sender=mail_from, reply_to=reply_to))
        except PermanentFailure as error:
            await _finish(connection, row, status="permanent-failure", answer=error.answer, attempts=attempts, now=now)
            return
        except TemporaryFailure as error:
            if attempts >= max_attempts:
                await _finish(connection, row, status="technical-failure", answer=f"gave up after {attempts} attempts: {error.answer}", attempts=attempts, now=now)
                return
            await connection.execute(
                "UPDATE notifications SET status = 'temporary-failure', attempts = $2, last_answer = $3, updated_at = $4 WHERE notification_id = $1",
                row["notification_id"], attempts, error.answer, now,
            )
            await _log(connection, row["notification_id"], at=now, status="temporary-failure", detail=error.answer)
            await schedule_job(
                connection, job=DELIVER_JOB, dedup_key=str(row["notification_id"]),
                due_at=now + backoff(attempts, initial=backoff_initial, maximum=backoff_max), payload=job.payload,
            )
            log.info("temporary failure, retrying", notification_id=str(row["notification_id"]), attempts=attempts, answer=error.answer)
            return
        failpoint("notification.after_send")  # tests: killed between the server's 250 and the commit
        await _finish(connection, row, status="delivered", answer=answer, attempts=attempts, now=now)

    return deliver


async def _finish(connection: asyncpg.Connection, row: asyncpg.Record, *, status: str, answer: str, attempts: int, now: datetime) -> None:
    await connection.execute(
        "UPDATE notifications SET status = $2::text, attempts = $3, last_answer = $4, updated_at = $5::timestamptz, "
        "delivered_at = CASE WHEN $2::text = 'delivered' THEN $5::timestamptz END "
        "WHERE notification_id = $1",
        row["notification_id"], status, attempts, answer, now,
    )
    await _log(connection, row["notification_id"], at=now, status=status, detail=answer)
    await _outcome_event(connection, row, status=status, reason=None if status == "delivered" else answer)


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
        reference, recipient, status, limit,
    )
    return [dict(r) for r in rows]


async def notification(connection: asyncpg.Connection, *, notification_id: UUID) -> dict[str, Any] | None:
    row = await connection.fetchrow("SELECT * FROM notifications WHERE notification_id = $1", notification_id)
    if row is None:
        return None
    result = dict(row)
    result["log"] = [dict(r) for r in await connection.fetch(
        "SELECT at, status, detail FROM delivery_log WHERE notification_id = $1 ORDER BY id", notification_id
    )]
    return result
