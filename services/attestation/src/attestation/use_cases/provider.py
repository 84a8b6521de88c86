"""The provider's side (A-1: dwse_organisation_officer in context training_database or
training_leave): single attestations with their receipt (A-9), the organisation's attestations,
corrections (a new version) and withdrawals, and receipts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from attestation.domain import Kind, Outcome, Status
from attestation.rows import Row
from attestation.use_cases.attest import Result, attest_batch, publish_all
from service_runtime import paging, pii
from service_runtime.errors import Conflict, Forbidden, Invalid, NotFound
from wse_contracts.attestation import AttestationWithdrawnV1


async def new_receipt(
    connection: asyncpg.Connection, *, organisation_id: UUID, actor_id: UUID, now: datetime, kind: str, filename: str | None = None, status: str = "done"
) -> UUID:
    receipt_id = uuid.uuid4()
    await connection.execute(
        "INSERT INTO receipts (receipt_id, organisation_id, submitted_by, received_at, kind, filename, status) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        receipt_id,
        organisation_id,
        actor_id,
        now,
        kind,
        filename,
        status,
    )
    return receipt_id


async def count_results(connection: asyncpg.Connection, receipt_id: UUID, results: list[Result]) -> None:
    """A-9: the receipt's counts, and every refused row in its report."""
    counts = {outcome: 0 for outcome in Outcome}
    for result in results:
        counts[result.outcome] += 1
    await connection.execute(
        """
        UPDATE receipts SET rows_total = rows_total + $2, accepted = accepted + $3, held = held + $4, refused = refused + $5, unchanged = unchanged + $6
        WHERE receipt_id = $1
        """,
        receipt_id,
        len(results),
        counts[Outcome.ACCEPTED],
        counts[Outcome.HELD],
        counts[Outcome.REFUSED],
        counts[Outcome.UNCHANGED],
    )
    problems = [(receipt_id, r.row_number, v.field, v.reason, v.rule) for r in results for v in r.problems]
    if problems:
        await connection.copy_records_to_table("receipt_problems", records=problems, columns=["receipt_id", "row_number", "field", "reason", "rule"])


async def attest_one(connection: asyncpg.Connection, *, keys: pii.PiiKeys, actor_id: UUID, organisation_id: UUID, row: Row, now: datetime) -> dict[str, Any]:
    """One attestation and its receipt (A-9); refused, nothing is stored and every problem is named.

    The same attestation sent twice at once (a double click, a retry after a timeout) is stored
    once: the second waits on the reference's unique index until the first commits, and is then
    judged again, as `unchanged`, instead of failing with a 500."""
    for attempt in (1, 2):
        try:
            async with connection.transaction():  # a savepoint: a lost race leaves nothing of it
                receipt_id = await new_receipt(connection, organisation_id=organisation_id, actor_id=actor_id, now=now, kind="single")
                [result] = await attest_batch(connection, keys=keys, organisation_id=organisation_id, receipt_id=receipt_id, rows=[row], now=now)
                if result.outcome == Outcome.REFUSED:
                    raise Invalid.of(result.problems)
                await count_results(connection, receipt_id, [result])
            break
        except asyncpg.UniqueViolationError:
            if attempt == 2:
                raise
    return {
        "receipt": await receipt(connection, organisation_id=organisation_id, receipt_id=receipt_id),
        "attestation": await attestation(connection, organisation_id=organisation_id, kind=row.kind, attestation_id=result.attestation_id),  # type: ignore[arg-type]  # set unless refused
        "outcome": result.outcome.value,
    }


RECEIPT_COLUMNS = "receipt_id, receipt_number, received_at, kind, filename, sha256, rows_total, accepted, held, refused, unchanged, status"


