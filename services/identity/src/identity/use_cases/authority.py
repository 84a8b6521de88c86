"""Who may act: the department's helpdesk, an organisation's administrators, and those who may
look persons up. Each check loads what its rule needs and asks the domain; a `Forbidden` is
audited by the runtime (ID-12) when the request ends."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from identity import domain, queries
from identity.domain import ADMINISTRATOR_ROLES, OPERATOR_CONTEXT, OPERATOR_ROLE
from service_runtime.auth import Actor
from service_runtime.errors import Forbidden


async def is_operator(connection: asyncpg.Connection, actor: Actor) -> bool:
    """The department's helpdesk: operator@department, acting for the department."""
    department = await queries.department_id(connection)
    return (
        department is not None
        and actor.acting_for == department
        and await queries.holds_right(
            connection, person_id=actor.person_id, organisation_id=department, role=OPERATOR_ROLE, context=OPERATOR_CONTEXT, on=actor.today
        )
    )


async def require_operator(connection: asyncpg.Connection, actor: Actor) -> None:
    if not await is_operator(connection, actor):
        raise Forbidden("Only the department's helpdesk (operator) may do this.")


async def require_operator_or_member(connection: asyncpg.Connection, actor: Actor, organisation_id: UUID) -> None:
    """The helpdesk reads every organisation; a person reads the organisations they belong to."""
    if await queries.membership_role(connection, organisation_id, actor.person_id) is None and not await is_operator(connection, actor):
        raise Forbidden("Only the department's helpdesk and the organisation's members may read it.", rule="ID-3")


async def require_administrator(connection: asyncpg.Connection, actor: Actor, organisation_id: UUID) -> None:
    """ID-3: an administrator of this organisation, acting for it."""
    domain.ensure_acting_for(actor, organisation_id)
    domain.ensure_administrator(await queries.membership_role(connection, organisation_id, actor.person_id))


async def require_head_administrator(connection: asyncpg.Connection, actor: Actor, organisation_id: UUID) -> None:
    """ID-2: a head local administrator of this organisation, acting for it."""
    domain.ensure_acting_for(actor, organisation_id)
    domain.ensure_head_administrator(await queries.membership_role(connection, organisation_id, actor.person_id))


async def require_person_registrar(connection: asyncpg.Connection, actor: Actor) -> None:
    """Local administrators (of the organisation they act for) and operators look persons up."""
    if actor.acting_for is not None and await queries.membership_role(connection, actor.acting_for, actor.person_id) in ADMINISTRATOR_ROLES:
        return
    await require_operator(connection, actor)
