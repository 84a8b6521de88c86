"""The identity service's use cases: each takes a connection inside the caller's transaction, the
acting person, and plain values; it asks the domain rules, writes the state, the audit entry and
the events (through the outbox) together, so either all of it happens or none.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from identity import domain
from identity.domain import Actor, Conflict, Forbidden, Invalid, NotFound
from identity.numbers import parse_enterprise_number, parse_national_register_number
from service_runtime.logging import correlation_id_var
from service_runtime.outbox import publish_event
from wse_contracts.identity import (
    AdministratorAppointedV1,
    AdministratorRemovedV1,
    MembershipAddedV1,
    MembershipRemovedV1,
    OrganisationChangedV1,
    OrganisationRegisteredV1,
    QualityRegistration,
    RightGrantedV1,
    RightRequestDecidedV1,
    RightRequestedV1,
    RightRevokedV1,
    RightValidityChangedV1,
)
from wse_contracts.notification import NotificationRequestedV1, Recipient

SOURCE = "/wse/identity"
DEPARTMENT_OPERATOR = ("operator", "department")


# ------------------------------------------------------------------------------- audit (ID-12)


async def record_audit(
    connection: asyncpg.Connection,
    *,
    actor_id: UUID | None,
    action: str,
    organisation_id: UUID | None,
    subject: str | None = None,
    outcome: str = "done",
    details: dict[str, Any] | None = None,
) -> None:
    await connection.execute(
        "INSERT INTO audit_trail (actor_id, action, subject, organisation_id, outcome, details, correlation_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        actor_id,
        action,
        subject,
        organisation_id,
        outcome,
        details or {},
        correlation_id_var.get(),
    )


async def audit_trail(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID | None, limit: int = 200) -> list[dict]:
    """Administrators read their organisation's trail; operators read all (organisation_id None)."""
    if organisation_id is None:
        await require_operator(connection, actor)
    else:
        await require_administrator(connection, actor, organisation_id)
    rows = await connection.fetch(
        "SELECT id, at, actor_id, action, subject, organisation_id, outcome, details, correlation_id FROM audit_trail "
        "WHERE $1::uuid IS NULL OR organisation_id = $1 ORDER BY id DESC LIMIT $2",
        organisation_id,
        limit,
    )
    return [dict(row) for row in rows]


# ------------------------------------------------------------------------------- who may act


async def membership_role(connection: asyncpg.Connection, organisation_id: UUID, person_id: UUID) -> str | None:
    return await connection.fetchval("SELECT role FROM memberships WHERE organisation_id = $1 AND person_id = $2", organisation_id, person_id)


async def holds_right(connection: asyncpg.Connection, *, person_id: UUID, organisation_id: UUID, role: str, context: str, on: date) -> bool:
    """ID-6, ID-14: role@context for that organisation, valid on that day, held by a member."""
    return bool(
        await connection.fetchval(
            """
            SELECT EXISTS (
                SELECT 1 FROM rights r JOIN memberships m USING (organisation_id, person_id)
                WHERE r.person_id = $1 AND r.organisation_id = $2 AND r.role = $3 AND r.context = $4
                  AND r.revoked_at IS NULL AND r.valid_from <= $5 AND (r.valid_until IS NULL OR r.valid_until >= $5)
            )
            """,
            person_id,
            organisation_id,
            role,
            context,
            on,
        )
    )


async def require_operator(connection: asyncpg.Connection, actor: Actor) -> None:
    department = await connection.fetchval("SELECT organisation_id FROM organisations WHERE kind = 'department'")
    role, context = DEPARTMENT_OPERATOR
    if (
        department is None
        or actor.acting_for != department
        or not await holds_right(connection, person_id=actor.person_id, organisation_id=department, role=role, context=context, on=actor.today)
    ):
        raise Forbidden("Only the department's helpdesk (operator) may do this.")


async def require_administrator(connection: asyncpg.Connection, actor: Actor, organisation_id: UUID) -> str:
    domain.ensure_acting_for(actor, organisation_id)
    role = await membership_role(connection, organisation_id, actor.person_id)
    domain.ensure_administrator(role)
    return role