async def receipt(connection: asyncpg.Connection, *, organisation_id: UUID, receipt_id: UUID) -> dict[str, Any]:
    """A-9: retrievable later, by the organisation that submitted."""
    row = await connection.fetchrow(f"SELECT {RECEIPT_COLUMNS}, organisation_id FROM receipts WHERE receipt_id = $1", receipt_id)
    if row is None:
        raise NotFound("no such receipt of this organisation")
    if row["organisation_id"] != organisation_id:
        raise Forbidden("another organisation's receipt", organisation_id=row["organisation_id"], answer_not_found=True)
    return {k: v for k, v in row.items() if k != "organisation_id"}


async def receipts(connection: asyncpg.Connection, *, organisation_id: UUID, limit: int, cursor: str | None) -> dict[str, Any]:
    after = paging.decode_cursor(cursor, [paging.MOMENT, paging.UUID_])
    rows = await connection.fetch(
        f"""SELECT {RECEIPT_COLUMNS} FROM receipts WHERE organisation_id = $1 AND ($3::timestamptz IS NULL OR (received_at, receipt_id) < ($3, $4))
        ORDER BY received_at DESC, receipt_id DESC LIMIT $2""",
        organisation_id,
        limit + 1,
        *(after or (None, None)),
    )
    items, next_cursor = paging.page([dict(r) for r in rows], limit, key=lambda r: (r["received_at"], r["receipt_id"]))
    return {"items": items, "next_cursor": next_cursor}


async def receipt_problems(connection: asyncpg.Connection, *, organisation_id: UUID, receipt_id: UUID, limit: int, cursor: str | None) -> dict[str, Any]:
    """The per-row report of a bulk file: row number, field, reason, rule."""
    await receipt(connection, organisation_id=organisation_id, receipt_id=receipt_id)
    after = paging.decode_cursor(cursor, [paging.INTEGER, paging.TEXT])
    rows = await connection.fetch(
        """SELECT row_number, field, reason, rule FROM receipt_problems WHERE receipt_id = $1 AND ($3::bigint IS NULL OR (row_number, field) > ($3, $4))
        ORDER BY row_number, field LIMIT $2""",
        receipt_id,
        limit + 1,
        *(after or (None, None)),
    )
    items, next_cursor = paging.page([dict(r) for r in rows], limit, key=lambda r: (r["row_number"], r["field"]))
    return {"items": items, "next_cursor": next_cursor}


ENROLMENT_COLUMNS = """e.enrolment_id AS attestation_id, 'enrolment' AS kind, e.reference, e.version, e.student_id, s.last_name, s.first_name, e.odb_number,
    e.module, e.starts_on, e.ends_on, NULL::date AS period_from, NULL::date AS period_to, NULL::numeric AS hours, e.completed, e.school_year, e.status,
    e.refusal_rule, e.refusal_reason, e.updated_at"""
ATTENDANCE_COLUMNS = """a.attendance_id AS attestation_id, 'attendance' AS kind, a.reference, a.version, a.student_id, s.last_name, s.first_name, a.odb_number,
    a.module, NULL::date AS starts_on, NULL::date AS ends_on, a.period_from, a.period_to, a.hours, a.completed, a.school_year, a.status,
    NULL AS refusal_rule, NULL AS refusal_reason, a.updated_at"""


async def attestation(connection: asyncpg.Connection, *, organisation_id: UUID, kind: Kind, attestation_id: UUID) -> dict[str, Any]:
    """One of the organisation's attestations; another organisation's does not exist for it (404)."""
    if kind == Kind.ENROLMENT:
        query = f"SELECT {ENROLMENT_COLUMNS}, e.organisation_id FROM enrolments e JOIN students s USING (student_id) WHERE e.enrolment_id = $1"
    else:
        query = f"SELECT {ATTENDANCE_COLUMNS}, a.organisation_id FROM attendances a JOIN students s USING (student_id) WHERE a.attendance_id = $1"
    row = await connection.fetchrow(query, attestation_id)
    if row is None:
        raise NotFound(f"no such {kind} of this organisation")
    if row["organisation_id"] != organisation_id:
        # Invisible to another provider (404), and the attempt is audited (ID-12).
        raise Forbidden(f"another organisation's {kind}", organisation_id=row["organisation_id"], answer_not_found=True)
    return {k: v for k, v in row.items() if k != "organisation_id"}


