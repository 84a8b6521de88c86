"""The notification service's SQL, and the writes that accepting and delivering share: the
delivery log and the outcome events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from prometheus_client import Counter

from notification.domain import PENDING, Status
from service_runtime.outbox import add_all_to_outbox, event_source
from wse_contracts.notification import NotificationDeliveredV1, NotificationFailedV1

DUE_CHANNEL = "notification_due"  # notified (at commit) when requests were accepted
OUTCOMES = Counter("notification_outcomes_total", "Notifications by the outcome of an attempt.", ["status"])

_PENDING = ", ".join(f"'{status}'" for status in PENDING)

# ------------------------------------------------------------------------------- accepting

ACCEPT_COLUMNS = (
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
    "traceparent",
)
# One row per request and recipient, in one statement; the same request again (same requesting
# service, idempotency key and recipient) creates nothing. Only a `created` one is due.
ACCEPT = f"""
    INSERT INTO notifications (notification_id, requested_by, idempotency_key, reference, template_id, template_version,
        recipient_email, recipient_name, personalisation, subject, body_text, body_html, status, last_answer, correlation_id,
        traceparent, created_at, updated_at, next_attempt_at)
    SELECT r.*, $17, $17, CASE WHEN r.status = '{Status.CREATED}' THEN $17::timestamptz END
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[], $9::jsonb[],
                $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[])
         AS r(notification_id, requested_by, idempotency_key, reference, template_id, template_version, recipient_email,
              recipient_name, personalisation, subject, body_text, body_html, status, last_answer, correlation_id, traceparent)
    ON CONFLICT (requested_by, idempotency_key, recipient_email) DO NOTHING
    RETURNING notification_id, reference, template_id, requested_by, idempotency_key, status, last_answer, correlation_id
"""

# ------------------------------------------------------------------------------- delivering

# One statement: take the due notifications (new, retrying, or `sending` with a lapsed lease, i.e.
# the process that had them died), mark them `sending` with a lease, and log the attempt.
CLAIM = f"""
    WITH due AS (
        SELECT notification_id, status AS previous_status FROM notifications
        WHERE status IN ({_PENDING}) AND next_attempt_at <= $1
        ORDER BY next_attempt_at
        LIMIT $2
        FOR UPDATE SKIP LOCKED
    ), claimed AS (
        UPDATE notifications n SET status = '{Status.SENDING}', attempts = n.attempts + 1, next_attempt_at = $3, updated_at = $1
        FROM due WHERE n.notification_id = due.notification_id
        RETURNING n.notification_id, n.reference, n.template_id, n.requested_by, n.idempotency_key, n.correlation_id, n.traceparent,
                  n.recipient_email, n.recipient_name, n.subject, n.body_text, n.body_html, n.attempts, n.created_at, due.previous_status
    ), logged AS (
        INSERT INTO delivery_log (notification_id, at, status, detail)
        SELECT notification_id, $1, '{Status.SENDING}',
               'attempt ' || attempts || CASE WHEN previous_status = '{Status.SENDING}' THEN ', the previous attempt was never confirmed' ELSE '' END
        FROM claimed
    )
    SELECT * FROM claimed
"""

# Every outcome of a batch in one statement; a row whose lease another process took over (its
# attempts moved on) is left to that process.
RECORD = f"""
    UPDATE notifications n SET status = o.status, last_answer = o.answer, updated_at = $5, attempts = o.counted_attempts,
        next_attempt_at = o.next_attempt_at, delivered_at = CASE WHEN o.status = '{Status.DELIVERED}' THEN $5::timestamptz END
    FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $6::timestamptz[], $7::int[])
         AS o(notification_id, attempts, status, answer, next_attempt_at, counted_attempts)
    WHERE n.notification_id = o.notification_id AND n.status = '{Status.SENDING}' AND n.attempts = o.attempts
    RETURNING n.notification_id
"""

NEXT_DUE = f"SELECT min(next_attempt_at) FROM notifications WHERE status IN ({_PENDING})"
BACKLOG = f"""
    SELECT count(*) FILTER (WHERE status <> '{Status.SENDING}' AND next_attempt_at <= $1) AS due,
           count(*) FILTER (WHERE status = '{Status.TEMPORARY_FAILURE}' AND next_attempt_at > $1) AS retrying,
           count(*) FILTER (WHERE status = '{Status.SENDING}') AS sending,
           min(next_attempt_at) FILTER (WHERE status <> '{Status.SENDING}' AND next_attempt_at <= $1) AS oldest_due
    FROM notifications WHERE status IN ({_PENDING})
"""

# ------------------------------------------------------------------------------- the delivery log (back office)

# Newest first, a page after the cursor's (created_at, notification_id); $4 is the page's size + 1.
NOTIFICATIONS = """
    SELECT notification_id, reference, template_id, template_version, recipient_email, recipient_name, requested_by, status,
           attempts, last_answer, created_at, updated_at, delivered_at
    FROM notifications
    WHERE ($1::text IS NULL OR reference = $1) AND ($2::text IS NULL OR lower(recipient_email) = lower($2)) AND ($3::text IS NULL OR status = $3)
      AND ($5::timestamptz IS NULL OR (created_at, notification_id) < ($5::timestamptz, $6::uuid))
    ORDER BY created_at DESC, notification_id DESC LIMIT $4
"""
NOTIFICATION = "SELECT * FROM notifications WHERE notification_id = $1"
LOG_OF = "SELECT at, status, detail FROM delivery_log WHERE notification_id = $1 ORDER BY id"


# ------------------------------------------------------------------------------- shared writes


async def log_statuses(connection: asyncpg.Connection, *, ids: Sequence[UUID], statuses: Sequence[str], details: Sequence[str | None], at: datetime) -> None:
    """One delivery-log line per notification and status, in one statement."""
    await connection.execute(
        "INSERT INTO delivery_log (notification_id, at, status, detail) SELECT id, $2, s, d FROM unnest($1::uuid[], $3::text[], $4::text[]) AS l(id, s, d)",
        list(ids),
        at,
        list(statuses),
        list(details),
    )


async def publish_outcomes(connection: asyncpg.Connection, outcomes: Sequence[tuple[Any, Status, str]], *, at: datetime) -> None:
    """The final outcome of each (row, status, answer): delivered, or failed with the reason. In
    the caller's transaction; one event per notification, after which nothing changes."""
    if not outcomes:
        return
    source = event_source(connection)
    envelopes = []
    for row, status, answer in outcomes:
        common = dict(
            notification_id=str(row["notification_id"]),
            reference=row["reference"],
            template_id=row["template_id"],
            requested_by=row["requested_by"],
            idempotency_key=row["idempotency_key"],
            at=at,
        )
        event = NotificationDeliveredV1(**common) if status == Status.DELIVERED else NotificationFailedV1(**common, status=status, reason=answer or status)
        # The requesting service's correlation id: its dossier's trail runs on to the email's fate.
        envelopes.append(event.to_envelope(source=source, correlation_id=row["correlation_id"] or "none", time=at))
    # Delivered and failed share one topic, keyed by notification: their order per email holds.
    await add_all_to_outbox(connection, envelopes, topic=NotificationDeliveredV1.topic)
