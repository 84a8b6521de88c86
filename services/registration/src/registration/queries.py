"""SQL that several use cases share: loading a dossier, its history, the organisation, the joint
committees and the documents an organisation owns."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from registration.domain import OPEN_STATUSES
from service_runtime.db import sql_list
from service_runtime.errors import Forbidden, NotFound
from service_runtime.projections import Organisation, organisation

OPEN = sql_list(OPEN_STATUSES)


async def application(connection: asyncpg.Connection, application_id: UUID, *, for_update: bool = False) -> asyncpg.Record:
    row = await connection.fetchrow("SELECT * FROM applications WHERE application_id = $1" + (" FOR UPDATE" if for_update else ""), application_id)
    if row is None:
        raise NotFound("no such application")
    return row


def ensure_own(row: asyncpg.Record, organisation_id: UUID) -> None:
    """R-1: a provider only ever sees its own organisation's dossiers."""
    if row["organisation_id"] != organisation_id:
        raise Forbidden("this dossier belongs to another organisation")


async def own_application(connection: asyncpg.Connection, *, organisation_id: UUID, application_id: UUID, for_update: bool = False) -> asyncpg.Record:
    row = await application(connection, application_id, for_update=for_update)
    ensure_own(row, organisation_id)
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
        raise NotFound("this organisation is not known to the training database yet")
    return found


async def committees(connection: asyncpg.Connection) -> set[str]:
    return {row["number"] for row in await connection.fetch("SELECT number FROM joint_committees")}


async def owned_documents(connection: asyncpg.Connection, organisation_id: UUID, document_ids: list[UUID]) -> set[UUID]:
    """Which of these documents belong to the organisation (one query, however many are named)."""
    if not document_ids:
        return set()
    rows = await connection.fetch(
        "SELECT document_id FROM documents WHERE organisation_id = $1 AND document_id = ANY($2::uuid[])", organisation_id, document_ids
    )
    return {r["document_id"] for r in rows}


async def organisation_contact(connection: asyncpg.Connection, organisation_id: UUID) -> dict[str, Any] | None:
    """R-3: the contact person the organisation entered once."""
    contact: dict[str, Any] | None = await connection.fetchval("SELECT contact FROM organisation_data WHERE organisation_id = $1", organisation_id)
    return contact
