"""Attesting: a batch of rows (one for a single form, thousands for a bulk file) checked against
the register and stored together, each row's outcome reported (A-2 to A-9).

A batch is read with a few statements whatever its size (the trainings, the students, the
enrolments its references name), decided in Python through `attestation.domain`, and written
with one statement per table. The same row again stores nothing twice: attestations are
idempotent on the provider's reference; a row with the same reference and other content is a
correction (a new version, the previous one kept in the history).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from attestation import domain
from attestation.domain import Enrolled, Kind, Outcome, Status, Training
from attestation.rows import Row
from service_runtime import pii
from service_runtime.calendar import SchoolYear
from service_runtime.errors import Violation
from service_runtime.logging import correlation_id_var
from service_runtime.outbox import add_all_to_outbox, event_source
from wse_contracts.attestation import (
    AttendanceAttestedV1,
    AttestationCorrectedV1,
    CompletionAttestedV1,
    EnrolmentAttestedV1,
    EntitlementReachedV1,
)
from wse_contracts.events import Event


@dataclass(slots=True)
class Result:
    """One row's outcome: accepted, held, refused (with its problems) or unchanged."""

    row_number: int
    outcome: Outcome
    kind: Kind
    attestation_id: UUID | None = None
    problems: list[Violation] = field(default_factory=list)


@dataclass(slots=True)
class _Student:
    student_id: str
    index: bytes
    encrypted: bytes
    key_id: str
    names: tuple[str, str] = ("", "")


async def trainings(connection: asyncpg.Connection, odb_numbers: set[str]) -> dict[str, Training]:
    rows = await connection.fetch("SELECT * FROM trainings_projection WHERE odb_number = ANY($1::text[])", list(odb_numbers))
    return {r["odb_number"]: Training.from_row(r) for r in rows}


async def _enrolments(connection: asyncpg.Connection, organisation_id: UUID, references: set[str]) -> dict[str, asyncpg.Record]:
    rows = await connection.fetch("SELECT * FROM enrolments WHERE organisation_id = $1 AND reference = ANY($2::text[])", organisation_id, list(references))
    return {r["reference"]: r for r in rows}


async def _attendances(connection: asyncpg.Connection, organisation_id: UUID, references: set[str]) -> dict[tuple[str, str, Any, Any], asyncpg.Record]:
    rows = await connection.fetch("SELECT * FROM attendances WHERE organisation_id = $1 AND reference = ANY($2::text[])", organisation_id, list(references))
    return {(r["reference"], r["module"], r["period_from"], r["period_to"]): r for r in rows}


def _school_year(day: Any) -> str:
    return str(SchoolYear.of(day))


def _enrolled(record: Any) -> Enrolled:
    return Enrolled(
        record["enrolment_id"], record["odb_number"], record["module"], record["student_id"], record["status"], record["starts_on"], record["ends_on"]
    )


