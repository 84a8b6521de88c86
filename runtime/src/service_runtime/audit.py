"""The audit log every service writes to (ID-12): one append-only shape for what was done and
for what was refused, wherever the decision was made (the access guard at the door, a use case's
rule inside).

A refusal is written in a transaction of its own (the use case's own is rolled back), so it
stays even though nothing else of the attempt does.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

import asyncpg

from service_runtime.logging import correlation_id_var

Outcome = Literal["done", "denied"]


async def record_audit(
    connection: asyncpg.Connection,
    *,
    actor_id: UUID | None,
    acting_for: UUID | None,
    action: str,
    outcome: Outcome = "done",
    organisation_id: UUID | None = None,
    subject: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    await connection.execute(
        "INSERT INTO audit_log (actor_id, acting_for, organisation_id, action, subject, outcome, reason, details, correlation_id) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        actor_id,
        acting_for,
        organisation_id,
        action,
        subject,
        outcome,
        reason,
        details or {},
        correlation_id_var.get(),
    )


async def audit_entries(connection: asyncpg.Connection, *, organisation_id: UUID | None, limit: int = 200) -> list[dict[str, Any]]:
    """The newest entries, of one organisation or (None) of all; newest first."""
    rows = await connection.fetch(
        "SELECT id, at, actor_id, acting_for, organisation_id, action, subject, outcome, reason, details, correlation_id "
        "FROM audit_log WHERE $1::uuid IS NULL OR organisation_id = $1 ORDER BY id DESC LIMIT $2",
        organisation_id,
        limit,
    )
    return [dict(row) for row in rows]
