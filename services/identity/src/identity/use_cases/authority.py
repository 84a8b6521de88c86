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


async def require_operator(connection: asyncpg.Connection, actor: Actor) -> None:
    department = await queries.department_id(connection)
    if (
        department is None
        or actor.acting_for != department
        or not await queries.holds_right(
            connection, person_id=actor.person_id, organisation_id=department, role=OPERATOR_ROLE, context=OPERATOR_CONTEXT, on=actor.today
        )
    ):
        raise Forbidden("Only the department's helpdesk (operator) may do this.")


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
