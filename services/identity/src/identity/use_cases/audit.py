"""Reading the audit log (ID-12): an organisation's administrators read its entries, the
department's helpdesk reads everyone's."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from identity.use_cases.authority import require_administrator, require_operator
from service_runtime import paging
from service_runtime.auth import Actor


async def audit_trail(
    connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID | None, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Administrators read their organisation's trail; operators read all (organisation_id None). Newest first."""
    if organisation_id is None:
        await require_operator(connection, actor)
    else:
        await require_administrator(connection, actor, organisation_id)
    after = paging.decode_cursor(cursor, (paging.INTEGER,))
    rows = await connection.fetch(
        "SELECT id, at, actor_id, acting_for, organisation_id, action, subject, outcome, reason, details, correlation_id FROM audit_log "
        "WHERE ($1::uuid IS NULL OR organisation_id = $1) AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        organisation_id,
        after[0] if after else None,
        limit + 1,
    )
    items, next_cursor = paging.page(rows, limit, lambda r: (r["id"],))
    return [dict(r) for r in items], next_cursor
