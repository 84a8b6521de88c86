"""Reading the audit log (ID-12): an organisation's administrators read its entries, the
department's helpdesk reads everyone's."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from identity.use_cases.authority import require_administrator, require_operator
from service_runtime.audit import audit_entries
from service_runtime.auth import Actor


async def audit_trail(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID | None) -> list[dict[str, Any]]:
    """Administrators read their organisation's trail; operators read all (organisation_id None)."""
    if organisation_id is None:
        await require_operator(connection, actor)
    else:
        await require_administrator(connection, actor, organisation_id)
    return await audit_entries(connection, organisation_id=organisation_id)
