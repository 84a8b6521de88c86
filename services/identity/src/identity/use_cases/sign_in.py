"""Signing in (ID-10): who the proof names, what they may choose to act as, and the helpdesk's
start (the department and its first operator) and key rotation, run from the command line."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from identity import domain, queries
from identity.domain import OPERATOR_CONTEXT, OPERATOR_ROLE, MembershipRole, OrganisationKind
from identity.numbers import parse_national_register_number
from identity.tokens import rotate_signing_key
from identity.use_cases.organisations import register_organisation
from identity.use_cases.persons import register_person
from identity.use_cases.rights import grant
from service_runtime.auth import Actor


async def person_signing_in(connection: asyncpg.Connection, *, national_register_number: str, today: date) -> UUID | None:
    """The person the identity provider's proof names, if the platform knows them."""
    number = parse_national_register_number(national_register_number, today=today)
    person_id: UUID | None = await connection.fetchval("SELECT person_id FROM persons WHERE national_register_number = $1", number.value)
    return person_id


async def choose_organisation(connection: asyncpg.Connection, *, actor: Actor, organisation_id: UUID) -> None:
    """ID-10: acting for an organisation needs a membership of it (a refusal is audited, ID-12)."""
    domain.ensure_may_act_for(await queries.membership_role(connection, organisation_id, actor.person_id))


async def tiles(connection: asyncpg.Connection, *, person_id: UUID) -> tuple[list[domain.Tile], str | None]:
    person = await queries.person(connection, person_id)
    rows = await connection.fetch(
        "SELECT o.organisation_id, o.name, m.role FROM memberships m JOIN organisations o USING (organisation_id) WHERE m.person_id = $1 ORDER BY o.name",
        person_id,
    )
    return domain.tiles_for(queries.full_name(person), [(r["organisation_id"], r["name"], r["role"]) for r in rows])


async def bootstrap_department(
    connection: asyncpg.Connection,
    *,
    department_name: str,
    national_register_number: str,
    last_name: str,
    first_name: str,
    gender: str,
    date_of_birth: date,
    email: str,
    today: date,
    student_pseudonym: str | None = None,
) -> dict[str, Any]:
    """The department (once) and a head administrator of it who is its operator from today, so
    that the helpdesk can sign in and start. Running it again for the same person changes nothing."""
    department = await queries.department_id(connection)
    if department is None:
        department = (await register_organisation(connection, actor=None, name=department_name, kind=OrganisationKind.DEPARTMENT))["organisation_id"]
    person, _ = await register_person(
        connection,
        actor=None,
        today=today,
        national_register_number=national_register_number,
        last_name=last_name,
        first_name=first_name,
        gender=gender,
        date_of_birth=date_of_birth,
        email=email,
        student_pseudonym=student_pseudonym,
    )
    person_id = person["person_id"]
    await connection.execute(
        "INSERT INTO memberships (organisation_id, person_id, role) VALUES ($1, $2, $3) ON CONFLICT (organisation_id, person_id) DO UPDATE SET role = EXCLUDED.role",
        department,
        person_id,
        MembershipRole.HEAD_ADMINISTRATOR,
    )
    if not await queries.holds_right(connection, person_id=person_id, organisation_id=department, role=OPERATOR_ROLE, context=OPERATOR_CONTEXT, on=today):
        await grant(
            connection,
            actor=Actor(person_id, department, today=today),
            organisation_id=department,
            person_id=person_id,
            role=OPERATOR_ROLE,
            context=OPERATOR_CONTEXT,
            valid_from=today,
        )
    return {"department_id": department, "operator_id": person_id}


async def rotate_signing_keys(connection: asyncpg.Connection) -> str:
    """A new platform signing key; the old ones stay published until their tokens expire. Returns its key id."""
    return await rotate_signing_key(connection)