async def _organisation(connection: asyncpg.Connection, organisation_id: UUID, *, lock: bool = False) -> asyncpg.Record:
    # Locking the organisation's row serialises changes to one organisation, so its events leave
    # the outbox in the order they happened (they share the Kafka key).
    row = await connection.fetchrow(f"SELECT * FROM organisations WHERE organisation_id = $1{' FOR UPDATE' if lock else ''}", organisation_id)
    if row is None:
        raise NotFound("No organisation with this id.", field="organisation_id")
    return row


async def _person(connection: asyncpg.Connection, person_id: UUID) -> asyncpg.Record:
    row = await connection.fetchrow("SELECT * FROM persons WHERE person_id = $1", person_id)
    if row is None:
        raise NotFound("No person with this id.", field="person_id")
    return row


# ------------------------------------------------------------------------------- organisations


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
        if kind == domain.DEPARTMENT_KIND:
            raise Invalid("there is one department; it is created by the bootstrap command", field="kind")
    if kind == "adult_education_centre" and not institution_number:
        raise Invalid("an adult-education centre is added with its institution number (ID-11)", field="institution_number")
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
    except asyncpg.UniqueViolationError as error:
        field = "enterprise_number" if "enterprise" in str(error) else "institution_number"
        raise Conflict("An organisation with this number is already registered.", field=field) from None
    state = _organisation_state(row)
    await publish_event(connection, OrganisationRegisteredV1(**state), source=SOURCE)
    await record_audit(connection, actor_id=actor.person_id if actor else None, action="organisation.registered", organisation_id=organisation_id, subject=name)
    return state


async def import_secondary_schools(connection: asyncpg.Connection, *, actor: Actor, schools: list[dict[str, Any]]) -> dict[str, int]:
    """ID-11: secondary schools from approved programming requests, in bulk; a school already
    known by its institution number is updated, not added twice."""
    await require_operator(connection, actor)
    added = updated = 0
    for school in schools:
        existing = await connection.fetchval("SELECT organisation_id FROM organisations WHERE institution_number = $1", school["institution_number"])
        if existing is None:
            await register_organisation(connection, actor=actor, kind="secondary_school", **school)
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
    await _organisation(connection, organisation_id, lock=True)
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
    await publish_event(connection, OrganisationChangedV1(**state), source=SOURCE)
    await record_audit(
        connection,
        actor_id=actor.person_id,
        action="organisation.changed",
        organisation_id=organisation_id,
        details={"quality_registration": quality_registration.model_dump(mode="json")} if quality_registration else {},
    )
    return state


async def administrators_of(connection: asyncpg.Connection, *, organisation_id: UUID) -> dict[str, Any]:
    """ID-9: anyone may ask; names and contact addresses, never national register numbers."""
    organisation = await _organisation(connection, organisation_id)
    rows = await connection.fetch(
        """
        SELECT p.first_name, p.last_name, p.email, m.role FROM memberships m JOIN persons p USING (person_id)
        WHERE m.organisation_id = $1 AND m.role IN ('head_administrator', 'local_administrator')
        ORDER BY m.role, p.last_name, p.first_name
        """,
        organisation_id,
    )
    return {
        "organisation_id": organisation_id,
        "name": organisation["name"],
        "contact_email": organisation["contact_email"],
        "administrators": [{"first_name": r["first_name"], "last_name": r["last_name"], "email": r["email"], "role": r["role"]} for r in rows],
    }


# ------------------------------------------------------------------------------- persons (ID-4)


def _person_view(row: asyncpg.Record) -> dict[str, Any]:
    # Never the national register number: the caller typed it, and responses travel through
    # logs and caches we do not control.
    return {
        "person_id": row["person_id"],
        "last_name": row["last_name"],
        "first_name": row["first_name"],
        "gender": row["gender"],
        "date_of_birth": row["date_of_birth"],
        "email": row["email"],
    }


async def _require_person_registrar(connection: asyncpg.Connection, actor: Actor) -> None:
    """Local administrators (of the organisation they act for) and operators look persons up."""
    if actor.acting_for is not None and await membership_role(connection, actor.acting_for, actor.person_id) in domain.ADMINISTRATOR_ROLES:
        return
    await require_operator(connection, actor)