async def attest_batch(
    connection: asyncpg.Connection, *, keys: pii.PiiKeys, organisation_id: UUID, receipt_id: UUID, rows: list[Row], now: datetime
) -> list[Result]:
    """Checks and stores these rows in the caller's transaction; returns each row's outcome."""
    known = await trainings(connection, {r.odb_number for r in rows})
    references = {r.reference for r in rows}
    enrolments = await _enrolments(connection, organisation_id, references)
    attendances = await _attendances(connection, organisation_id, references)
    students: dict[str, _Student] = {}
    results: list[Result] = []
    new_enrolments: list[tuple[Any, ...]] = []
    corrected_enrolments: list[tuple[Any, ...]] = []
    new_attendances: list[tuple[Any, ...]] = []
    corrected_attendances: list[tuple[Any, ...]] = []
    history: list[tuple[Any, ...]] = []
    completions: dict[UUID, Any] = {}
    events: list[Event] = []
    affected: set[tuple[str, str]] = set()
    batch_enrolled: dict[str, Enrolled] = {}

    for row in rows:
        student = students.get(row.nrn)
        if student is None:
            student = students[row.nrn] = _Student(pii.pseudonym(keys, row.nrn), pii.blind_index(keys, row.nrn), b"", "")
        training = known.get(row.odb_number)
        if row.kind == Kind.ENROLMENT:
            assert row.starts_on is not None and row.ends_on is not None
            existing = enrolments.get(row.reference)
            problems, status = domain.enrolment_problems(
                training=training, organisation_id=organisation_id, module=row.module, starts_on=row.starts_on, ends_on=row.ends_on, new=existing is None
            )
            if existing is not None and existing["student_id"] != student.student_id:
                problems.append(Violation("reference", "this reference is the enrolment of another student", "A-2"))
            if problems:
                results.append(Result(row.row_number, Outcome.REFUSED, row.kind, problems=problems))
                continue
            if not student.encrypted and row.last_name:
                student.encrypted = pii.encrypt(keys, row.nrn)
                student.key_id = keys.active_key_id
                student.names = (row.last_name, row.first_name)
            content = (row.odb_number, row.module, row.starts_on, row.ends_on)
            school_year = _school_year(row.starts_on)
            if existing is not None:
                if (existing["odb_number"], existing["module"], existing["starts_on"], existing["ends_on"]) == content and existing[
                    "status"
                ] != Status.WITHDRAWN:
                    results.append(Result(row.row_number, Outcome.UNCHANGED, row.kind, existing["enrolment_id"]))
                    batch_enrolled[row.reference] = _enrolled(existing)
                    continue
                enrolment_id, version = existing["enrolment_id"], existing["version"] + 1
                history.append(("enrolment", enrolment_id, existing["version"], _content(existing), now, "corrected"))
                corrected_enrolments.append((enrolment_id, version, *content, school_year, status.value, receipt_id, now))
                events.append(
                    AttestationCorrectedV1(
                        attestation_id=enrolment_id,
                        organisation_id=organisation_id,
                        student_id=student.student_id,
                        odb_number=row.odb_number,
                        module=row.module or None,
                        version=version,
                        kind="enrolment",
                    )
                )
            else:
                if row.reference in batch_enrolled:  # the same reference twice in one batch: the first counts
                    results.append(Result(row.row_number, Outcome.UNCHANGED, row.kind, batch_enrolled[row.reference].enrolment_id))
                    continue
                enrolment_id, version = uuid.uuid4(), 1
                new_enrolments.append((enrolment_id, organisation_id, row.reference, student.student_id, *content, school_year, status.value, receipt_id, now))
            batch_enrolled[row.reference] = Enrolled(enrolment_id, row.odb_number, row.module, student.student_id, status.value, row.starts_on, row.ends_on)
            if status == Status.ACCEPTED:
                events.append(
                    EnrolmentAttestedV1(
                        attestation_id=enrolment_id,
                        organisation_id=organisation_id,
                        student_id=student.student_id,
                        odb_number=row.odb_number,
                        module=row.module or None,
                        version=version,
                        starts_on=row.starts_on,
                        ends_on=row.ends_on,
                        school_year=school_year,
                    )
                )
            results.append(Result(row.row_number, Outcome.ACCEPTED if status == Status.ACCEPTED else Outcome.HELD, row.kind, enrolment_id))
        else:
            assert row.period_from is not None and row.period_to is not None and row.hours is not None
            enrolled = batch_enrolled.get(row.reference) or (_enrolled(enrolments[row.reference]) if row.reference in enrolments else None)
            problems, status = domain.attendance_problems(
                enrolment=enrolled,
                training=training,
                student_id=student.student_id,
                odb_number=row.odb_number,
                module=row.module,
                period_from=row.period_from,
                period_to=row.period_to,
                hours=row.hours,
                completed=row.completed,
            )
            if problems:
                results.append(Result(row.row_number, Outcome.REFUSED, row.kind, problems=problems))
                continue
            assert enrolled is not None
            key = (row.reference, row.module, row.period_from, row.period_to)
            existing = attendances.get(key)
            school_year = _school_year(row.period_from)
            if existing is not None:
                if existing["hours"] == row.hours and existing["completed"] == row.completed and existing["status"] != Status.WITHDRAWN:
                    results.append(Result(row.row_number, Outcome.UNCHANGED, row.kind, existing["attendance_id"]))
                    continue
                attendance_id, version = existing["attendance_id"], existing["version"] + 1
                history.append(("attendance", attendance_id, existing["version"], _content(existing), now, "corrected"))
                corrected_attendances.append((attendance_id, version, row.hours, row.completed, status.value, receipt_id, now))
                events.append(
                    AttestationCorrectedV1(
                        attestation_id=attendance_id,
                        organisation_id=organisation_id,
                        student_id=student.student_id,
                        odb_number=row.odb_number,
                        module=row.module or None,
                        version=version,
                        kind="attendance",
                    )
                )
            else:
                attendance_id, version = uuid.uuid4(), 1
                new_attendances.append(
                    (
                        attendance_id,
                        organisation_id,
                        enrolled.enrolment_id,
                        row.reference,
                        student.student_id,
                        row.odb_number,
                        row.module,
                        row.period_from,
                        row.period_to,
                        row.hours,
                        school_year,
                        row.completed,
                        status.value,
                        receipt_id,
                        now,
                    )
                )
                attendances[key] = {"attendance_id": attendance_id, "hours": row.hours, "completed": row.completed, "status": status.value, "version": 1}
            if status == Status.ACCEPTED:
                events.append(
                    AttendanceAttestedV1(
                        attestation_id=attendance_id,
                        organisation_id=organisation_id,
                        student_id=student.student_id,
                        odb_number=row.odb_number,
                        module=row.module or None,
                        version=version,
                        enrolment_id=enrolled.enrolment_id,
                        period_from=row.period_from,
                        period_to=row.period_to,
                        hours=row.hours,
                        school_year=school_year,
                    )
                )
                affected.add((student.student_id, school_year))
                if row.completed:
                    completions[enrolled.enrolment_id] = (student.student_id, row.odb_number, row.module, school_year)
            results.append(Result(row.row_number, Outcome.ACCEPTED if status == Status.ACCEPTED else Outcome.HELD, row.kind, attendance_id))

    await _write_students(connection, [s for s in students.values() if s.encrypted])
    if new_enrolments:
        await connection.executemany(
            """
            INSERT INTO enrolments (enrolment_id, organisation_id, reference, student_id, odb_number, module, starts_on, ends_on, school_year, status,
                receipt_id, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
            """,
            new_enrolments,
        )
    if corrected_enrolments:
        await connection.executemany(
            """
            UPDATE enrolments SET version = $2, odb_number = $3, module = $4, starts_on = $5, ends_on = $6, school_year = $7, status = $8,
                receipt_id = $9, updated_at = $10 WHERE enrolment_id = $1
            """,
            corrected_enrolments,
        )
    if new_attendances:
        await connection.executemany(
            """
            INSERT INTO attendances (attendance_id, organisation_id, enrolment_id, reference, student_id, odb_number, module, period_from, period_to,
                hours, school_year, completed, status, receipt_id, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
            """,
            new_attendances,
        )
    if corrected_attendances:
        await connection.executemany(
            "UPDATE attendances SET version = $2, hours = $3, completed = $4, status = $5, receipt_id = $6, updated_at = $7 WHERE attendance_id = $1",
            corrected_attendances,
        )
    if history:
        await connection.executemany(
            "INSERT INTO attestation_history (kind, attestation_id, version, content, replaced_at, action) VALUES ($1, $2, $3, $4, $5, $6)", history
        )
    for enrolment_id, (student_id, odb_number, module, school_year) in completions.items():
        # the blended module's hours count from now on.
        done = await connection.fetchval("UPDATE enrolments SET completed = true WHERE enrolment_id = $1 AND NOT completed RETURNING true", enrolment_id)
        if done:
            events.append(
                CompletionAttestedV1(
                    attestation_id=enrolment_id,
                    organisation_id=organisation_id,
                    student_id=student_id,
                    odb_number=odb_number,
                    module=module or None,
                    enrolment_id=enrolment_id,
                    school_year=school_year,
                )
            )
    events += await entitlements_reached(connection, affected, now=now)
    await publish_all(connection, events)
    return results


