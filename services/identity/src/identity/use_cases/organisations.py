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
from identity.use_cases.authority import require_operator, require_operator_or_member
from service_runtime import paging
from service_runtime.audit import record_audit
from service_runtime.auth import Actor
from service_runtime.errors import Conflict, Invalid
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
    """Only what is sent changes; a change that changes nothing is no change: no event, no audit
    entry (consumers would otherwise redo their work for nothing)."""
    await require_operator(connection, actor)
    before = await queries.organisation(connection, organisation_id, lock=True)
    if quality_registration is not None and quality_registration.valid_from and quality_registration.valid_until:
        domain.check_validity(quality_registration.valid_from, quality_registration.valid_until)
    quality = quality_registration or QualityRegistration(
        status=before["quality_status"], valid_from=before["quality_valid_from"], valid_until=before["quality_valid_until"]
    )
    after = (name if name is not None else before["name"], contact_email if contact_email is not None else before["contact_email"], quality)
    if after == (before["name"], before["contact_email"], _organisation_state(before)["quality_registration"]):
        return _organisation_state(before)
    row = await connection.fetchrow(
        """
        UPDATE organisations SET name = $2, contact_email = $3, quality_status = $4, quality_valid_from = $5, quality_valid_until = $6,
            updated_at = now()
        WHERE organisation_id = $1 RETURNING *
        """,
        organisation_id,
        after[0],
        after[1],
        quality.status,
        quality.valid_from,
        quality.valid_until,
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


async def get_organisation(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID) -> dict[str, Any]:
    """The helpdesk reads any organisation, a member their own (read-only: nothing to audit but a refusal)."""
    row = await queries.organisation(connection, organisation_id)
    await require_operator_or_member(connection, actor, organisation_id)
    return _organisation_state(row)


def _like(text: str) -> str:
    """`text` anywhere in a name, its own % and _ taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def search_organisations(
    connection: asyncpg.Connection,
    *,
    actor: Actor,
    enterprise_number: str | None,
    institution_number: str | None,
    name: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """The helpdesk finds an organisation (after a 409 "already registered", say) by its
    enterprise number, institution number or a part of its name; by name, in name order."""
    await require_operator(connection, actor)
    number = parse_enterprise_number(enterprise_number).value if enterprise_number else None
    after = paging.decode_cursor(cursor, (paging.TEXT, paging.UUID_))
    rows = await connection.fetch(
        """
        SELECT * FROM organisations
        WHERE ($1::text IS NULL OR enterprise_number = $1) AND ($2::text IS NULL OR institution_number = $2)
          AND ($3::text IS NULL OR name ILIKE $3) AND ($4::text IS NULL OR (name, organisation_id) > ($4, $5::uuid))
        ORDER BY name, organisation_id LIMIT $6
        """,
        number,
        institution_number,
        _like(name) if name else None,
        after[0] if after else None,
        after[1] if after else None,
        limit + 1,
    )
    items, next_cursor = paging.page(rows, limit, lambda r: (r["name"], r["organisation_id"]))
    return [_organisation_state(r) for r in items], next_cursor


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


# The audit action of a public search for administrators (ID-9), counted per caller's address.
ADMINISTRATORS_SEARCHED = "organisation.administrators_searched"


async def _count_public_search(connection: asyncpg.Connection, *, client: str, per_window: int, window_seconds: int) -> None:
    """Anyone may ask (ID-9), but not the whole register of administrators in one go: at most
    `per_window` searches per caller's address per window, counted in the audit log (PostgreSQL),
    so every replica shares the count. The transaction-scoped lock orders one address's searches."""
    await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended('identity.administrator-searches:' || $1, 0))", client)
    row = await connection.fetchrow(
        "SELECT count(*) AS done, min(at) AS oldest, now() AS now FROM audit_log "
        "WHERE action = $1 AND subject = $2 AND outcome = 'done' AND at > now() - make_interval(secs => $3)",
        ADMINISTRATORS_SEARCHED,
        client,
        float(window_seconds),
    )
    domain.ensure_lookups_left(done_in_window=row["done"], oldest_in_window=row["oldest"], per_window=per_window, window_seconds=window_seconds, now=row["now"])


async def refuse_public_search(connection: asyncpg.Connection, *, client: str, retry_after_seconds: int) -> None:
    """The refused search in the audit log (ID-12), in a transaction of its own."""
    await record_audit(
        connection,
        actor_id=None,
        acting_for=None,
        action=ADMINISTRATORS_SEARCHED,
        outcome="denied",
        subject=client,
        reason=f"too many searches for administrators; retry after {retry_after_seconds} s",
    )


async def find_administrators(
    connection: asyncpg.Connection,
    *,
    client: str,
    enterprise_number: str | None,
    name: str | None,
    limit: int,
    cursor: str | None,
    per_window: int,
    window_seconds: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """ID-9 for whoever does not know the organisation's id (the 1700 help line, a new staff
    member): the organisations with this enterprise number or with this part in their name, in
    name order, each with its (head) local administrators' names and contact addresses; never a
    national register number, nothing else of the persons. Counted per caller (429 beyond it)."""
    if (enterprise_number is None) == (name is None):
        raise Invalid("give either the enterprise number or a part of the name", field="enterprise_number", rule="ID-9")
    number = parse_enterprise_number(enterprise_number).value if enterprise_number else None
    after = paging.decode_cursor(cursor, (paging.TEXT, paging.UUID_))
    await _count_public_search(connection, client=client, per_window=per_window, window_seconds=window_seconds)
    rows = await connection.fetch(
        """
        SELECT organisation_id, name, enterprise_number, contact_email FROM organisations
        WHERE ($1::text IS NULL OR enterprise_number = $1) AND ($2::text IS NULL OR name ILIKE $2)
          AND ($3::text IS NULL OR (name, organisation_id) > ($3, $4::uuid))
        ORDER BY name, organisation_id LIMIT $5
        """,
        number,
        _like(name) if name else None,
        after[0] if after else None,
        after[1] if after else None,
        limit + 1,
    )
    items, next_cursor = paging.page(rows, limit, lambda r: (r["name"], r["organisation_id"]))
    administrators: dict[UUID, list[dict[str, Any]]] = {}
    for row in await connection.fetch(
        """
        SELECT m.organisation_id, p.first_name, p.last_name, p.email, m.role FROM memberships m JOIN persons p USING (person_id)
        WHERE m.organisation_id = ANY($1::uuid[]) AND m.role = ANY($2::text[])
        ORDER BY m.role, p.last_name, p.first_name
        """,
        [r["organisation_id"] for r in items],
        sorted(ADMINISTRATOR_ROLES),
    ):
        administrators.setdefault(row["organisation_id"], []).append(
            {"first_name": row["first_name"], "last_name": row["last_name"], "email": row["email"], "role": row["role"]}
        )
    await record_audit(
        connection,
        actor_id=None,
        acting_for=None,
        action=ADMINISTRATORS_SEARCHED,
        subject=client,
        details={"by": "enterprise_number" if number else "name", "found": len(items)},
    )
    return [{**dict(r), "administrators": administrators.get(r["organisation_id"], [])} for r in items], next_cursor