async def lookup_person(connection: asyncpg.Connection, *, actor: Actor, national_register_number: str) -> dict[str, Any] | None:
    await _require_person_registrar(connection, actor)
    number = parse_national_register_number(national_register_number)
    row = await connection.fetchrow("SELECT * FROM persons WHERE national_register_number = $1", number.value)
    await record_audit(
        connection,
        actor_id=actor.person_id,
        action="person.looked_up",
        organisation_id=actor.acting_for,
        subject=str(row["person_id"]) if row else None,
        details={"found": row is not None},
    )
    return _person_view(row) if row else None


async def register_person(
    connection: asyncpg.Connection,
    *,
    actor: Actor | None,
    national_register_number: str,
    last_name: str,
    first_name: str,
    gender: str,
    date_of_birth: date,
    email: str,
) -> tuple[dict[str, Any], bool]:
    """ID-4: look the person up by national register number first and reuse them; returns the
    person and whether they were created now."""
    if actor is not None:
        await _require_person_registrar(connection, actor)
    number = parse_national_register_number(national_register_number)
    if number.birth_date is not None and number.birth_date != date_of_birth:
        raise Invalid("does not match the date in the national register number", field="date_of_birth")
    existing = await connection.fetchrow("SELECT * FROM persons WHERE national_register_number = $1", number.value)
    if existing is not None:
        return _person_view(existing), False
    row = await connection.fetchrow(
        "INSERT INTO persons (person_id, national_register_number, last_name, first_name, gender, date_of_birth, email) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (national_register_number) DO NOTHING RETURNING *",
        uuid.uuid4(),
        number.value,
        last_name,
        first_name,
        gender,
        date_of_birth,
        email,
    )
    if row is None:  # registered by someone else a moment ago
        row = await connection.fetchrow("SELECT * FROM persons WHERE national_register_number = $1", number.value)
        return _person_view(row), False
    await record_audit(
        connection,
        actor_id=actor.person_id if actor else None,
        action="person.registered",
        organisation_id=actor.acting_for if actor else None,
        subject=str(row["person_id"]),
    )
    return _person_view(row), True


# ------------------------------------------------------------------------------- memberships and administrators


async def _set_membership(connection: asyncpg.Connection, *, organisation_id: UUID, person_id: UUID, role: str, by: UUID | None) -> str | None:
    """Returns the role the person had before (None: not a member)."""
    before = await membership_role(connection, organisation_id, person_id)
    await connection.execute(
        "INSERT INTO memberships (organisation_id, person_id, role, added_by) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (organisation_id, person_id) DO UPDATE SET role = EXCLUDED.role",
        organisation_id,
        person_id,
        role,
        by,
    )
    if before is None:
        await publish_event(connection, MembershipAddedV1(organisation_id=organisation_id, person_id=person_id, role=role), source=SOURCE)
    return before


async def add_member(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, person_id: UUID) -> None:
    """ID-5: a local administrator adds a person as a user of the organisation."""
    await require_administrator(connection, actor, organisation_id)
    await _organisation(connection, organisation_id, lock=True)
    await _person(connection, person_id)
    if await membership_role(connection, organisation_id, person_id) is not None:
        return  # already a member, in whatever role: adding again changes nothing
    await _set_membership(connection, organisation_id=organisation_id, person_id=person_id, role="user", by=actor.person_id)
    await record_audit(connection, actor_id=actor.person_id, action="membership.added", organisation_id=organisation_id, subject=str(person_id))


async def remove_member(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, person_id: UUID) -> None:
    """A person who leaves loses every right they held for the organisation."""
    await require_administrator(connection, actor, organisation_id)
    await _organisation(connection, organisation_id, lock=True)
    role = await membership_role(connection, organisation_id, person_id)
    if role is None:
        raise NotFound("The person is not a member of this organisation.", field="person_id")
    if role in domain.ADMINISTRATOR_ROLES:
        raise Conflict("Remove the person as administrator first (a head local administrator does that).")
    for right in await connection.fetch(
        "SELECT right_id FROM rights WHERE organisation_id = $1 AND person_id = $2 AND revoked_at IS NULL", organisation_id, person_id
    ):
        await _revoke(connection, actor=actor, organisation_id=organisation_id, right_id=right["right_id"])
    await connection.execute("DELETE FROM theme_grants WHERE organisation_id = $1 AND person_id = $2", organisation_id, person_id)
    await connection.execute("DELETE FROM memberships WHERE organisation_id = $1 AND person_id = $2", organisation_id, person_id)
    await publish_event(connection, MembershipRemovedV1(organisation_id=organisation_id, person_id=person_id), source=SOURCE)
    await record_audit(connection, actor_id=actor.person_id, action="membership.removed", organisation_id=organisation_id, subject=str(person_id))


