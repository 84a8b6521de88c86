"""SQL that several use cases share: loading an application or a recognition, its history, the
organisation, and which enterprise numbers hold a recognition on a day."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from recognition.domain import QUEUE_STATUSES
from service_runtime.db import sql_list
from service_runtime.errors import Forbidden, NotFound
from service_runtime.projections import Organisation, organisation

QUEUE = sql_list(QUEUE_STATUSES)

# E-8: holds on $1 (the recognition's own dates; no job needed for the answer).
RECOGNISED_ON = "r.valid_from <= $1 AND r.valid_until >= $1 AND (r.ended_on IS NULL OR r.ended_on > $1)"


async def application(connection: asyncpg.Connection, application_id: UUID, *, for_update: bool = False) -> asyncpg.Record:
    row = await connection.fetchrow("SELECT * FROM applications WHERE application_id = $1" + (" FOR UPDATE" if for_update else ""), application_id)
    if row is None:
        raise NotFound("no such application")
    return row


def ensure_own(row: asyncpg.Record, organisation_id: UUID, what: str = "application") -> None:
    """E-1: a provider only ever sees its own organisation's dossiers (a refusal is audited)."""
    if row["organisation_id"] != organisation_id:
        raise Forbidden(f"this {what} belongs to another organisation", rule="E-1", organisation_id=row["organisation_id"])


async def own_application(connection: asyncpg.Connection, *, organisation_id: UUID, application_id: UUID, for_update: bool = False) -> asyncpg.Record:
    row = await application(connection, application_id, for_update=for_update)
    ensure_own(row, organisation_id)
    return row


async def recognition(connection: asyncpg.Connection, recognition_id: UUID, *, for_update: bool = False) -> asyncpg.Record:
    row = await connection.fetchrow("SELECT * FROM recognitions WHERE recognition_id = $1" + (" FOR UPDATE" if for_update else ""), recognition_id)
    if row is None:
        raise NotFound("no such recognition")
    return row


async def own_recognition(connection: asyncpg.Connection, *, organisation_id: UUID, recognition_id: UUID, for_update: bool = False) -> asyncpg.Record:
    row = await recognition(connection, recognition_id, for_update=for_update)
    ensure_own(row, organisation_id, "recognition")
    return row


async def add_history(connection: asyncpg.Connection, application_id: UUID, *, at: datetime, actor_id: UUID | None, action: str, **details: Any) -> None:
    await connection.execute(
        "INSERT INTO application_history (application_id, at, actor_id, action, details) VALUES ($1, $2, $3, $4, $5)",
        application_id,
        at,
        actor_id,
        action,
        details,
    )


async def known_organisation(connection: asyncpg.Connection, organisation_id: UUID) -> Organisation:
    found = await organisation(connection, organisation_id)
    if found is None:
        # Identity's event has not arrived (or the organisation does not exist): nothing to act for.
        raise NotFound("this organisation is not known to Platos yet")
    return found


async def recognised_enterprises(connection: asyncpg.Connection, numbers: list[str], on: date) -> set[str]:
    """E-11: which of these enterprise numbers hold a recognition on that day."""
    if not numbers:
        return set()
    rows = await connection.fetch(
        f"SELECT DISTINCT r.enterprise_number FROM recognitions r WHERE {RECOGNISED_ON} AND r.enterprise_number = ANY($2::text[])", on, numbers
    )
    return {r["enterprise_number"] for r in rows}


async def assignments(connection: asyncpg.Connection, recognition_id: UUID) -> list[asyncpg.Record]:
    return await connection.fetch("SELECT * FROM coaching_assignments WHERE recognition_id = $1 ORDER BY starts_on, recorded_at", recognition_id)
