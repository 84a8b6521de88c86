"""R-2: an application is held until its organisation has the WSE quality registration; it is
released when identity says the organisation has one (through the organisations projection)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from registration import queries
from registration.domain import Status
from service_runtime.calendar import brussels_date
from service_runtime.outbox import publish_event
from service_runtime.projections import Organisation
from wse_contracts.registration import ApplicationReleasedV1


async def release_held(connection: asyncpg.Connection, *, organisation: Organisation, now: datetime) -> int:
    """Once the organisation is quality-registered, its held applications go to review."""
    if not organisation.quality_registered_on(brussels_date(now)):
        return 0
    released = await connection.fetch(
        f"UPDATE applications SET status = '{Status.IN_REVIEW}', version = version + 1, updated_at = now() "
        f"WHERE organisation_id = $1 AND status = '{Status.HELD}' RETURNING application_id",
        organisation.organisation_id,
    )
    for r in released:
        await queries.add_history(connection, r["application_id"], at=now, actor_id=None, action="released", reason="WSE quality registration")
        await publish_event(connection, ApplicationReleasedV1(application_id=r["application_id"], organisation_id=organisation.organisation_id))
    return len(released)