async def appoint_administrator(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, person_id: UUID, level: str) -> None:
    """ID-1: the department's helpdesk records the head local administrator(s) the organisation
    designated; ID-2: a head appoints local administrators of the same organisation."""
    if level == "head_administrator":
        await require_operator(connection, actor)
    else:
        domain.ensure_acting_for(actor, organisation_id)
        domain.ensure_head_administrator(await membership_role(connection, organisation_id, actor.person_id))
    await _organisation(connection, organisation_id, lock=True)
    await _person(connection, person_id)
    before = await membership_role(connection, organisation_id, person_id)
    if before == "head_administrator" and level == "local_administrator":
        raise Conflict("The person is a head local administrator; remove that first.")
    await _set_membership(connection, organisation_id=organisation_id, person_id=person_id, role=level, by=actor.person_id)
    await publish_event(
        connection,
        AdministratorAppointedV1(organisation_id=organisation_id, person_id=person_id, level=level, appointed_by=actor.person_id),
        source=SOURCE,
    )
    await record_audit(connection, actor_id=actor.person_id, action=f"{level}.appointed", organisation_id=organisation_id, subject=str(person_id))


async def remove_administrator(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, person_id: UUID, level: str) -> None:
    """The person stays a user of the organisation; the last head cannot go without a successor."""
    if level == "head_administrator":
        await require_operator(connection, actor)
    else:
        domain.ensure_acting_for(actor, organisation_id)
        domain.ensure_head_administrator(await membership_role(connection, organisation_id, actor.person_id))
    await _organisation(connection, organisation_id, lock=True)
    if await membership_role(connection, organisation_id, person_id) != level:
        raise NotFound(f"The person is not a {level.replace('_', ' ')} of this organisation.", field="person_id")
    if level == "head_administrator":
        heads = await connection.fetchval("SELECT count(*) FROM memberships WHERE organisation_id = $1 AND role = 'head_administrator'", organisation_id)
        domain.ensure_a_head_remains(heads - 1)
    await _set_membership(connection, organisation_id=organisation_id, person_id=person_id, role="user", by=actor.person_id)
    await publish_event(
        connection,
        AdministratorRemovedV1(organisation_id=organisation_id, person_id=person_id, level=level, removed_by=actor.person_id),
        source=SOURCE,
    )
    await record_audit(connection, actor_id=actor.person_id, action=f"{level}.removed", organisation_id=organisation_id, subject=str(person_id))


# ------------------------------------------------------------------------------- rights (ID-3, ID-6, ID-14)


async def _catalogue_entry(connection: asyncpg.Connection, context: str, role: str) -> asyncpg.Record:
    entry = await connection.fetchrow("SELECT * FROM catalogue WHERE context = $1 AND role = $2", context, role)
    if entry is None:
        raise Invalid(f"{role}@{context} is not in the catalogue of rights", field="role")
    return entry


async def catalogue(connection: asyncpg.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in await connection.fetch("SELECT context, role, description, department_only FROM catalogue ORDER BY context, role")]


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
    skip_authorisation: bool = False,
    fulfilling_request: UUID | None = None,
) -> dict[str, Any]:
    if not skip_authorisation:
        await require_administrator(connection, actor, organisation_id)
    organisation = await _organisation(connection, organisation_id, lock=True)
    entry = await _catalogue_entry(connection, context, role)
    domain.ensure_grantable(department_only=entry["department_only"], organisation_kind=organisation["kind"], context=context, role=role)
    domain.ensure_member(await membership_role(connection, organisation_id, person_id))
    domain.check_validity(valid_from, valid_until)
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
    await publish_event(connection, event, source=SOURCE)
    await _cancel_requests_for(
        connection, actor=actor, organisation_id=organisation_id, person_id=person_id, role=role, context=context, but=fulfilling_request
    )
    await record_audit(
        connection,
        actor_id=actor.person_id,
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
    """Once the person holds the right, their pending requests for it have nothing left to ask."""
    cancelled = await connection.fetch(
        "UPDATE right_requests SET status = 'cancelled', decided_by = $5, decided_at = now(), decision_reason = 'right granted' "
        "WHERE organisation_id = $1 AND person_id = $2 AND role = $3 AND context = $4 AND status = 'pending' "
        "AND request_id IS DISTINCT FROM $6 RETURNING request_id",
        organisation_id,
        person_id,
        role,
        context,
        actor.person_id,
        but,
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
                outcome="cancelled",
                reason="right granted",
                decided_by=actor.person_id,
            ),
            source=SOURCE,
        )


