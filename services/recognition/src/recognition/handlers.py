"""What the recognition service does on its own: the notification service's delivery facts
(E-6, E-10) and the terms that come (E-6's reminder, E-8's end and reminder, E-9). Each is a thin
call into a use case; the time is the runtime's."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import structlog

from recognition import queries
from recognition.use_cases import deliveries, recognitions
from recognition.use_cases.common import EXAMINATION_REMINDER_JOB, EXPIRY_JOB, EXPIRY_REMINDER_JOB, INACTIVITY_JOB
from service_runtime.consumer import Consumer
from service_runtime.scheduler import Job, JobHandler
from wse_contracts import Envelope
from wse_contracts.notification import NotificationDeliveredV1, NotificationFailedV1

log = structlog.get_logger(__name__)


async def delivered(connection: asyncpg.Connection, envelope: Envelope) -> None:
    event = NotificationDeliveredV1.model_validate(envelope.data)
    if event.requested_by != "recognition":
        return
    await deliveries.email_delivered(connection, idempotency_key=event.idempotency_key, delivered_at=event.at or envelope.time)


async def failed(connection: asyncpg.Connection, envelope: Envelope) -> None:
    event = NotificationFailedV1.model_validate(envelope.data)
    if event.requested_by != "recognition":
        return
    await deliveries.email_failed(connection, idempotency_key=event.idempotency_key, status=event.status, reason=event.reason, at=event.at or envelope.time)


def deliveries_consumer() -> Consumer:
    return Consumer(
        name="deliveries",
        topics=[NotificationDeliveredV1.topic],
        handlers={NotificationDeliveredV1.event_type: delivered, NotificationFailedV1.event_type: failed},
        description="The notification service's delivery facts: the day an admissibility or decision email reached the mail server starts E-6's and E-10's terms.",
    )


async def examination_reminder(connection: asyncpg.Connection, job: Job) -> None:
    """E-6: the examination deadline is near; the case handler sees it in the dossier's history (and the queue)."""
    application_id = UUID(job.payload["application_id"])
    await queries.add_history(
        connection, application_id, at=job.due_at, actor_id=None, action="examination_deadline_near", examination_due_on=job.payload["examination_due_on"]
    )
    log.info("examination deadline near", application_id=str(application_id), examination_due_on=job.payload["examination_due_on"])


async def expiry(connection: asyncpg.Connection, job: Job) -> None:
    await recognitions.expired(connection, recognition_id=UUID(job.payload["recognition_id"]), now=job.ran_at or job.due_at)


async def expiry_reminder(connection: asyncpg.Connection, job: Job) -> None:
    await recognitions.remind_expiry(connection, recognition_id=UUID(job.payload["recognition_id"]), now=job.ran_at or job.due_at)


async def inactivity(connection: asyncpg.Connection, job: Job) -> None:
    await recognitions.inactivity_due(connection, recognition_id=UUID(job.payload["recognition_id"]), now=job.ran_at or job.due_at)


JOBS: dict[str, JobHandler] = {
    EXAMINATION_REMINDER_JOB: examination_reminder,
    EXPIRY_JOB: expiry,
    EXPIRY_REMINDER_JOB: expiry_reminder,
    INACTIVITY_JOB: inactivity,
}
