"""SQL that several use cases share: who holds what, and loading the things they act on.

Plain reads (and the row locks that order an organisation's changes); no rule is decided here
except "it does not exist" (NotFound).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from identity.domain import ADMINISTRATOR_ROLES
from service_runtime.errors import Invalid, NotFound
from wse_contracts.notification import Recipient


async def membership_role(connection: asyncpg.Connection, organisation_id: UUID, person_id: UUID) -> str | None:
    role: str | None = await connection.fetchval("SELECT role FROM memberships WHERE organisation_id = $1 AND person_id = $2", organisation_id, person_id)
    return role


# The benchmark (bench/identity/run.py) quotes this query verbatim: keep the two in step.
HOLDS_RIGHT = """
            SELECT EXISTS (
                SELECT 1 FROM rights r JOIN memberships m USING (organisation_id, person_id)
                WHERE r.person_id = $1 AND r.organisation_id = $2 AND r.role = $3 AND r.context = $4
                  AND r.revoked_at IS NULL AND r.valid_from <= $5 AND (r.valid_until IS NULL OR r.valid_until >= $5)
            )
            """


async def holds_right(connection: asyncpg.Connection, *, person_id: UUID, organisation_id: UUID, role: str, context: str, on: date) -> bool:
    """ID-6, ID-14: role@context for that organisation, valid on that day, held by a member."""
    return bool(await connection.fetchval(HOLDS_RIGHT, person_id, organisation_id, role, context, on))


async def holds_theme(connection: asyncpg.Connection, *, person_id: UUID, organisation_id: UUID, theme: str) -> bool:
    """ID-13: the person was given this Mijn Onderwijs theme in this organisation."""
    return bool(
        await connection.fetchval(
            "SELECT EXISTS (SELECT 1 FROM theme_grants WHERE organisation_id = $1 AND person_id = $2 AND theme = $3)",
            organisation_id,
            person_id,
            theme,
        )
    )


async def department_id(connection: asyncpg.Connection) -> UUID | None:
    department: UUID | None = await connection.fetchval("SELECT organisation_id FROM organisations WHERE kind = 'department'")
    return department


async def organisation(connection: asyncpg.Connection, organisation_id: UUID, *, lock: bool = False) -> asyncpg.Record:
    # Locking the organisation's row serialises changes to one organisation, so its events leave
    # the outbox in the order they happened (they share the Kafka key).
    row = await connection.fetchrow(f"SELECT * FROM organisations WHERE organisation_id = $1{' FOR UPDATE' if lock else ''}", organisation_id)
    if row is None:
        raise NotFound("No organisation with this id.")
    return row


async def person(connection: asyncpg.Connection, person_id: UUID) -> asyncpg.Record:
    row = await connection.fetchrow("SELECT * FROM persons WHERE person_id = $1", person_id)
    if row is None:
        raise NotFound("No person with this id.")
    return row


async def person_by_number(connection: asyncpg.Connection, national_register_number: str) -> asyncpg.Record | None:
    """`national_register_number` as parsed (digits only)."""
    return await connection.fetchrow("SELECT * FROM persons WHERE national_register_number = $1", national_register_number)


async def catalogue_entry(connection: asyncpg.Connection, context: str, role: str) -> asyncpg.Record:
    entry = await connection.fetchrow("SELECT * FROM catalogue WHERE context = $1 AND role = $2", context, role)
    if entry is None:
        raise Invalid(f"{role}@{context} is not in the catalogue of rights", field="role", rule="ID-6")
    return entry


async def administrator_recipients(connection: asyncpg.Connection, organisation_id: UUID) -> list[Recipient]:
    """The organisation's (head) local administrators, as email recipients (ID-8)."""
    rows = await connection.fetch(
        "SELECT p.email, p.first_name || ' ' || p.last_name AS name FROM memberships m JOIN persons p USING (person_id) "
        "WHERE m.organisation_id = $1 AND m.role = ANY($2::text[]) ORDER BY p.email",
        organisation_id,
        sorted(ADMINISTRATOR_ROLES),
    )
    return [Recipient(email=r["email"], name=r["name"]) for r in rows]


def full_name(row: asyncpg.Record | dict[str, Any]) -> str:
    return f"{row['first_name']} {row['last_name']}"