async def _right(connection: asyncpg.Connection, organisation_id: UUID, right_id: UUID) -> asyncpg.Record:
    row = await connection.fetchrow("SELECT * FROM rights WHERE right_id = $1 AND organisation_id = $2 AND revoked_at IS NULL", right_id, organisation_id)
    if row is None:
        raise NotFound("No active right with this id in this organisation.", field="right_id")
    return row


async def _revoke(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, right_id: UUID) -> None:
    right = await _right(connection, organisation_id, right_id)
    await connection.execute("UPDATE rights SET revoked_at = now(), revoked_by = $2 WHERE right_id = $1", right_id, actor.person_id)
    await publish_event(
        connection,
        RightRevokedV1(right_id=right_id, person_id=right["person_id"], organisation_id=organisation_id, role=right["role"], context=right["context"]),
        source=SOURCE,
    )
    await record_audit(
        connection,
        actor_id=actor.person_id,
        action="right.revoked",
        organisation_id=organisation_id,
        subject=str(right["person_id"]),
        details={"right_id": str(right_id), "role": right["role"], "context": right["context"]},
    )


async def revoke_right(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, right_id: UUID) -> None:
    await require_administrator(connection, actor, organisation_id)
    await _organisation(connection, organisation_id, lock=True)
    await _revoke(connection, actor=actor, organisation_id=organisation_id, right_id=right_id)


async def change_right_validity(
    connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, right_id: UUID, valid_from: date, valid_until: date | None
) -> dict[str, Any]:
    await require_administrator(connection, actor, organisation_id)
    await _organisation(connection, organisation_id, lock=True)
    right = await _right(connection, organisation_id, right_id)
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
    await publish_event(connection, event, source=SOURCE)
    await record_audit(
        connection,
        actor_id=actor.person_id,
        action="right.validity_changed",
        organisation_id=organisation_id,
        subject=str(right["person_id"]),
        details={"right_id": str(right_id), "valid_from": str(valid_from), "valid_until": str(valid_until) if valid_until else None},
    )
    return event.model_dump(mode="json")


async def rights_report(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, on: date) -> list[dict[str, Any]]:
    """The organisation's users and their rights, as gebruikersbeheer's report shows them."""
    await require_administrator(connection, actor, organisation_id)
    rows = await connection.fetch(
        """
        SELECT r.right_id, r.person_id, p.last_name, p.first_name, m.role AS membership, r.context, r.role, r.valid_from, r.valid_until
        FROM rights r JOIN persons p USING (person_id) JOIN memberships m USING (organisation_id, person_id)
        WHERE r.organisation_id = $1 AND r.revoked_at IS NULL
        ORDER BY p.last_name, p.first_name, r.context, r.role
        """,
        organisation_id,
    )
    return [{**dict(r), "active": domain.Right(r["role"], r["context"], r["valid_from"], r["valid_until"]).grants_on(on)} for r in rows]


# ------------------------------------------------------------------------------- right requests (ID-8)


async def _administrator_recipients(connection: asyncpg.Connection, organisation_id: UUID) -> list[Recipient]:
    rows = await connection.fetch(
        "SELECT p.email, p.first_name || ' ' || p.last_name AS name FROM memberships m JOIN persons p USING (person_id) "
        "WHERE m.organisation_id = $1 AND m.role IN ('head_administrator', 'local_administrator') ORDER BY p.email",
        organisation_id,
    )
    return [Recipient(email=r["email"], name=r["name"]) for r in rows]


