"""Memberships (ID-5) and administrators (ID-1, ID-2) of an organisation."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from identity import domain, queries
from identity.domain import MembershipRole
from identity.use_cases.authority import require_administrator, require_head_administrator, require_operator
from identity.use_cases.rights import revoke
from service_runtime import paging
from service_runtime.audit import record_audit
from service_runtime.auth import Actor
from service_runtime.errors import NotFound
from service_runtime.outbox import publish_event
from wse_contracts.identity import AdministratorAppointedV1, AdministratorRemovedV1, MembershipAddedV1, MembershipRemovedV1


async def set_membership(connection: asyncpg.Connection, *, organisation_id: UUID, person_id: UUID, role: MembershipRole, by: UUID | None) -> str | None:
    """Returns the role the person had before (None: not a member)."""
    before = await queries.membership_role(connection, organisation_id, person_id)
    await connection.execute(
        "INSERT INTO memberships (organisation_id, person_id, role, added_by) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (organisation_id, person_id) DO UPDATE SET role = EXCLUDED.role",
        organisation_id,
        person_id,
        role,
        by,
    )
    if before is None:
        await publish_event(connection, MembershipAddedV1(organisation_id=organisation_id, person_id=person_id, role=role))
    return before


async def add_member(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, person_id: UUID) -> None:
    """ID-5: a local administrator adds a person as a user of the organisation."""
    await require_administrator(connection, actor, organisation_id)
    await queries.organisation(connection, organisation_id, lock=True)
    await queries.person(connection, person_id)
    if await queries.membership_role(connection, organisation_id, person_id) is not None:
        return  # already a member, in whatever role: adding again changes nothing
    await set_membership(connection, organisation_id=organisation_id, person_id=person_id, role=MembershipRole.USER, by=actor.person_id)
    await record_audit(
        connection, actor_id=actor.person_id, acting_for=actor.acting_for, action="membership.added", organisation_id=organisation_id, subject=str(person_id)
    )


async def remove_member(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, person_id: UUID) -> None:
    """A person who leaves loses every right they held for the organisation."""
    await require_administrator(connection, actor, organisation_id)
    await queries.organisation(connection, organisation_id, lock=True)
    role = await queries.membership_role(connection, organisation_id, person_id)
    if role is None:
        raise NotFound("The person is not a member of this organisation.")
    domain.ensure_removable_member(role)
    for right in await connection.fetch(
        "SELECT right_id FROM rights WHERE organisation_id = $1 AND person_id = $2 AND revoked_at IS NULL", organisation_id, person_id
    ):
        await revoke(connection, actor=actor, organisation_id=organisation_id, right_id=right["right_id"])
    await connection.execute("DELETE FROM theme_grants WHERE organisation_id = $1 AND person_id = $2", organisation_id, person_id)
    await connection.execute("DELETE FROM memberships WHERE organisation_id = $1 AND person_id = $2", organisation_id, person_id)
    await publish_event(connection, MembershipRemovedV1(organisation_id=organisation_id, person_id=person_id))
    await record_audit(
        connection, actor_id=actor.person_id, acting_for=actor.acting_for, action="membership.removed", organisation_id=organisation_id, subject=str(person_id)
    )


async def _require_appointer(connection: asyncpg.Connection, actor: Actor, organisation_id: UUID, level: MembershipRole) -> None:
    """ID-1: the helpdesk records head administrators; ID-2: a head appoints and removes local administrators."""
    if level == MembershipRole.HEAD_ADMINISTRATOR:
        await require_operator(connection, actor)
    else:
        await require_head_administrator(connection, actor, organisation_id)


async def appoint_administrator(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, person_id: UUID, level: MembershipRole) -> None:
    """ID-1: the department's helpdesk records the head local administrator(s) the organisation
    designated; ID-2: a head appoints local administrators of the same organisation."""
    await _require_appointer(connection, actor, organisation_id, level)
    await queries.organisation(connection, organisation_id, lock=True)
    await queries.person(connection, person_id)
    domain.ensure_not_demoting_a_head(await queries.membership_role(connection, organisation_id, person_id), level)
    await set_membership(connection, organisation_id=organisation_id, person_id=person_id, role=level, by=actor.person_id)
    await publish_event(connection, AdministratorAppointedV1(organisation_id=organisation_id, person_id=person_id, level=level, appointed_by=actor.person_id))
    await record_audit(
        connection, actor_id=actor.person_id, acting_for=actor.acting_for, action=f"{level}.appointed", organisation_id=organisation_id, subject=str(person_id)
    )


async def remove_administrator(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, person_id: UUID, level: MembershipRole) -> None:
    """The person stays a user of the organisation; the last head cannot go without a successor."""
    await _require_appointer(connection, actor, organisation_id, level)
    await queries.organisation(connection, organisation_id, lock=True)
    if await queries.membership_role(connection, organisation_id, person_id) != level:
        raise NotFound(f"The person is not a {level.replace('_', ' ')} of this organisation.")
    if level == MembershipRole.HEAD_ADMINISTRATOR:
        heads = await connection.fetchval("SELECT count(*) FROM memberships WHERE organisation_id = $1 AND role = $2", organisation_id, level)
        domain.ensure_a_head_remains(heads - 1)
    await set_membership(connection, organisation_id=organisation_id, person_id=person_id, role=MembershipRole.USER, by=actor.person_id)
    await publish_event(connection, AdministratorRemovedV1(organisation_id=organisation_id, person_id=person_id, level=level, removed_by=actor.person_id))
    await record_audit(
        connection, actor_id=actor.person_id, acting_for=actor.acting_for, action=f"{level}.removed", organisation_id=organisation_id, subject=str(person_id)
    )


async def members_of(
    connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, limit: int, cursor: str | None, person_id: UUID | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """ID-3, ID-5: the organisation's members, in name order, each with their membership, the
    rights that still count (granting today, or from a later day) and the themes given (ID-13):
    what its administrators manage. A member without any right is listed too. `person_id`: only
    that member (none when the person is not one)."""
    await require_administrator(connection, actor, organisation_id)
    after = paging.decode_cursor(cursor, (paging.TEXT, paging.TEXT, paging.UUID_))
    rows = await connection.fetch(
        """
        SELECT p.person_id, p.first_name, p.last_name, p.email, m.role AS membership
        FROM memberships m JOIN persons p USING (person_id)
        WHERE m.organisation_id = $1 AND ($2::text IS NULL OR (p.last_name, p.first_name, p.person_id) > ($2, $3, $4::uuid))
          AND ($6::uuid IS NULL OR m.person_id = $6)
        ORDER BY p.last_name, p.first_name, p.person_id LIMIT $5
        """,
        organisation_id,
        after[0] if after else None,
        after[1] if after else None,
        after[2] if after else None,
        limit + 1,
        person_id,
    )
    items, next_cursor = paging.page(rows, limit, lambda r: (r["last_name"], r["first_name"], r["person_id"]))
    themes: dict[UUID, list[str]] = {}
    for grant in await connection.fetch(
        "SELECT person_id, theme FROM theme_grants WHERE organisation_id = $1 AND person_id = ANY($2::uuid[]) ORDER BY theme",
        organisation_id,
        [r["person_id"] for r in items],
    ):
        themes.setdefault(grant["person_id"], []).append(grant["theme"])
    rights: dict[UUID, list[dict[str, Any]]] = {}
    for right in await connection.fetch(
        """
        SELECT right_id, person_id, role, context, valid_from, valid_until FROM rights
        WHERE organisation_id = $1 AND person_id = ANY($2::uuid[]) AND revoked_at IS NULL AND (valid_until IS NULL OR valid_until >= $3)
        ORDER BY context, role, valid_from
        """,
        organisation_id,
        [r["person_id"] for r in items],
        actor.today,
    ):
        active = domain.Right(right["role"], right["context"], right["valid_from"], right["valid_until"]).grants_on(actor.today)
        rights.setdefault(right["person_id"], []).append({**dict(right), "active": active})
    return [{**dict(r), "rights": rights.get(r["person_id"], []), "themes": themes.get(r["person_id"], [])} for r in items], next_cursor


async def member_of(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, person_id: UUID) -> dict[str, Any]:
    """One member as `members_of` shows them (its administrators ask); not a member: NotFound."""
    items, _ = await members_of(connection, actor=actor, organisation_id=organisation_id, limit=1, cursor=None, person_id=person_id)
    if not items:
        raise NotFound("The person is not a member of this organisation.")
    return items[0]
