"""Memberships (ID-5) and administrators (ID-1, ID-2) of an organisation."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from identity import domain, queries
from identity.domain import MembershipRole
from identity.use_cases.authority import require_administrator, require_head_administrator, require_operator
from identity.use_cases.rights import revoke
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
