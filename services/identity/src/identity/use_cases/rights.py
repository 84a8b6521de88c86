"""Rights (ID-3, ID-6, ID-14), Mijn Onderwijs themes (ID-13) and the check applications ask (ID-7)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from identity import domain, queries
from identity.domain import RequestStatus
from identity.use_cases.authority import require_administrator
from service_runtime import paging
from service_runtime.audit import record_audit
from service_runtime.auth import Actor
from service_runtime.errors import NotFound
from service_runtime.outbox import publish_event
from wse_contracts.identity import RightGrantedV1, RightRequestDecidedV1, RightRevokedV1, RightValidityChangedV1

# Why a pending request ends without an administrator's decision (ID-8).
RIGHT_GRANTED = "right granted"


async def catalogue(connection: asyncpg.Connection, *, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """The rights that exist (role@context), for anyone who builds a screen to grant them."""
    after = paging.decode_cursor(cursor, (paging.TEXT, paging.TEXT))
    rows = await connection.fetch(
        "SELECT context, role, description, department_only FROM catalogue WHERE ($1::text IS NULL OR (context, role) > ($1, $2)) "
        "ORDER BY context, role LIMIT $3",
        after[0] if after else None,
        after[1] if after else None,
        limit + 1,
    )
    items, next_cursor = paging.page(rows, limit, lambda r: (r["context"], r["role"]))
    return [dict(r) for r in items], next_cursor


async def themes(connection: asyncpg.Connection, *, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """ID-13: the Mijn Onderwijs themes the department keeps, the only ones an administrator can give."""
    after = paging.decode_cursor(cursor, (paging.TEXT,))
    rows = await connection.fetch(
        "SELECT theme, description FROM themes WHERE ($1::text IS NULL OR theme > $1) ORDER BY theme LIMIT $2", after[0] if after else None, limit + 1
    )
    items, next_cursor = paging.page(rows, limit, lambda r: (r["theme"],))
    return [dict(r) for r in items], next_cursor


async def grant_right(
    connection: asyncpg.Connection,
    *,
    actor: Actor,
    organisation_id: UUID,
    person_id: UUID,
    role: str,
    context: str,
    valid_from: date,
    valid_until: date | None = None,
) -> dict[str, Any]:
    """ID-3: an administrator of the organisation grants a member a right."""
    await require_administrator(connection, actor, organisation_id)
    return await grant(
        connection,
        actor=actor,
        organisation_id=organisation_id,
        person_id=person_id,
        role=role,
        context=context,
        valid_from=valid_from,
        valid_until=valid_until,
    )


async def grant(
    connection: asyncpg.Connection,
    *,
    actor: Actor,
    organisation_id: UUID,
    person_id: UUID,
    role: str,
    context: str,
    valid_from: date,
    valid_until: date | None = None,
    fulfilling_request: UUID | None = None,
) -> dict[str, Any]:
    """The grant itself, for a caller that has already decided that `actor` may (an approved
    request, the bootstrap's first operator)."""
    organisation = await queries.organisation(connection, organisation_id, lock=True)
    entry = await queries.catalogue_entry(connection, context, role)
    domain.ensure_grantable(department_only=entry["department_only"], organisation_kind=organisation["kind"], context=context, role=role)
    domain.check_validity(valid_from, valid_until)
    domain.check_grant_period(valid_until, today=actor.today)
    await queries.person(connection, person_id)  # an unknown person is a 404, not "not a member"
    domain.ensure_member(await queries.membership_role(connection, organisation_id, person_id))
    right_id = uuid.uuid4()
    await connection.execute(
        "INSERT INTO rights (right_id, organisation_id, person_id, context, role, valid_from, valid_until, granted_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        right_id,
        organisation_id,
        person_id,
        context,
        role,
        valid_from,
        valid_until,
        actor.person_id,
    )
    event = RightGrantedV1(
        right_id=right_id,
        person_id=person_id,
        organisation_id=organisation_id,
        role=role,
        context=context,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    await publish_event(connection, event)
    await _cancel_requests_for(
        connection, actor=actor, organisation_id=organisation_id, person_id=person_id, role=role, context=context, but=fulfilling_request
    )
    await record_audit(
        connection,
        actor_id=actor.person_id,
        acting_for=actor.acting_for,
        action="right.granted",
        organisation_id=organisation_id,
        subject=str(person_id),
        details={
            "right_id": str(right_id),
            "role": role,
            "context": context,
            "valid_from": str(valid_from),
            "valid_until": str(valid_until) if valid_until else None,
        },
    )
    return event.model_dump(mode="json")


async def _cancel_requests_for(
    connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, person_id: UUID, role: str, context: str, but: UUID | None
) -> None:
    """ID-8: once the person holds the right, their pending requests for it have nothing left to ask."""
    cancelled = await connection.fetch(
        "UPDATE right_requests SET status = $7, decided_by = $5, decided_at = now(), decision_reason = $8 "
        "WHERE organisation_id = $1 AND person_id = $2 AND role = $3 AND context = $4 AND status = $9 "
        "AND request_id IS DISTINCT FROM $6 RETURNING request_id",
        organisation_id,
        person_id,
        role,
        context,
        actor.person_id,
        but,
        RequestStatus.CANCELLED,
        RIGHT_GRANTED,
        RequestStatus.PENDING,
    )
    for row in cancelled:
        await publish_event(
            connection,
            RightRequestDecidedV1(
                request_id=row["request_id"],
                person_id=person_id,
                organisation_id=organisation_id,
                role=role,
                context=context,
                outcome=RequestStatus.CANCELLED,
                reason=RIGHT_GRANTED,
                decided_by=actor.person_id,
            ),
        )


async def _active_right(connection: asyncpg.Connection, organisation_id: UUID, right_id: UUID) -> asyncpg.Record:
    row = await connection.fetchrow("SELECT * FROM rights WHERE right_id = $1 AND organisation_id = $2 AND revoked_at IS NULL", right_id, organisation_id)
    if row is None:
        raise NotFound("No active right with this id in this organisation.")
    return row


async def revoke(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, right_id: UUID) -> None:
    """The revocation itself, for a caller that has decided `actor` may (and holds the organisation's lock)."""
    right = await _active_right(connection, organisation_id, right_id)
    await connection.execute("UPDATE rights SET revoked_at = now(), revoked_by = $2 WHERE right_id = $1", right_id, actor.person_id)
    await publish_event(
        connection,
        RightRevokedV1(right_id=right_id, person_id=right["person_id"], organisation_id=organisation_id, role=right["role"], context=right["context"]),
    )
    await record_audit(
        connection,
        actor_id=actor.person_id,
        acting_for=actor.acting_for,
        action="right.revoked",
        organisation_id=organisation_id,
        subject=str(right["person_id"]),
        details={"right_id": str(right_id), "role": right["role"], "context": right["context"]},
    )


async def revoke_right(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, right_id: UUID) -> None:
    await require_administrator(connection, actor, organisation_id)
    await queries.organisation(connection, organisation_id, lock=True)
    await revoke(connection, actor=actor, organisation_id=organisation_id, right_id=right_id)


async def change_right_validity(
    connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, right_id: UUID, valid_from: date, valid_until: date | None
) -> dict[str, Any]:
    await require_administrator(connection, actor, organisation_id)
    await queries.organisation(connection, organisation_id, lock=True)
    right = await _active_right(connection, organisation_id, right_id)
    domain.check_validity(valid_from, valid_until)
    await connection.execute("UPDATE rights SET valid_from = $2, valid_until = $3 WHERE right_id = $1", right_id, valid_from, valid_until)
    event = RightValidityChangedV1(
        right_id=right_id,
        person_id=right["person_id"],
        organisation_id=organisation_id,
        role=right["role"],
        context=right["context"],
        valid_from=valid_from,
        valid_until=valid_until,
    )
    await publish_event(connection, event)
    await record_audit(
        connection,
        actor_id=actor.person_id,
        acting_for=actor.acting_for,
        action="right.validity_changed",
        organisation_id=organisation_id,
        subject=str(right["person_id"]),
        details={"right_id": str(right_id), "valid_from": str(valid_from), "valid_until": str(valid_until) if valid_until else None},
    )
    return event.model_dump(mode="json")


async def rights_report(
    connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, limit: int | None = None, cursor: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """The organisation's users and their rights, as gebruikersbeheer's report shows them, active
    on the actor's day: a page of it, or (`limit` None) all of it, for the CSV export."""
    await require_administrator(connection, actor, organisation_id)
    after = paging.decode_cursor(cursor, (paging.TEXT, paging.TEXT, paging.TEXT, paging.TEXT, paging.UUID_))
    rows = await connection.fetch(
        """
        SELECT r.right_id, r.person_id, p.last_name, p.first_name, m.role AS membership, r.context, r.role, r.valid_from, r.valid_until
        FROM rights r JOIN persons p USING (person_id) JOIN memberships m USING (organisation_id, person_id)
        WHERE r.organisation_id = $1 AND r.revoked_at IS NULL
          AND ($2::text IS NULL OR (p.last_name, p.first_name, r.context, r.role, r.right_id) > ($2, $3, $4, $5, $6::uuid))
        ORDER BY p.last_name, p.first_name, r.context, r.role, r.right_id
        LIMIT $7
        """,
        organisation_id,
        *(after or (None,) * 5),
        None if limit is None else limit + 1,
    )
    items, next_cursor = (
        (rows, None) if limit is None else paging.page(rows, limit, lambda r: (r["last_name"], r["first_name"], r["context"], r["role"], r["right_id"]))
    )
    return [{**dict(r), "active": domain.Right(r["role"], r["context"], r["valid_from"], r["valid_until"]).grants_on(actor.today)} for r in items], next_cursor


async def my_rights(connection: asyncpg.Connection, *, actor: Actor, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """A person's own rights in every organisation they belong to, that still count (granting
    today, or from a later day), by organisation name."""
    after = paging.decode_cursor(cursor, (paging.TEXT, paging.TEXT, paging.TEXT, paging.UUID_))
    rows = await connection.fetch(
        """
        SELECT r.right_id, r.organisation_id, o.name AS organisation_name, r.role, r.context, c.description, r.valid_from, r.valid_until
        FROM rights r JOIN memberships m ON m.organisation_id = r.organisation_id AND m.person_id = r.person_id
             JOIN organisations o ON o.organisation_id = r.organisation_id JOIN catalogue c ON c.context = r.context AND c.role = r.role
        WHERE r.person_id = $1 AND r.revoked_at IS NULL AND (r.valid_until IS NULL OR r.valid_until >= $2)
          AND ($3::text IS NULL OR (o.name, r.context, r.role, r.right_id) > ($3, $4, $5, $6::uuid))
        ORDER BY o.name, r.context, r.role, r.right_id
        LIMIT $7
        """,
        actor.person_id,
        actor.today,
        *(after or (None,) * 4),
        limit + 1,
    )
    items, next_cursor = paging.page(rows, limit, lambda r: (r["organisation_name"], r["context"], r["role"], r["right_id"]))
    return [{**dict(r), "active": domain.Right(r["role"], r["context"], r["valid_from"], r["valid_until"]).grants_on(actor.today)} for r in items], next_cursor


# ------------------------------------------------------------------------------- themes (ID-13) and the check (ID-7)


async def grant_theme(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, person_id: UUID, theme: str) -> None:
    await require_administrator(connection, actor, organisation_id)
    domain.ensure_known_theme(bool(await connection.fetchval("SELECT EXISTS (SELECT 1 FROM themes WHERE theme = $1)", theme)), theme)
    await queries.person(connection, person_id)
    domain.ensure_member(await queries.membership_role(connection, organisation_id, person_id))
    await connection.execute(
        "INSERT INTO theme_grants (organisation_id, person_id, theme, granted_by) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        organisation_id,
        person_id,
        theme,
        actor.person_id,
    )
    await record_audit(
        connection,
        actor_id=actor.person_id,
        acting_for=actor.acting_for,
        action="theme.granted",
        organisation_id=organisation_id,
        subject=str(person_id),
        details={"theme": theme},
    )


async def revoke_theme(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, person_id: UUID, theme: str) -> None:
    await require_administrator(connection, actor, organisation_id)
    await connection.execute("DELETE FROM theme_grants WHERE organisation_id = $1 AND person_id = $2 AND theme = $3", organisation_id, person_id, theme)
    await record_audit(
        connection,
        actor_id=actor.person_id,
        acting_for=actor.acting_for,
        action="theme.revoked",
        organisation_id=organisation_id,
        subject=str(person_id),
        details={"theme": theme},
    )


async def check(connection: asyncpg.Connection, *, person_id: UUID, organisation_id: UUID, role: str, context: str, on: date, theme: str | None = None) -> bool:
    """May P act as role@context for O today? With a theme (Mijn Onderwijs, ID-13): does P hold a
    Mijn Onderwijs right and that theme. ID-7 is this question for the dual-learning app:
    `pathway_coach@dual_workplace` may create, register and end agreements; `administrator` may not.
    One query (two with a theme): applications ask this on every request."""
    if not await queries.holds_right(connection, person_id=person_id, organisation_id=organisation_id, role=role, context=context, on=on):
        return False
    if theme is None:
        return True
    return await queries.holds_theme(connection, person_id=person_id, organisation_id=organisation_id, theme=theme)