async def request_right(
    connection: asyncpg.Connection,
    *,
    actor: Actor,
    organisation_id: UUID,
    role: str,
    context: str,
    reason: str,
    today: date,
) -> dict[str, Any]:
    """ID-8: a member asks for a right; the organisation's local administrators are emailed."""
    domain.ensure_acting_for(actor, organisation_id)
    domain.ensure_member(await membership_role(connection, organisation_id, actor.person_id))
    organisation = await _organisation(connection, organisation_id, lock=True)
    entry = await _catalogue_entry(connection, context, role)
    domain.ensure_grantable(department_only=entry["department_only"], organisation_kind=organisation["kind"], context=context, role=role)
    if not reason.strip():
        raise Invalid("say why you need the right", field="reason")
    if await holds_right(connection, person_id=actor.person_id, organisation_id=organisation_id, role=role, context=context, on=today):
        raise Conflict("You already hold this right.")
    request_id = uuid.uuid4()
    try:
        async with connection.transaction():
            await connection.execute(
                "INSERT INTO right_requests (request_id, organisation_id, person_id, context, role, reason) VALUES ($1, $2, $3, $4, $5, $6)",
                request_id,
                organisation_id,
                actor.person_id,
                context,
                role,
                reason,
            )
    except asyncpg.UniqueViolationError:
        raise Conflict("You already asked for this right; your request is waiting for a decision.") from None
    requester = await _person(connection, actor.person_id)
    await publish_event(
        connection,
        RightRequestedV1(request_id=request_id, person_id=actor.person_id, organisation_id=organisation_id, role=role, context=context, reason=reason),
        source=SOURCE,
    )
    recipients = await _administrator_recipients(connection, organisation_id)
    if recipients:
        await publish_event(
            connection,
            NotificationRequestedV1(
                template_id="identity.right_requested",
                recipients=recipients,
                personalisation={
                    "organisation_name": organisation["name"],
                    "requester_name": f"{requester['first_name']} {requester['last_name']}",
                    "right_description": entry["description"],
                    "reason": reason,
                    "request_id": str(request_id),
                },
                reference=f"right-request/{request_id}",
                idempotency_key=f"right-request/{request_id}/requested",
                requested_by="identity",
            ),
            source=SOURCE,
        )
    await record_audit(
        connection,
        actor_id=actor.person_id,
        action="right.requested",
        organisation_id=organisation_id,
        subject=str(actor.person_id),
        details={"request_id": str(request_id), "role": role, "context": context},
    )
    return {"request_id": request_id, "status": "pending", "role": role, "context": context}


async def right_requests(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, status: str | None) -> list[dict[str, Any]]:
    await require_administrator(connection, actor, organisation_id)
    rows = await connection.fetch(
        """
        SELECT q.request_id, q.person_id, p.first_name, p.last_name, q.context, q.role, q.reason, q.status, q.requested_at,
               q.decided_at, q.decision_reason
        FROM right_requests q JOIN persons p USING (person_id)
        WHERE q.organisation_id = $1 AND ($2::text IS NULL OR q.status = $2) ORDER BY q.requested_at
        """,
        organisation_id,
        status,
    )
    return [dict(r) for r in rows]