def _content(record: Any) -> dict[str, Any]:
    """An attestation's content for the history: never the student's number or name."""
    return {k: (str(v) if v is not None and not isinstance(v, (bool, int, str)) else v) for k, v in dict(record).items() if k not in ("receipt_id",)}


async def _write_students(connection: asyncpg.Connection, students: list[_Student]) -> None:
    if not students:
        return
    await connection.executemany(
        """
        INSERT INTO students (student_id, nrn_index, nrn_encrypted, key_id, last_name, first_name) VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (nrn_index) DO NOTHING
        """,
        [(s.student_id, s.index, s.encrypted, s.key_id, *s.names) for s in students],
    )


async def publish_all(connection: asyncpg.Connection, events: list[Event]) -> None:
    """The events of a batch into the outbox in one statement per topic (all share one)."""
    if not events:
        return
    source = event_source(connection)
    correlation_id = correlation_id_var.get() or "none"
    envelopes = [event.to_envelope(source=source, correlation_id=correlation_id) for event in events]
    await add_all_to_outbox(connection, envelopes, topic=events[0].topic)


# -------------------------------------------------------------------------------


COUNTED_HOURS = """
    SELECT a.student_id, a.school_year, CASE WHEN a.school_year >= '2021-2022' THEN '' ELSE a.odb_number END AS odb_number, sum(a.hours) AS hours
    FROM attendances a JOIN enrolments e USING (enrolment_id)
    LEFT JOIN trainings_projection t ON t.odb_number = a.odb_number
    WHERE a.status = 'accepted' AND e.status = 'accepted'
      -- A-5: a blended module's hours count only once the learning process was completed
      AND (e.completed OR NOT coalesce((SELECT (m->>'blended')::boolean FROM jsonb_array_elements(t.modules) m WHERE m->>'name' = a.module), t.blended, false))
"""


async def entitlements_reached(connection: asyncpg.Connection, affected: set[tuple[str, str]], *, now: datetime) -> list[Event]:
    """A-6: per student and school year, the attended hours across providers (from 2021-2022;
    per training before) against the 32-hour minimum; reached once, then published once."""
    if not affected:
        return []
    students, years = zip(*sorted(affected), strict=True)
    rows = await connection.fetch(
        f"""
        WITH counted AS ({COUNTED_HOURS}
              AND (a.student_id, a.school_year) IN (SELECT * FROM unnest($1::text[], $2::text[]))
            GROUP BY 1, 2, 3)
        INSERT INTO entitlements (student_id, school_year, odb_number, hours, reached_at)
        SELECT student_id, school_year, odb_number, hours, $3 FROM counted WHERE hours >= {domain.MINIMUM_HOURS}
        ON CONFLICT DO NOTHING
        RETURNING student_id, school_year, odb_number, hours
        """,
        list(students),
        list(years),
        now,
    )
    return [
        EntitlementReachedV1(student_id=r["student_id"], school_year=r["school_year"], hours=Decimal(r["hours"]), odb_number=r["odb_number"] or None)
        for r in rows
    ]
