"""Persons (ID-4): looked up by national register number first and reused; registered by local
administrators and the helpdesk. Responses never carry the national register number.

Minimal disclosure: whoever knows a national register number could otherwise read a stranger's
email and date of birth through the platform. So a look-up (and a registration that finds the
person already there) shows the full person only to the helpdesk and to administrators of an
organisation the person belongs to; an administrator of another organisation sees the person id,
the initials, and whether the names they typed are the person's: enough to confirm the match and
add the person, nothing to harvest. Every look-up by number is audited (who, acting for which
organisation, when; never the number) and limited per administrator, counted in the audit log
(PostgreSQL), so that replicas share the count.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import asyncpg

from identity import domain, queries
from identity.numbers import parse_national_register_number
from identity.use_cases.authority import is_operator, require_person_registrar
from service_runtime.audit import record_audit
from service_runtime.auth import Actor
from service_runtime.outbox import publish_event
from wse_contracts.identity import PersonRegisteredV1

# The audit actions that are look-ups by national register number, counted for the limit.
LOOKED_UP, MATCHED = "person.looked_up", "person.matched"


def _full(row: asyncpg.Record) -> dict[str, Any]:
    # Never the national register number: the caller typed it, and responses travel through
    # logs and caches we do not control.
    return {
        "disclosure": "full",
        "person_id": row["person_id"],
        "last_name": row["last_name"],
        "first_name": row["first_name"],
        "gender": row["gender"],
        "date_of_birth": row["date_of_birth"],
        "email": row["email"],
    }


async def _shown_to(connection: asyncpg.Connection, actor: Actor | None, row: asyncpg.Record, *, typed: tuple[str, str] | None) -> dict[str, Any]:
    """The person as `actor` may see them: in full, or only enough to confirm the match."""
    if actor is None or await is_operator(connection, actor):
        return _full(row)
    if actor.acting_for is not None and await queries.membership_role(connection, actor.acting_for, row["person_id"]) is not None:
        return _full(row)
    return {
        "disclosure": "match",
        "person_id": row["person_id"],
        "initials": domain.initials(row["first_name"], row["last_name"]),
        "names_match": (
            domain.names_match(typed_first=typed[0], typed_last=typed[1], first_name=row["first_name"], last_name=row["last_name"]) if typed else None
        ),
    }


async def _count_lookup(connection: asyncpg.Connection, actor: Actor, *, per_window: int, window_seconds: int) -> None:
    """ID-4: refuse a look-up beyond the administrator's allowance. The transaction-scoped lock
    orders one administrator's look-ups (on every replica: it is PostgreSQL's), so two at once
    cannot both take the last one."""
    await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended('identity.person-lookups:' || $1::uuid::text, 0))", actor.person_id)
    row = await connection.fetchrow(
        "SELECT count(*) AS done, min(at) AS oldest, now() AS now FROM audit_log "
        "WHERE actor_id = $1 AND action = ANY($2::text[]) AND outcome = 'done' AND at > now() - make_interval(secs => $3)",
        actor.person_id,
        [LOOKED_UP, MATCHED],
        float(window_seconds),
    )
    domain.ensure_lookups_left(done_in_window=row["done"], oldest_in_window=row["oldest"], per_window=per_window, window_seconds=window_seconds, now=row["now"])


async def refuse_lookup(connection: asyncpg.Connection, *, actor: Actor, retry_after_seconds: int) -> None:
    """The refused look-up in the audit log (ID-12), in a transaction of its own: the look-up's
    own was rolled back."""
    await record_audit(
        connection,
        actor_id=actor.person_id,
        acting_for=actor.acting_for,
        action=LOOKED_UP,
        outcome="denied",
        organisation_id=actor.acting_for,
        reason=f"too many look-ups by national register number; retry after {retry_after_seconds} s",
    )


async def lookup_person(
    connection: asyncpg.Connection, *, actor: Actor, national_register_number: str, per_window: int, window_seconds: int
) -> dict[str, Any] | None:
    await require_person_registrar(connection, actor)
    number = parse_national_register_number(national_register_number, today=actor.today)
    await _count_lookup(connection, actor, per_window=per_window, window_seconds=window_seconds)
    row = await queries.person_by_number(connection, number.value)
    await record_audit(
        connection,
        actor_id=actor.person_id,
        acting_for=actor.acting_for,
        action=LOOKED_UP,
        organisation_id=actor.acting_for,
        subject=str(row["person_id"]) if row else None,
        details={"found": row is not None},
    )
    return await _shown_to(connection, actor, row, typed=None) if row else None


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
    per_window: int = 0,
    window_seconds: int = 0,
    student_pseudonym: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """ID-4: look the person up by national register number first and reuse them; returns the
    person (as the actor may see them) and whether they were created now. `actor` None is the
    bootstrap's first operator, from the command line: no look-up limit."""
    if actor is not None:
        await require_person_registrar(connection, actor)
    number = parse_national_register_number(national_register_number, today=today)
    domain.check_birth_date(in_number=number.birth_date, given=date_of_birth)
    if actor is not None:
        # Once the allowance is spent, registering is refused too: whether a number is known (200
        # or 201) is itself what a harvester wants. A match counts; a new person does not.
        await _count_lookup(connection, actor, per_window=per_window, window_seconds=window_seconds)
    existing = await queries.person_by_number(connection, number.value)
    if existing is None:
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
        if row is not None:
            await record_audit(
                connection,
                actor_id=actor.person_id if actor else None,
                acting_for=actor.acting_for if actor else None,
                action="person.registered",
                organisation_id=actor.acting_for if actor else None,
                subject=str(row["person_id"]),
            )
            if student_pseudonym is not None:
                # ID-10: the attestation service finds the citizen's own attestations by it.
                await publish_event(connection, PersonRegisteredV1(person_id=row["person_id"], student_id=student_pseudonym))
            return _full(row), True
        existing = await queries.person_by_number(connection, number.value)  # registered by someone else a moment ago
        if existing is None:
            raise RuntimeError("a person whose insert conflicted is not there")
    shown = await _shown_to(connection, actor, existing, typed=(first_name, last_name))
    await record_audit(
        connection,
        actor_id=actor.person_id if actor else None,
        acting_for=actor.acting_for if actor else None,
        action=MATCHED,
        organisation_id=actor.acting_for if actor else None,
        subject=str(existing["person_id"]),
        details={"disclosure": shown["disclosure"]},
    )
    return shown, False


async def republish_persons(connection: asyncpg.Connection, *, pseudonym_of: Callable[[str], str], batch: int = 1000) -> int:
    """PersonRegisteredV1 again for every person, each with their student pseudonym: for persons
    registered before the event existed (or by `bootstrap`), so the attestation service can show
    them their own training leave (ID-10). Consumers keep the latest per person, so sending it
    twice changes nothing. One transaction per batch; returns how many were published."""
    published, after = 0, uuid.UUID(int=0)
    while True:
        async with connection.transaction():
            rows = await connection.fetch(
                "SELECT person_id, national_register_number FROM persons WHERE person_id > $1 ORDER BY person_id LIMIT $2", after, batch
            )
            for row in rows:
                await publish_event(connection, PersonRegisteredV1(person_id=row["person_id"], student_id=pseudonym_of(row["national_register_number"])))
        if not rows:
            return published
        published += len(rows)
        after = rows[-1]["person_id"]
