"""Persons (ID-4): looked up by national register number first and reused; registered by local
administrators and the helpdesk. Responses never carry the national register number."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg

from identity import domain, queries
from identity.numbers import parse_national_register_number
from identity.use_cases.authority import require_person_registrar
from service_runtime.audit import record_audit
from service_runtime.auth import Actor


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


async def lookup_person(connection: asyncpg.Connection, *, actor: Actor, national_register_number: str) -> dict[str, Any] | None:
    await require_person_registrar(connection, actor)
    number = parse_national_register_number(national_register_number, today=actor.today)
    row = await queries.person_by_number(connection, number.value)
    await record_audit(
        connection,
        actor_id=actor.person_id,
        acting_for=actor.acting_for,
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
    today: date,
    national_register_number: str,
    last_name: str,
    first_name: str,
    gender: str,
    date_of_birth: date,
    email: str,
) -> tuple[dict[str, Any], bool]:
    """ID-4: look the person up by national register number first and reuse them; returns the
    person and whether they were created now. `actor` None is the bootstrap's first operator."""
    if actor is not None:
        await require_person_registrar(connection, actor)
    number = parse_national_register_number(national_register_number, today=today)
    domain.check_birth_date(in_number=number.birth_date, given=date_of_birth)
    existing = await queries.person_by_number(connection, number.value)
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
        return _person_view(await queries.person_by_number(connection, number.value)), False
    await record_audit(
        connection,
        actor_id=actor.person_id if actor else None,
        acting_for=actor.acting_for if actor else None,
        action="person.registered",
        organisation_id=actor.acting_for if actor else None,
        subject=str(row["person_id"]),
    )
    return _person_view(row), True
