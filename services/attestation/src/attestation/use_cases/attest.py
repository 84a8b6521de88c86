"""Attesting: a batch of rows (one for a single form, thousands for a bulk file) checked against
the register and stored together, each row's outcome reported (A-2 to A-9).

A batch is read with a few statements whatever its size (the trainings, the students, the
enrolments its references name), decided in Python through `attestation.domain`, and written
with one statement per table: a bulk file's batch of thousands with COPY (the new enrolments,
attendances and their events) or one INSERT of arrays (the students, which may exist already),
a single attestation with plain INSERTs. The same row again stores nothing twice: attestations
are idempotent on the provider's reference; a row with the same reference and other content is a
correction (a new version, the previous one kept in the history). Rows are taken in their order:
a reference again further down a batch is judged against the row before it, as it would be in a
later batch, so a bulk file's outcome does not depend on where its batches end.

A batch is read (`read_known`), decided in Python (`decide`, no I/O) and written (`write_plan`);
`attest_batch` does the three in the caller's transaction. A bulk file overlaps them across
batches (use_cases/bulk.py).

Events go into the outbox as `service_runtime.outbox` writes them (CloudEvents in Kafka's binary
mode, `wse_contracts.to_kafka_record`), but the two a bulk file has one of per row, enrolment and
attendance attested, are built from their data without a Pydantic model and an envelope each
(`_Outbox`): the same rows, a tenth of the work (tests/attestation/test_bulk_parsing.py holds the
two ways to the same bytes).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

import asyncpg
from asyncpg.pgproto.pgproto import UUID as FastUUID  # what asyncpg returns for uuid columns: a uuid.UUID, made in C

from attestation import domain
from attestation.domain import Enrolled, Kind, Outcome, Status, Training
from attestation.rows import Row
from service_runtime import pii, tracing
from service_runtime.calendar import SchoolYear
from service_runtime.errors import Violation
from service_runtime.logging import correlation_id_var
from service_runtime.outbox import _NOTIFY_CHANNEL, NotInTransaction, event_source
from wse_contracts.attestation import (
    AttendanceAttestedV1,
    AttestationCorrectedV1,
    CompletionAttestedV1,
    EnrolmentAttestedV1,
    EntitlementReachedV1,
)
from wse_contracts.events import Event
from wse_contracts.kafka_binding import to_kafka_record

CENTS = Decimal("0.01")  # hours as numeric(7, 2) stores them

# From this many rows on, a table is written with COPY (one round trip, the least work for
# PostgreSQL); fewer (a single attestation) with INSERT, which costs fewer round trips than COPY's.
COPY_FROM = 64


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
    encrypted: bytes  # set once an accepted enrolment names the student: then the student is stored
    key_id: str
    names: tuple[str, str] = ("", "")
    ciphertext: bytes = b""  # the number encrypted ahead of time (prepare_students), for `encrypted`


def prepare_students(keys: pii.PiiKeys, rows: list[Row], students: dict[str, _Student] | None = None) -> dict[str, _Student]:
    """The students of these rows as attest_batch works with them (pseudonym, blind index, and for
    an enrolment with a name the number encrypted), computed ahead, added to `students`: a bulk
    file prepares a batch while the one before is stored. Nothing is stored unless attest_batch
    accepts a row."""
    students = {} if students is None else students
    for row in rows:
        student = students.get(row.nrn)
        if student is None:
            student = students[row.nrn] = _Student(pii.pseudonym(keys, row.nrn), pii.blind_index(keys, row.nrn), b"", "")
        if not student.ciphertext and row.kind == Kind.ENROLMENT and row.last_name:
            student.ciphertext = pii.encrypt(keys, row.nrn)
    return students


async def trainings(connection: asyncpg.Connection, odb_numbers: set[str]) -> dict[str, Training]:
    rows = await connection.fetch("SELECT * FROM trainings_projection WHERE odb_number = ANY($1::text[])", list(odb_numbers))
    return {r["odb_number"]: Training.from_row(r) for r in rows}


# A batch's references looked up one by one in the (organisation_id, reference, ...) unique
# indexes: joined to the array, not `reference = ANY($2)`, which a prepared statement's generic
# plan answers with a sequential scan comparing every row with every reference (seconds per batch
# of thousands once the table holds a few hundred thousand).
async def _enrolments(connection: asyncpg.Connection, organisation_id: UUID, references: set[str]) -> dict[str, asyncpg.Record]:
    rows = await connection.fetch(
        "SELECT e.* FROM unnest($2::text[]) AS r(reference) JOIN enrolments e ON e.organisation_id = $1 AND e.reference = r.reference",
        organisation_id,
        list(references),
    )
    return {r["reference"]: r for r in rows}


async def _attendances(connection: asyncpg.Connection, organisation_id: UUID, references: set[str]) -> dict[tuple[str, str, Any, Any], asyncpg.Record]:
    rows = await connection.fetch(
        "SELECT a.* FROM unnest($2::text[]) AS r(reference) JOIN attendances a ON a.organisation_id = $1 AND a.reference = r.reference",
        organisation_id,
        list(references),
    )
    return {(r["reference"], r["module"], r["period_from"], r["period_to"]): r for r in rows}


@lru_cache(maxsize=4096)
def _school_year(day: date) -> str:
    return str(SchoolYear.of(day))


def _enrolled(record: Any) -> Enrolled:
    return Enrolled(
        record["enrolment_id"], record["odb_number"], record["module"], record["student_id"], record["status"], record["starts_on"], record["ends_on"]
    )


@dataclass(slots=True)
class Known:
    """What a batch is checked against: the trainings its rows name, and the organisation's
    enrolments and attendance under its references (as stored, or as the batch before it is
    storing them: `Plan.overlay`)."""

    trainings: dict[str, Training]
    enrolments: dict[str, Any]  # reference -> the row
    attendances: dict[tuple[str, str, Any, Any], Any]  # (reference, module, period_from, period_to) -> the row


async def read_known(connection: asyncpg.Connection, *, organisation_id: UUID, rows: list[Row], before: Plan | None = None) -> Known:
    """The batch's reads (three statements whatever its size); with `before`, a batch decided but
    not yet committed, what that one will have stored over what is read here."""
    if not rows:
        return Known({}, {}, {})
    references = {r.reference for r in rows}
    known = Known(
        await trainings(connection, {r.odb_number for r in rows}),
        await _enrolments(connection, organisation_id, references),
        await _attendances(connection, organisation_id, references),
    )
    if before is not None:
        before.overlay(known)
    return known


@dataclass
class Plan:
    """A batch decided: each row's outcome, and what to write for it (`write_plan`)."""

    organisation_id: UUID
    receipt_id: UUID
    now: datetime
    students: dict[str, _Student]
    outbox: _Outbox
    results: list[Result] = field(default_factory=list)
    new_enrolments: list[tuple[Any, ...]] = field(default_factory=list)
    corrected_enrolments: list[tuple[Any, ...]] = field(default_factory=list)
    new_attendances: list[tuple[Any, ...]] = field(default_factory=list)
    corrected_attendances: list[tuple[Any, ...]] = field(default_factory=list)
    history: list[tuple[Any, ...]] = field(default_factory=list)
    completions: dict[UUID, Any] = field(default_factory=dict)
    affected: set[tuple[str, str]] = field(default_factory=set)
    # The rows as they will be stored, for the batch after this one (read before this one commits).
    enrolments_stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    attendances_stored: dict[tuple[str, str, Any, Any], dict[str, Any]] = field(default_factory=dict)

    def overlay(self, known: Known) -> None:
        """This batch's writes over `known`, read before it committed: the next batch then decides
        as it would after the commit (an attendance on an enrolment of this batch, a correction of
        one of its rows, the unchanged row of a file sent twice)."""
        known.enrolments.update(self.enrolments_stored)
        if self.completions:  # completed by this batch (as the UPDATE in write_plan makes them)
            for reference, row in list(known.enrolments.items()):
                if row["enrolment_id"] in self.completions and not row["completed"]:
                    known.enrolments[reference] = {**dict(row), "completed": True}
        known.attendances.update(self.attendances_stored)


