"""The notification service's delivery facts (E-6, E-10): a term that runs "from the day the email
was sent" starts on the day the email reached the mail server, which only the notification
service knows and publishes. The first delivery counts; a repeat changes nothing."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import asyncpg
import structlog

from recognition import queries
from recognition.domain import Status
from recognition.use_cases.common import SERVICE, arm_examination_reminder
from service_runtime.calendar import brussels_date
from service_runtime.outbox import publish_event
from wse_contracts.recognition import RecognitionExaminationStartedV1

log = structlog.get_logger(__name__)


def parse_key(idempotency_key: str) -> tuple[UUID, str] | None:
    """The application (or recognition) and the kind of email of one of our keys (`common.email_key`)."""
    service, _, rest = idempotency_key.partition(":")
    aggregate, _, kind = rest.partition(":")
    if service != SERVICE:
        return None
    try:
        return UUID(aggregate), kind
    except ValueError:
        return None


async def email_delivered(connection: asyncpg.Connection, *, idempotency_key: str, delivered_at: datetime) -> None:
    parsed = parse_key(idempotency_key)
    if parsed is None:
        return
    application_id, kind = parsed
    day = brussels_date(delivered_at)
    if kind == "admissibility":
        await _examination_starts(connection, application_id, day, delivered_at)
    elif kind == "decision":
        # E-10: informed of the decision; the 30 days for a reconsideration run from here.
        updated = await connection.fetchval(
            "UPDATE applications SET decision_informed_on = $2 WHERE application_id = $1 AND decision_informed_on IS NULL RETURNING application_id",
            application_id,
            day,
        )
        if updated:
            await queries.add_history(connection, application_id, at=delivered_at, actor_id=None, action="decision_delivered", on=day.isoformat())


async def _examination_starts(connection: asyncpg.Connection, application_id: UUID, day: date, at: datetime) -> None:
    """E-6: the 45 days run from the day the admissibility email was delivered (only an admissible
    application is examined)."""
    row = await connection.fetchrow(
        f"""
        UPDATE applications SET examination_starts_on = $2, version = version + 1
        WHERE application_id = $1 AND examination_starts_on IS NULL AND admissibility_judged_on IS NOT NULL
          AND status IN ('{Status.IN_EXAMINATION}', '{Status.AWAITING_INFORMATION}', '{Status.ADVISED}')
        RETURNING *
        """,
        application_id,
        day,
    )
    if row is None:
        return
    await queries.add_history(connection, application_id, at=at, actor_id=None, action="examination_started", on=day.isoformat())
    await arm_examination_reminder(connection, row)
    if row["examination_due_on"] is not None:
        await publish_event(
            connection,
            RecognitionExaminationStartedV1(
                application_id=application_id,
                organisation_id=row["organisation_id"],
                dossier_number=row["dossier_number"],
                starts_on=day,
                examination_due_on=row["examination_due_on"],
            ),
        )


async def email_failed(connection: asyncpg.Connection, *, idempotency_key: str, status: str, reason: str, at: datetime) -> None:
    """An email about an application could not be delivered: the applicant was not informed, so
    no term started; the case handler sees it in the history."""
    parsed = parse_key(idempotency_key)
    if parsed is None:
        return
    application_id, kind = parsed
    exists = await connection.fetchval("SELECT 1 FROM applications WHERE application_id = $1", application_id)
    if exists:
        await queries.add_history(connection, application_id, at=at, actor_id=None, action="email_failed", email=kind, status=status, reason=reason)
    else:
        log.warning("recognition email failed", email=kind, status=status)