async def decide_right_request(
    connection: asyncpg.Connection,
    *,
    actor: Actor,
    organisation_id: UUID,
    request_id: UUID,
    approve: bool,
    reason: str | None,
    today: date,
    valid_until: date | None = None,
) -> dict[str, Any]:
    """An administrator approves (the right is granted from today) or refuses (with a reason);
    the requester is emailed either way."""
    await require_administrator(connection, actor, organisation_id)
    organisation = await _organisation(connection, organisation_id, lock=True)
    request = await connection.fetchrow("SELECT * FROM right_requests WHERE request_id = $1 AND organisation_id = $2 FOR UPDATE", request_id, organisation_id)
    if request is None:
        raise NotFound("No right request with this id in this organisation.", field="request_id")
    if request["status"] != "pending":
        raise Conflict(f"The request was already decided ({request['status']}).")
    if not approve and not (reason or "").strip():
        raise Invalid("say why the request is refused", field="reason")
    right_id = None
    if approve:
        granted = await grant_right(
            connection,
            actor=actor,
            organisation_id=organisation_id,
            person_id=request["person_id"],
            role=request["role"],
            context=request["context"],
            valid_from=today,
            valid_until=valid_until,
            skip_authorisation=True,
            fulfilling_request=request_id,
        )
        right_id = UUID(granted["right_id"])
    outcome = "approved" if approve else "refused"
    await connection.execute(
        "UPDATE right_requests SET status = $2, decided_by = $3, decided_at = now(), decision_reason = $4 WHERE request_id = $1",
        request_id,
        outcome,
        actor.person_id,
        reason,
    )
    await publish_event(
        connection,
        RightRequestDecidedV1(
            request_id=request_id,
            person_id=request["person_id"],
            organisation_id=organisation_id,
            role=request["role"],
            context=request["context"],
            outcome=outcome,
            reason=reason,
            decided_by=actor.person_id,
            right_id=right_id,
        ),
        source=SOURCE,
    )
    requester = await _person(connection, request["person_id"])
    entry = await _catalogue_entry(connection, request["context"], request["role"])
    await publish_event(
        connection,
        NotificationRequestedV1(
            template_id="identity.right_request_decided",
            recipients=[Recipient(email=requester["email"], name=f"{requester['first_name']} {requester['last_name']}")],
            personalisation={
                "organisation_name": organisation["name"],
                "requester_name": f"{requester['first_name']} {requester['last_name']}",
                "right_description": entry["description"],
                "outcome": outcome,
                "reason": reason or "",
            },
            reference=f"right-request/{request_id}",
            idempotency_key=f"right-request/{request_id}/decided",
            requested_by="identity",
        ),
        source=SOURCE,
    )
    await record_audit(
        connection,
        actor_id=actor.person_id,
        action=f"right_request.{outcome}",
        organisation_id=organisation_id,
        subject=str(request["person_id"]),
        details={"request_id": str(request_id), "reason": reason},
    )
    return {"request_id": request_id, "status": outcome, "right_id": right_id}


# ------------------------------------------------------------------------------- themes (ID-13) and the check (ID-7)


async def grant_theme(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, person_id: UUID, theme: str) -> None:
    await require_administrator(connection, actor, organisation_id)
    domain.ensure_member(await membership_role(connection, organisation_id, person_id))
    await connection.execute(
        "INSERT INTO theme_grants (organisation_id, person_id, theme, granted_by) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        organisation_id,
        person_id,
        theme,
        actor.person_id,
    )
    await record_audit(
        connection, actor_id=actor.person_id, action="theme.granted", organisation_id=organisation_id, subject=str(person_id), details={"theme": theme}
    )


async def revoke_theme(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID, person_id: UUID, theme: str) -> None:
    await require_administrator(connection, actor, organisation_id)
    await connection.execute("DELETE FROM theme_grants WHERE organisation_id = $1 AND person_id = $2 AND theme = $3", organisation_id, person_id, theme)
    await record_audit(
        connection, actor_id=actor.person_id, action="theme.revoked", organisation_id=organisation_id, subject=str(person_id), details={"theme": theme}
    )


async def check(connection: asyncpg.Connection, *, person_id: UUID, organisation_id: UUID, role: str, context: str, on: date, theme: str | None = None) -> bool:
    """May P act as role@context for O today? With a theme (Mijn Onderwijs, ID-13): does P hold a
    Mijn Onderwijs right and that theme. ID-7 is this question for the dual-learning app:
    `pathway_coach@dual_workplace` may create, register and end agreements; `administrator` may not."""
    if not await holds_right(connection, person_id=person_id, organisation_id=organisation_id, role=role, context=context, on=on):
        return False
    if theme is None:
        return True
    return bool(
        await connection.fetchval(
            "SELECT EXISTS (SELECT 1 FROM theme_grants WHERE organisation_id = $1 AND person_id = $2 AND theme = $3)",
            organisation_id,
            person_id,
            theme,
        )
    )


async def tiles(connection: asyncpg.Connection, *, person_id: UUID) -> tuple[list[domain.Tile], str | None]:
    person = await _person(connection, person_id)
    rows = await connection.fetch(
        "SELECT o.organisation_id, o.name, m.role FROM memberships m JOIN organisations o USING (organisation_id) WHERE m.person_id = $1 ORDER BY o.name",
        person_id,
    )
    return domain.tiles_for(f"{person['first_name']} {person['last_name']}", [(r["organisation_id"], r["name"], r["role"]) for r in rows])