async def attestations(
    connection: asyncpg.Connection, *, organisation_id: UUID, kind: Kind, odb_number: str | None, school_year: str | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    """The organisation's own attestations of one kind, the last changed first."""
    after = paging.decode_cursor(cursor, [paging.MOMENT, paging.UUID_])
    table, alias, columns, key = (
        ("enrolments", "e", ENROLMENT_COLUMNS, "enrolment_id") if kind == Kind.ENROLMENT else ("attendances", "a", ATTENDANCE_COLUMNS, "attendance_id")
    )
    rows = await connection.fetch(
        f"""
        SELECT {columns} FROM {table} {alias} JOIN students s USING (student_id)
        WHERE {alias}.organisation_id = $1 AND ($2::text IS NULL OR {alias}.odb_number = upper($2)) AND ($3::text IS NULL OR {alias}.school_year = $3)
          AND ($5::timestamptz IS NULL OR ({alias}.updated_at, {alias}.{key}) < ($5, $6))
        ORDER BY {alias}.updated_at DESC, {alias}.{key} DESC LIMIT $4
        """,
        organisation_id,
        odb_number,
        school_year,
        limit + 1,
        *(after or (None, None)),
    )
    items, next_cursor = paging.page([dict(r) for r in rows], limit, key=lambda r: (r["updated_at"], r["attestation_id"]))
    return {"items": items, "next_cursor": next_cursor}


async def withdraw(connection: asyncpg.Connection, *, organisation_id: UUID, kind: Kind, attestation_id: UUID, now: datetime) -> dict[str, Any]:
    """Withdrawn, kept in the history; an enrolment with attendance on it is withdrawn only after them."""
    found = await attestation(connection, organisation_id=organisation_id, kind=kind, attestation_id=attestation_id)
    if found["status"] == Status.WITHDRAWN:
        raise Conflict("already withdrawn")
    table, key = ("enrolments", "enrolment_id") if kind == Kind.ENROLMENT else ("attendances", "attendance_id")
    if kind == Kind.ENROLMENT and await connection.fetchval(
        "SELECT 1 FROM attendances WHERE enrolment_id = $1 AND status <> 'withdrawn' LIMIT 1", attestation_id
    ):
        raise Conflict("attendance is attested on this enrolment: withdraw the attendance first", rule="A-3")
    await connection.execute(
        "INSERT INTO attestation_history (kind, attestation_id, version, content, replaced_at, action) VALUES ($1, $2, $3, $4, $5, 'withdrawn')",
        kind.value,
        attestation_id,
        found["version"],
        {k: str(v) for k, v in found.items() if k not in ("last_name", "first_name", "organisation_id") and v is not None},
        now,
    )
    await connection.execute(f"UPDATE {table} SET status = 'withdrawn', version = version + 1, updated_at = $2 WHERE {key} = $1", attestation_id, now)
    await publish_all(
        connection,
        [
            AttestationWithdrawnV1(
                attestation_id=attestation_id,
                organisation_id=organisation_id,
                student_id=found["student_id"],
                odb_number=found["odb_number"],
                module=found["module"] or None,
                version=found["version"] + 1,
                kind=kind.value,
            )
        ],
    )
    return await attestation(connection, organisation_id=organisation_id, kind=kind, attestation_id=attestation_id)


async def history(connection: asyncpg.Connection, *, organisation_id: UUID, kind: Kind, attestation_id: UUID) -> list[dict[str, Any]]:
    await attestation(connection, organisation_id=organisation_id, kind=kind, attestation_id=attestation_id)
    rows = await connection.fetch("SELECT version, content, replaced_at, action FROM attestation_history WHERE attestation_id = $1 ORDER BY id", attestation_id)
    return [dict(r) for r in rows]
