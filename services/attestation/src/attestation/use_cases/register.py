"""Registration's trainings, kept as its events describe them (A-3 to A-8), and the attestations
held because the register did not know their number yet, judged the moment it does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from attestation import domain
from attestation.domain import Training
from attestation.use_cases.attest import entitlements_reached, publish_all
from wse_contracts.attestation import AttendanceAttestedV1, EnrolmentAttestedV1
from wse_contracts.events import Event
from wse_contracts.registration import TrainingRegisteredV1, TrainingReplacedV1, TrainingStoppedV1


async def training_registered(connection: asyncpg.Connection, event: TrainingRegisteredV1, *, now: datetime) -> None:
    await connection.execute(
        """
        INSERT INTO trainings_projection (odb_number, organisation_id, name, holds_from, structure, blended, modules, school_years, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
        ON CONFLICT (odb_number) DO UPDATE SET organisation_id = EXCLUDED.organisation_id, name = EXCLUDED.name, holds_from = EXCLUDED.holds_from,
            structure = EXCLUDED.structure, blended = EXCLUDED.blended, modules = EXCLUDED.modules, school_years = EXCLUDED.school_years, updated_at = now()
        """,
        event.odb_number,
        event.organisation_id,
        event.name,
        event.holds_from,
        event.structure,
        event.blended,
        [m.model_dump(mode="json") for m in event.modules],
        event.school_years,
    )
    if event.replaces:
        await connection.execute("UPDATE trainings_projection SET replaced_by = $2 WHERE odb_number = $1", event.replaces, event.odb_number)
    await release_held(connection, odb_number=event.odb_number, now=now)


async def training_stopped(connection: asyncpg.Connection, event: TrainingStoppedV1) -> None:
    await connection.execute("UPDATE trainings_projection SET stop_on = $2, updated_at = now() WHERE odb_number = $1", event.odb_number, event.stop_on)


async def training_replaced(connection: asyncpg.Connection, event: TrainingReplacedV1) -> None:
    await connection.execute("UPDATE trainings_projection SET replaced_by = $2, updated_at = now() WHERE odb_number = $1", event.odb_number, event.replaced_by)


async def release_held(connection: asyncpg.Connection, *, odb_number: str, now: datetime) -> None:
    """The held enrolments on this number judged against the register, then their attendance."""
    row = await connection.fetchrow("SELECT * FROM trainings_projection WHERE odb_number = $1", odb_number)
    training = Training.from_row(row)
    events: list[Event] = []
    affected: set[tuple[str, str]] = set()
    held = await connection.fetch("SELECT * FROM enrolments WHERE odb_number = $1 AND status = 'held' FOR UPDATE", odb_number)
    for enrolment in held:
        problems, _ = domain.enrolment_problems(
            training=training,
            organisation_id=enrolment["organisation_id"],
            module=enrolment["module"],
            starts_on=enrolment["starts_on"],
            ends_on=enrolment["ends_on"],
            new=True,
        )
        if problems:
            first = problems[0]
            await connection.execute(
                "UPDATE enrolments SET status = 'refused', refusal_rule = $2, refusal_reason = $3, updated_at = $4 WHERE enrolment_id = $1",
                enrolment["enrolment_id"],
                first.rule,
                "; ".join(p.reason for p in problems),
                now,
            )
            await connection.execute(
                "UPDATE attendances SET status = 'refused', updated_at = $2 WHERE enrolment_id = $1 AND status = 'held'", enrolment["enrolment_id"], now
            )
            continue
        await connection.execute("UPDATE enrolments SET status = 'accepted', updated_at = $2 WHERE enrolment_id = $1", enrolment["enrolment_id"], now)
        events.append(_enrolment_event(enrolment))
        for attendance in await connection.fetch(
            "UPDATE attendances SET status = 'accepted', updated_at = $2 WHERE enrolment_id = $1 AND status = 'held' RETURNING *",
            enrolment["enrolment_id"],
            now,
        ):
            events.append(_attendance_event(attendance))
            affected.add((attendance["student_id"], attendance["school_year"]))
    events += await entitlements_reached(connection, affected, now=now)
    await publish_all(connection, events)


def _enrolment_event(row: Any) -> EnrolmentAttestedV1:
    return EnrolmentAttestedV1(
        attestation_id=row["enrolment_id"],
        organisation_id=row["organisation_id"],
        student_id=row["student_id"],
        odb_number=row["odb_number"],
        module=row["module"] or None,
        version=row["version"],
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        school_year=row["school_year"],
    )


def _attendance_event(row: Any) -> AttendanceAttestedV1:
    return AttendanceAttestedV1(
        attestation_id=row["attendance_id"],
        organisation_id=row["organisation_id"],
        student_id=row["student_id"],
        odb_number=row["odb_number"],
        module=row["module"] or None,
        version=row["version"],
        enrolment_id=row["enrolment_id"],
        period_from=row["period_from"],
        period_to=row["period_to"],
        hours=row["hours"],
        school_year=row["school_year"],
    )
