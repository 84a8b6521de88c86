"""The department's side: search attestations, a student's school years (A-6; every read of a
student's data audited, ID-12), and the export for the reimbursement process."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from attestation.use_cases import students
from service_runtime import paging, pii
from service_runtime.audit import record_audit
from service_runtime.errors import NotFound


async def search(
    connection: asyncpg.Connection,
    *,
    actor_id: UUID,
    acting_for: UUID | None,
    odb_number: str | None,
    organisation_id: UUID | None,
    school_year: str | None,
    student_id: str | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """Enrolments by ODB number, provider, school year and student (pseudonym); no names, no numbers."""
    after = paging.decode_cursor(cursor, [paging.MOMENT, paging.UUID_])
    rows = await connection.fetch(
        """
        SELECT e.enrolment_id AS attestation_id, e.organisation_id, o.name AS provider_name, e.student_id, e.odb_number, e.module, e.starts_on, e.ends_on,
               e.school_year, e.status, e.completed, e.updated_at,
               (SELECT coalesce(sum(a.hours), 0) FROM attendances a WHERE a.enrolment_id = e.enrolment_id AND a.status = 'accepted') AS attended_hours
        FROM enrolments e LEFT JOIN organisations_projection o USING (organisation_id)
        WHERE ($1::text IS NULL OR e.odb_number = upper($1)) AND ($2::uuid IS NULL OR e.organisation_id = $2)
          AND ($3::text IS NULL OR e.school_year = $3) AND ($4::text IS NULL OR e.student_id = $4)
          AND ($6::timestamptz IS NULL OR (e.updated_at, e.enrolment_id) < ($6, $7))
        ORDER BY e.updated_at DESC, e.enrolment_id DESC LIMIT $5
        """,
        odb_number,
        organisation_id,
        school_year,
        student_id,
        limit + 1,
        *(after or (None, None)),
    )
    items, next_cursor = paging.page([dict(r) for r in rows], limit, key=lambda r: (r["updated_at"], r["attestation_id"]))
    # Every read of students' data by the department is audited (ID-12): what was asked, how many answered.
    await record_audit(
        connection,
        actor_id=actor_id,
        acting_for=acting_for,
        organisation_id=organisation_id,
        action="attestation.search",
        subject=student_id or odb_number,
        outcome="done",
        details={"odb_number": odb_number, "school_year": school_year, "student_id": student_id, "answered": len(items)},
    )
    return {"items": items, "next_cursor": next_cursor}


async def student(connection: asyncpg.Connection, *, keys: pii.PiiKeys, actor_id: UUID, acting_for: UUID | None, nrn: str) -> dict[str, Any]:
    """A student found by national register number (the blind index, never a scan), with their
    school years; the read is audited, the answer shows the number masked."""
    row = await connection.fetchrow("SELECT student_id, last_name, first_name FROM students WHERE nrn_index = $1", pii.blind_index(keys, nrn))
    await record_audit(
        connection,
        actor_id=actor_id,
        acting_for=acting_for,
        organisation_id=None,
        action="attestation.student.read",
        subject=row["student_id"] if row else None,
        outcome="done" if row else "denied",
        reason=None if row else "no such student",
    )
    if row is None:
        raise NotFound("no attestations for this national register number")
    return {
        "student_id": row["student_id"],
        "national_register_number": pii.mask(nrn),
        "last_name": row["last_name"],
        "first_name": row["first_name"],
        "school_years": await students.school_years(connection, student_id=row["student_id"]),
        "attestations": await students.attestations_of(connection, student_id=row["student_id"]),
    }


async def entitlements(connection: asyncpg.Connection, *, keys: pii.PiiKeys, actor_id: UUID, acting_for: UUID | None, school_year: str) -> list[dict[str, Any]]:
    """A-6: the students who reached the minimum in a school year, for the reimbursement process,
    with their national register number (decrypted for this export only; the export is audited)."""
    rows = await connection.fetch(
        """
        SELECT n.student_id, s.nrn_encrypted, s.last_name, s.first_name, n.school_year, n.odb_number, n.hours, n.reached_at
        FROM entitlements n JOIN students s USING (student_id) WHERE n.school_year = $1 ORDER BY s.last_name, s.first_name, n.student_id
        """,
        school_year,
    )
    await record_audit(
        connection,
        actor_id=actor_id,
        acting_for=acting_for,
        organisation_id=None,
        action="attestation.entitlements.export",
        subject=school_year,
        outcome="done",
        details={"students": len(rows)},
    )
    return [
        {
            "student_id": r["student_id"],
            "national_register_number": pii.decrypt(keys, bytes(r["nrn_encrypted"])),
            "last_name": r["last_name"],
            "first_name": r["first_name"],
            "school_year": r["school_year"],
            "odb_number": r["odb_number"] or None,
            "hours": r["hours"],
            "reached_at": r["reached_at"],
        }
        for r in rows
    ]