async def attest_batch(
    connection: asyncpg.Connection,
    *,
    keys: pii.PiiKeys,
    organisation_id: UUID,
    receipt_id: UUID,
    rows: list[Row],
    now: datetime,
    students: dict[str, _Student] | None = None,
) -> list[Result]:
    """Checks and stores these rows in the caller's transaction; returns each row's outcome.
    `students`: what prepare_students made of these rows, if it was made ahead."""
    known = await read_known(connection, organisation_id=organisation_id, rows=rows)
    plan = await decide(
        keys=keys, organisation_id=organisation_id, receipt_id=receipt_id, rows=rows, now=now, known=known, students=students, outbox=_Outbox(connection)
    )
    await write_plan(connection, plan)
    return plan.results


DECIDE_YIELD_EVERY = 500  # rows decided between turns of the event loop (a bulk file's batch being written goes on)


async def decide(
    *,
    keys: pii.PiiKeys,
    organisation_id: UUID,
    receipt_id: UUID,
    rows: list[Row],
    now: datetime,
    known: Known,
    students: dict[str, _Student] | None,
    outbox: _Outbox,
) -> Plan:
    """Each row checked against `known` through attestation.domain (no I/O; it gives the event
    loop a turn every DECIDE_YIELD_EVERY rows). `outbox`: where its events go (`new_outbox`)."""
    plan = Plan(organisation_id, receipt_id, now, {} if students is None else students, outbox)
    students = plan.students
    results = plan.results
    new_enrolments, corrected_enrolments = plan.new_enrolments, plan.corrected_enrolments
    new_attendances, corrected_attendances = plan.new_attendances, plan.corrected_attendances
    history, completions, outbox, affected = plan.history, plan.completions, plan.outbox, plan.affected
    enrolments_stored, attendances_stored = plan.enrolments_stored, plan.attendances_stored
    known_trainings, enrolments, attendances = known.trainings, known.enrolments, known.attendances
    batch_enrolled: dict[str, Enrolled] = {}

    for position, row in enumerate(rows, 1):
        if position % DECIDE_YIELD_EVERY == 0:
            await asyncio.sleep(0)
        student = students.get(row.nrn)
        if student is None:
            student = students[row.nrn] = _Student(pii.pseudonym(keys, row.nrn), pii.blind_index(keys, row.nrn), b"", "")
        training = known_trainings.get(row.odb_number)
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
                student.encrypted = student.ciphertext or pii.encrypt(keys, row.nrn)
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
                enrolments[row.reference] = enrolments_stored[row.reference] = {
                    **dict(existing), "version": version, "odb_number": row.odb_number, "module": row.module, "starts_on": row.starts_on,
                    "ends_on": row.ends_on, "school_year": school_year, "status": status.value, "receipt_id": receipt_id, "updated_at": now,
                }  # fmt: skip
                outbox.add(
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
                enrolment_id, version = new_id(), 1
                new_enrolments.append(
                    (enrolment_id, organisation_id, row.reference, student.student_id, *content, school_year, status.value, receipt_id, now, now)
                )
                enrolments[row.reference] = enrolments_stored[row.reference] = {
                    "enrolment_id": enrolment_id, "organisation_id": organisation_id, "reference": row.reference, "version": 1,
                    "student_id": student.student_id, "odb_number": row.odb_number, "module": row.module, "starts_on": row.starts_on,
                    "ends_on": row.ends_on, "school_year": school_year, "status": status.value, "refusal_rule": None, "refusal_reason": None,
                    "completed": False, "receipt_id": receipt_id, "created_at": now, "updated_at": now,
                }  # fmt: skip
            batch_enrolled[row.reference] = Enrolled(enrolment_id, row.odb_number, row.module, student.student_id, status.value, row.starts_on, row.ends_on)
            if status == Status.ACCEPTED:
                outbox.add_json(
                    EnrolmentAttestedV1,
                    student.student_id,
                    enrolment_json(
                        enrolment_id, organisation_id, student.student_id, row.odb_number, row.module, version, row.starts_on, row.ends_on, school_year
                    ),
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
                attendances[key] = attendances_stored[key] = {
                    **dict(existing), "version": version, "hours": row.hours.quantize(CENTS), "completed": row.completed, "status": status.value,
                    "receipt_id": receipt_id, "updated_at": now,
                }  # fmt: skip
                outbox.add(
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
                attendance_id, version = new_id(), 1
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
                        now,
                    )
                )
                attendances[key] = attendances_stored[key] = {
                    "attendance_id": attendance_id, "organisation_id": organisation_id, "enrolment_id": enrolled.enrolment_id,
                    "reference": row.reference, "version": 1, "student_id": student.student_id, "odb_number": row.odb_number,
                    "module": row.module, "period_from": row.period_from, "period_to": row.period_to, "hours": row.hours.quantize(CENTS),
                    "school_year": school_year, "completed": row.completed, "status": status.value, "receipt_id": receipt_id,
                    "created_at": now, "updated_at": now,
                }  # fmt: skip
            if status == Status.ACCEPTED:
                outbox.add_json(
                    AttendanceAttestedV1,
                    student.student_id,
                    attendance_json(
                        attendance_id, organisation_id, student.student_id, row.odb_number, row.module, version, enrolled.enrolment_id,
                        row.period_from, row.period_to, row.hours, school_year,
                    ),
                )  # fmt: skip
                affected.add((student.student_id, school_year))
                if row.completed:
                    completions[enrolled.enrolment_id] = (student.student_id, row.odb_number, row.module, school_year)
            results.append(Result(row.row_number, Outcome.ACCEPTED if status == Status.ACCEPTED else Outcome.HELD, row.kind, attendance_id))

    return plan


async def write_plan(connection: asyncpg.Connection, plan: Plan) -> None:
    """A decided batch stored, in the caller's transaction: one statement per table (COPY for many
    rows), A-5's completions, A-6's entitlements, and the events."""
    await _write_students(connection, [s for s in plan.students.values() if s.encrypted])
    await _insert(
        connection,
        "enrolments",
        ENROLMENT_COLUMNS,
        plan.new_enrolments,
        """
        INSERT INTO enrolments (enrolment_id, organisation_id, reference, student_id, odb_number, module, starts_on, ends_on, school_year, status,
            receipt_id, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
        """,
    )
    if plan.corrected_enrolments:
        await connection.executemany(
            """
            UPDATE enrolments SET version = $2, odb_number = $3, module = $4, starts_on = $5, ends_on = $6, school_year = $7, status = $8,
                receipt_id = $9, updated_at = $10 WHERE enrolment_id = $1
            """,
            plan.corrected_enrolments,
        )
    await _insert(
        connection,
        "attendances",
        ATTENDANCE_COLUMNS,
        plan.new_attendances,
        """
        INSERT INTO attendances (attendance_id, organisation_id, enrolment_id, reference, student_id, odb_number, module, period_from, period_to,
            hours, school_year, completed, status, receipt_id, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
        """,
    )
    if plan.corrected_attendances:
        await connection.executemany(
            "UPDATE attendances SET version = $2, hours = $3, completed = $4, status = $5, receipt_id = $6, updated_at = $7 WHERE attendance_id = $1",
            plan.corrected_attendances,
        )
    if plan.history:
        await connection.executemany(
            "INSERT INTO attestation_history (kind, attestation_id, version, content, replaced_at, action) VALUES ($1, $2, $3, $4, $5, $6)", plan.history
        )
    if plan.completions:
        # the blended module's hours count from now on (one statement for the batch).
        done = {
            r["enrolment_id"]
            for r in await connection.fetch(
                "UPDATE enrolments SET completed = true WHERE enrolment_id = ANY($1::uuid[]) AND NOT completed RETURNING enrolment_id", list(plan.completions)
            )
        }
        for enrolment_id, (student_id, odb_number, module, school_year) in plan.completions.items():
            if enrolment_id in done:
                plan.outbox.add(
                    CompletionAttestedV1(
                        attestation_id=enrolment_id,
                        organisation_id=plan.organisation_id,
                        student_id=student_id,
                        odb_number=odb_number,
                        module=module or None,
                        enrolment_id=enrolment_id,
                        school_year=school_year,
                    )
                )
    for reached in await _reached(connection, plan.affected, now=plan.now):
        plan.outbox.add_json(EntitlementReachedV1, reached["student_id"], entitlement_json(reached))
    await plan.outbox.write(connection)


ENROLMENT_COLUMNS = [
    "enrolment_id", "organisation_id", "reference", "student_id", "odb_number", "module", "starts_on", "ends_on", "school_year", "status", "receipt_id",
    "created_at", "updated_at",
]  # fmt: skip
ATTENDANCE_COLUMNS = [
    "attendance_id", "organisation_id", "enrolment_id", "reference", "student_id", "odb_number", "module", "period_from", "period_to", "hours",
    "school_year", "completed", "status", "receipt_id", "created_at", "updated_at",
]  # fmt: skip


async def _insert(connection: asyncpg.Connection, table: str, columns: list[str], records: list[tuple[Any, ...]], statement: str) -> None:
    if len(records) >= COPY_FROM:
        await connection.copy_records_to_table(table, records=records, columns=columns)
    elif records:
        await connection.executemany(statement, records)


def _content(record: Any) -> dict[str, Any]:
    """An attestation's content for the history: never the student's number or name."""
    return {k: (str(v) if v is not None and not isinstance(v, (bool, int, str)) else v) for k, v in dict(record).items() if k not in ("receipt_id",)}


async def _write_students(connection: asyncpg.Connection, students: list[_Student]) -> None:
    """New students; one another transaction stored meanwhile (the same student in two files) is kept."""
    if len(students) >= COPY_FROM:
        await connection.execute(
            """
            INSERT INTO students (student_id, nrn_index, nrn_encrypted, key_id, last_name, first_name)
            SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[], $4::text[], $5::text[], $6::text[])
            ON CONFLICT (nrn_index) DO NOTHING
            """,
            [s.student_id for s in students],
            [s.index for s in students],
            [s.encrypted for s in students],
            [s.key_id for s in students],
            [s.names[0] for s in students],
            [s.names[1] for s in students],
        )
    elif students:
        await connection.executemany(
            """
            INSERT INTO students (student_id, nrn_index, nrn_encrypted, key_id, last_name, first_name) VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (nrn_index) DO NOTHING
            """,
            [(s.student_id, s.index, s.encrypted, s.key_id, *s.names) for s in students],
        )


# ------------------------------------------------------------------------------- events

_VERSION_4 = bytes((b & 0x0F) | 0x40 for b in range(256))  # a random UUID's version nibble
_VARIANT = bytes((b & 0x3F) | 0x80 for b in range(256))  # and its RFC 4122 variant bits


class _Ids:
    """Random (version 4) UUIDs a thousand at a time: one os.urandom and two byte translations
    instead of a system call and a Python UUID per id (uuid.uuid4 was 5 % of a bulk file's time)."""

    def __init__(self) -> None:
        self._ids: list[UUID] = []

    def __call__(self) -> UUID:
        if not self._ids:
            raw = bytearray(os.urandom(16 * 1024))
            raw[6::16] = raw[6::16].translate(_VERSION_4)
            raw[8::16] = raw[8::16].translate(_VARIANT)
            data = bytes(raw)
            self._ids = [FastUUID(data[i : i + 16]) for i in range(0, len(data), 16)]
        return self._ids.pop()


new_id = _Ids()
_json = json.JSONEncoder(separators=(",", ":"), default=str).encode  # as wse_contracts.to_kafka_record encodes an event's data


def _json_text(text: str) -> str:
    """A JSON string; letters and digits as they are (a pseudonym, an id), anything else through json."""
    return f'"{text}"' if text.isalnum() and text.isascii() else json.dumps(text)


def _text_or_null(text: str) -> str:
    return _json_text(text) if text else "null"


def enrolment_json(
    enrolment_id: UUID, organisation_id: UUID, student_id: str, odb_number: str, module: str, version: int, starts_on: date, ends_on: date, school_year: str
) -> str:
    """EnrolmentAttestedV1's data as wse_contracts.to_kafka_record writes it (`model_dump(mode="json")`, compact JSON), without the model."""
    return (
        f'{{"attestation_id":"{enrolment_id}","organisation_id":"{organisation_id}","student_id":{_json_text(student_id)},'
        f'"odb_number":{_json_text(odb_number)},"module":{_text_or_null(module)},"version":{int(version)},"starts_on":"{starts_on.isoformat()}",'
        f'"ends_on":"{ends_on.isoformat()}","school_year":{_json_text(school_year)}}}'
    )


def attendance_json(
    attendance_id: UUID,
    organisation_id: UUID,
    student_id: str,
    odb_number: str,
    module: str,
    version: int,
    enrolment_id: UUID,
    period_from: date,
    period_to: date,
    hours: Decimal,
    school_year: str,
) -> str:
    """AttendanceAttestedV1's data as wse_contracts.to_kafka_record writes it, without the model."""
    return (
        f'{{"attestation_id":"{attendance_id}","organisation_id":"{organisation_id}","student_id":{_json_text(student_id)},'
        f'"odb_number":{_json_text(odb_number)},"module":{_text_or_null(module)},"version":{int(version)},"enrolment_id":"{enrolment_id}",'
        f'"period_from":"{period_from.isoformat()}","period_to":"{period_to.isoformat()}","hours":"{hours}","school_year":{_json_text(school_year)}}}'
    )


def entitlement_json(reached: Any) -> str:
    """EntitlementReachedV1's data as wse_contracts.to_kafka_record writes it, from a row of `_reached`."""
    return (
        f'{{"student_id":{_json_text(reached["student_id"])},"school_year":{_json_text(reached["school_year"])},'
        f'"hours":"{Decimal(reached["hours"])}","odb_number":{_text_or_null(reached["odb_number"] or "")}}}'
    )


_BACKSLASH = "\\"


def new_outbox(connection: asyncpg.Connection) -> _Outbox:
    """A batch's events, for `decide`: the connection names the service (their source)."""
    return _Outbox(connection)


class _Outbox:
    """A batch's events as the outbox rows `service_runtime.outbox` writes (CloudEvents binary
    mode: the attributes as ce_ headers, the data as the value, the subject as the key), in the
    caller's transaction: many with one COPY, a few with INSERTs; then the relay's NOTIFY."""

    def __init__(self, connection: asyncpg.Connection | None, *, source: str | None = None) -> None:
        self.connection = connection
        # topic, subject (the key), the data's JSON (the value), the headers' JSON, event id, event type
        self.rows: list[tuple[str, str, str, str, str, str]] = []
        self.source = source  # /wse/<service>, from the connection once there is an event
        self._headers: tuple[str, str] | None = None
        self._correlation = json.dumps(correlation_id_var.get() or "none")
        self.time = datetime.now(UTC).isoformat()  # the batch's events are made together
        # Traced (service_runtime.tracing), the events continue the request's trace, as publish_event's do.
        traceparent, tracestate = tracing.current_trace_context()
        self._trace = "".join(f'["ce_{name}",{json.dumps(value)}],' for name, value in (("traceparent", traceparent), ("tracestate", tracestate)) if value)

    def add(self, event: Event) -> None:
        self.add_json(type(event), event.key, _json(event.model_dump(mode="json")))

    def add_json(self, model: type[Event], subject: str, data: str) -> None:
        """An event of `model` about `subject`, its data already JSON as to_kafka_record writes it (compact, ASCII)."""
        if self._headers is None:
            if self.source is None:
                assert self.connection is not None, "an outbox made without a connection needs its source"
                self.source = event_source(self.connection)
            self._headers = (
                f'["ce_source",{json.dumps(self.source)}],["ce_type","',
                f'["ce_time","{self.time}"],["ce_correlationid",{self._correlation}],{self._trace}["content-type","application/json"]]',
            )
        source, rest = self._headers
        event_id = str(new_id())
        headers = f'[["ce_specversion","1.0"],["ce_id","{event_id}"],{source}{model.event_type}"],["ce_subject",{_json_text(subject)}],{rest}'
        self.rows.append((model.topic, subject, data, headers, event_id, model.event_type))

    def row(self, i: int) -> tuple[str, bytes, bytes, list[list[str]], str, str]:
        """Row i as the columns hold it (and as service_runtime.outbox passes it to INSERT)."""
        topic, subject, data, headers, event_id, event_type = self.rows[i]
        return topic, subject.encode(), data.encode(), json.loads(headers), event_id, event_type

    async def write(self, connection: asyncpg.Connection | None = None) -> None:
        connection = connection or self.connection
        assert connection is not None
        if not self.rows:
            return
        if not connection.is_in_transaction():
            raise NotInTransaction("the outbox is written inside the transaction of the state change")
        if len(self.rows) >= COPY_FROM:
            await connection.copy_to_table(
                "outbox", source=io.BytesIO(self.copy_text()), columns=["topic", "key", "value", "headers", "event_id", "event_type"], format="text"
            )
        else:
            await connection.executemany(
                "INSERT INTO outbox (topic, key, value, headers, event_id, event_type) VALUES ($1, $2, $3, $4, $5, $6)",
                [self.row(i) for i in range(len(self.rows))],
            )
        await connection.execute("SELECT pg_notify($1, '')", _NOTIFY_CHANNEL)

    def copy_text(self) -> bytes:
        """The rows in COPY's text format. Topics, types and ids are ours (no character COPY
        escapes); the headers are JSON and the data compact ASCII JSON (no control character, a
        backslash only in an escape): a backslash is doubled for COPY, and in the bytea value
        (its escape format: every other byte as it is) doubled once more. A key that is not
        letters and digits (a pseudonym is) goes as hex."""
        b = _BACKSLASH
        return "".join(
            f"{topic}\t{subject if subject.isalnum() and subject.isascii() else b + b + 'x' + subject.encode().hex()}\t{data.replace(b, b * 4)}\t"
            f"{headers.replace(b, b * 2)}\t{event_id}\t{event_type}\n"
            for topic, subject, data, headers, event_id, event_type in self.rows
        ).encode()


def outbox_row_of(envelope: Any, topic: str) -> tuple[str, bytes | None, bytes, list[list[str]], str, str]:
    """The outbox row `service_runtime.outbox` writes for an envelope (for the tests that hold `_Outbox` to it)."""
    record = to_kafka_record(envelope, topic=topic)
    return record.topic, record.key, record.value, [[name, value.decode()] for name, value in record.headers], envelope.id, envelope.type


async def publish_all(connection: asyncpg.Connection, events: list[Event]) -> None:
    """Events into the outbox in the caller's transaction, in one statement."""
    outbox = _Outbox(connection)
    for event in events:
        outbox.add(event)
    await outbox.write()


# -------------------------------------------------------------------------------


COUNTED_HOURS = """
    SELECT a.student_id, a.school_year, CASE WHEN a.school_year >= '2021-2022' THEN '' ELSE a.odb_number END AS odb_number, sum(a.hours) AS hours
    FROM attendances a JOIN enrolments e USING (enrolment_id)
    LEFT JOIN trainings_projection t ON t.odb_number = a.odb_number
    WHERE a.status = 'accepted' AND e.status = 'accepted'
      -- A-5: a blended module's hours count only once the learning process was completed
      AND (e.completed OR NOT coalesce((SELECT (m->>'blended')::boolean FROM jsonb_array_elements(t.modules) m WHERE m->>'name' = a.module), t.blended, false))
"""


async def _reached(connection: asyncpg.Connection, affected: set[tuple[str, str]], *, now: datetime) -> list[asyncpg.Record]:
    if not affected:
        return []
    students, years = zip(*sorted(affected), strict=True)
    return await connection.fetch(
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


async def entitlements_reached(connection: asyncpg.Connection, affected: set[tuple[str, str]], *, now: datetime) -> list[Event]:
    """A-6: per student and school year, the attended hours across providers (from 2021-2022;
    per training before) against the 32-hour minimum; reached once, then published once."""
    return [
        EntitlementReachedV1(student_id=r["student_id"], school_year=r["school_year"], hours=Decimal(r["hours"]), odb_number=r["odb_number"] or None)
        for r in await _reached(connection, affected, now=now)
    ]
