"""Organisations (ID-1, ID-9, ID-11): registered and changed by the department's helpdesk; who
their administrators are, for anyone who asks."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

import asyncpg

from identity import domain, queries
from identity.domain import ADMINISTRATOR_ROLES, OrganisationKind
from identity.numbers import parse_enterprise_number
from identity.use_cases.authority import require_operator
from service_runtime.audit import record_audit
from service_runtime.auth import Actor
from service_runtime.errors import Conflict
from service_runtime.outbox import publish_event
from wse_contracts.identity import OrganisationChangedV1, OrganisationRegisteredV1, QualityRegistration


def _organisation_state(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "organisation_id": row["organisation_id"],
        "name": row["name"],
        "kind": row["kind"],
        "enterprise_number": row["enterprise_number"],
        "institution_number": row["institution_number"],
        "contact_email": row["contact_email"],
        "quality_registration": QualityRegistration(status=row["quality_status"], valid_from=row["quality_valid_from"], valid_until=row["quality_valid_until"]),
    }


async def register_organisation(
    connection: asyncpg.Connection,
    *,
    actor: Actor | None,
    name: str,
    kind: str,
    enterprise_number: str | None = None,
    institution_number: str | None = None,
    contact_email: str | None = None,
) -> dict[str, Any]:
    """A department operator registers an organisation (ID-11 for schools and CVOs). `actor`
    None is the bootstrap of the department itself, from the command line."""
    if actor is not None:
        await require_operator(connection, actor)
    domain.check_new_organisation(kind=kind, institution_number=institution_number, by_operator=actor is not None)
    number = parse_enterprise_number(enterprise_number).value if enterprise_number else None
    organisation_id = uuid.uuid4()
    try:
        row = await connection.fetchrow(
            "INSERT INTO organisations (organisation_id, name, kind, enterprise_number, institution_number, contact_email) "
            "VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
            organisation_id,
            name,
            kind,
            number,
            institution_number,
            contact_email,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict("An organisation with this number is already registered.") from None
    state = _organisation_state(row)
    await publish_event(connection, OrganisationRegisteredV1(**state))
    await record_audit(
        connection,
        actor_id=actor.person_id if actor else None,
        acting_for=actor.acting_for if actor else None,
        action="organisation.registered",
        organisation_id=organisation_id,
        subject=name,
    )
    return state


async def import_secondary_schools(connection: asyncpg.Connection, *, actor: Actor, schools: list[dict[str, Any]]) -> dict[str, int]:
    """ID-11: secondary schools from approved programming requests, in bulk; a school already
    known by its institution number is updated, not added twice."""
    await require_operator(connection, actor)
    added = updated = 0
    for school in schools:
        existing = await connection.fetchval("SELECT organisation_id FROM organisations WHERE institution_number = $1", school["institution_number"])
        if existing is None:
            await register_organisation(connection, actor=actor, kind=OrganisationKind.SECONDARY_SCHOOL, **school)
            added += 1
        else:
            await change_organisation(connection, actor=actor, organisation_id=existing, name=school["name"], contact_email=school.get("contact_email"))
            updated += 1
    return {"added": added, "updated": updated}


async def change_organisation(
    connection: asyncpg.Connection,
    *,
    actor: Actor,
    organisation_id: UUID,
    name: str | None = None,
    contact_email: str | None = None,
    quality_registration: QualityRegistration | None = None,
) -> dict[str, Any]:
    await require_operator(connection, actor)
    await queries.organisation(connection, organisation_id, lock=True)
    if quality_registration is not None and quality_registration.valid_from and quality_registration.valid_until:
        domain.check_validity(quality_registration.valid_from, quality_registration.valid_until)
    row = await connection.fetchrow(
        """
        UPDATE organisations SET name = coalesce($2, name), contact_email = coalesce($3, contact_email),
            quality_status = coalesce($4, quality_status),
            quality_valid_from = CASE WHEN $4::text IS NULL THEN quality_valid_from ELSE $5 END,
            quality_valid_until = CASE WHEN $4::text IS NULL THEN quality_valid_until ELSE $6 END,
            updated_at = now()
        WHERE organisation_id = $1 RETURNING *
        """,
        organisation_id,
        name,
        contact_email,
        quality_registration.status if quality_registration else None,
        quality_registration.valid_from if quality_registration else None,
        quality_registration.valid_until if quality_registration else None,
    )
    state = _organisation_state(row)
    await publish_event(connection, OrganisationChangedV1(**state))
    await record_audit(
        connection,
        actor_id=actor.person_id,
        acting_for=actor.acting_for,
        action="organisation.changed",
        organisation_id=organisation_id,
        details={"quality_registration": quality_registration.model_dump(mode="json")} if quality_registration else {},
    )
    return state


async def administrators_of(connection: asyncpg.Connection, *, organisation_id: UUID) -> dict[str, Any]:
    """ID-9: anyone may ask; names and contact addresses, never national register numbers."""
    organisation = await queries.organisation(connection, organisation_id)
    rows = await connection.fetch(
        """
        SELECT p.first_name, p.last_name, p.email, m.role FROM memberships m JOIN persons p USING (person_id)
        WHERE m.organisation_id = $1 AND m.role = ANY($2::text[])
        ORDER BY m.role, p.last_name, p.first_name
        """,
        organisation_id,
        sorted(ADMINISTRATOR_ROLES),
    )
    return {
        "organisation_id": organisation_id,
        "name": organisation["name"],
        "contact_email": organisation["contact_email"],
        "administrators": [{"first_name": r["first_name"], "last_name": r["last_name"], "email": r["email"], "role": r["role"]} for r in rows],
    }
