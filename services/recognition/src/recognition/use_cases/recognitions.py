"""Recognitions (E-8 to E-12): granted from the minister's decision, holding 5 years on their own
dates, ended early by inactivity (E-9) or withdrawal, the jobs that publish an end the dates
already say and remind in time, coaching assignments, reported changes and the public list."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from recognition import domain, queries
from recognition.domain import EndReason
from recognition.use_cases.common import EXPIRY_JOB, EXPIRY_REMINDER_JOB, INACTIVITY_JOB, email_key
from service_runtime import paging
from service_runtime.calendar import add_years, brussels_date, start_of
from service_runtime.errors import Conflict, Invalid, NotFound, Violation, raise_if_any
from service_runtime.outbox import publish_event, send_email
from service_runtime.scheduler import cancel_job, schedule_job
from wse_contracts.emails import RecognitionEnded, RecognitionExpiryReminder, RecognitionSubcontractorEnded
from wse_contracts.recognition import ChangeReportedV1, ChangeReviewedV1, RecognitionEndedV1, RecognitionGrantedV1

# The last days whose terms fall within the calendar: a recognition's 5 years and the day after
# (E-8); 2 years without coaching from the day after an assignment ends (E-9). A later day is
# refused by name instead of failing while its terms are counted. The calendar counts months up to
# November 9999 (December's length is found from the 1st of January 10000, which no date holds).
CALENDAR_END = date(9999, 11, 30)
LATEST_RECOGNITION_START = add_years(CALENDAR_END, -domain.VALIDITY_YEARS)
LATEST_ASSIGNMENT_END = add_years(CALENDAR_END, -domain.INACTIVITY_YEARS) - timedelta(days=1)


def start_problems(field: str, starts_on: date | None) -> list[Violation]:
    """E-8: a recognition starting on `starts_on` holds 5 years, within the calendar."""
    if starts_on is not None and starts_on > LATEST_RECOGNITION_START:
        return [Violation(field, f"at the latest {LATEST_RECOGNITION_START.isoformat()}: the 5 years would end beyond the calendar", "E-8")]
    return []


def _end_problems(field: str, ends_on: date | None) -> list[Violation]:
    if ends_on is not None and ends_on > LATEST_ASSIGNMENT_END:
        return [Violation(field, f"at the latest {LATEST_ASSIGNMENT_END.isoformat()}: the 2 years without coaching would end beyond the calendar", "E-9")]
    return []


async def grant_recognition(connection: asyncpg.Connection, application: asyncpg.Record, *, valid_from: date, now: datetime) -> asyncpg.Record:
    """E-8: recognised from the date in the decision through the day before its fifth anniversary;
    the end, the reminder and E-9's inactivity are armed from those dates."""
    organisation = await queries.known_organisation(connection, application["organisation_id"])
    territory = application["parts"]["territory"]
    row = await connection.fetchrow(
        """
        INSERT INTO recognitions (recognition_id, recognition_number, organisation_id, application_id, enterprise_number, name, valid_from, valid_until,
            provinces, municipalities, capacity, subcontractors, contact, granted_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING *
        """,
        uuid.uuid4(),
        application["dossier_number"],
        application["organisation_id"],
        application["application_id"],
        organisation.enterprise_number,
        organisation.name,
        valid_from,
        domain.valid_until(valid_from),
        territory["provinces"],
        territory.get("municipalities", []),
        territory["capacity"],
        [s["enterprise_number"] for s in territory.get("subcontractors", [])],
        application["parts"]["project"]["contact"],
        now,
    )
    key = str(row["recognition_id"])
    await schedule_job(connection, job=EXPIRY_JOB, dedup_key=key, due_at=start_of(row["valid_until"] + timedelta(days=1)), payload={"recognition_id": key})
    await schedule_job(
        connection, job=EXPIRY_REMINDER_JOB, dedup_key=key, due_at=start_of(domain.expiry_reminder_on(row["valid_until"])), payload={"recognition_id": key}
    )
    await arm_inactivity(connection, row)
    await publish_event(
        connection,
        RecognitionGrantedV1(
            recognition_id=row["recognition_id"],
            organisation_id=row["organisation_id"],
            recognition_number=row["recognition_number"],
            enterprise_number=row["enterprise_number"],
            application_id=row["application_id"],
            valid_from=row["valid_from"],
            valid_until=row["valid_until"],
            provinces=list(row["provinces"]),
            capacity=row["capacity"],
        ),
    )
    return row


async def inactivity_end_on(connection: asyncpg.Connection, row: asyncpg.Record) -> date | None:
    found = await queries.assignments(connection, row["recognition_id"])
    return domain.inactivity_end_on(valid_from=row["valid_from"], valid_until=row["valid_until"], assignments=[(a["starts_on"], a["ends_on"]) for a in found])


async def arm_inactivity(connection: asyncpg.Connection, row: asyncpg.Record) -> date | None:
    """E-9: the job at the day the recognition would end for want of coaching; moved by every
    assignment recorded, cancelled while one runs without an end."""
    key = str(row["recognition_id"])
    ends_on = await inactivity_end_on(connection, row)
    if ends_on is None or row["ended_on"] is not None:
        await cancel_job(connection, job=INACTIVITY_JOB, dedup_key=key)
    else:
        await schedule_job(connection, job=INACTIVITY_JOB, dedup_key=key, due_at=start_of(ends_on), payload={"recognition_id": key})
    return ends_on


async def end_recognition(
    connection: asyncpg.Connection, row: asyncpg.Record, *, reason: EndReason, ended_on: date, explanation: str | None, now: datetime
) -> asyncpg.Record:
    """Publishes the end, emails the provider and (E-11) every recognised provider that named it
    as a subcontractor. An end already recorded stays (the first wins)."""
    ended = await connection.fetchrow(
        "UPDATE recognitions SET ended_on = $2, end_reason = $3, end_explanation = $4 WHERE recognition_id = $1 AND end_reason IS NULL RETURNING *",
        row["recognition_id"],
        ended_on,
        reason.value,
        explanation,
    )
    if ended is None:
        return row
    key = str(row["recognition_id"])
    for job in (EXPIRY_JOB, EXPIRY_REMINDER_JOB, INACTIVITY_JOB):
        if not (job == EXPIRY_JOB and reason == EndReason.EXPIRY):
            await cancel_job(connection, job=job, dedup_key=key)
    await queries.add_history(
        connection, row["application_id"], at=now, actor_id=None, action="recognition_ended", reason=reason.value, ended_on=ended_on.isoformat()
    )
    await publish_event(
        connection,
        RecognitionEndedV1(
            recognition_id=row["recognition_id"],
            organisation_id=row["organisation_id"],
            recognition_number=row["recognition_number"],
            enterprise_number=row["enterprise_number"],
            reason=reason.value,
            ended_on=ended_on,
        ),
    )
    await send_email(
        connection,
        RecognitionEnded(
            organisation_name=row["name"],
            recognition_number=row["recognition_number"],
            reason=reason.value,
            valid_from=row["valid_from"],
            ended_on=ended_on,
            explanation=explanation,
        ),
        to=row["contact"],
        reference=row["recognition_number"],
        key=email_key(row["recognition_id"], "ended"),
    )
    if row["enterprise_number"]:
        # E-11: providers that named it can no longer call on it; one email each.
        naming = await connection.fetch(
            f"SELECT * FROM recognitions r WHERE {queries.RECOGNISED_ON} AND $2 = ANY(r.subcontractors) AND r.recognition_id <> $3",
            ended_on,
            row["enterprise_number"],
            row["recognition_id"],
        )
        for provider in naming:
            await send_email(
                connection,
                RecognitionSubcontractorEnded(
                    organisation_name=provider["name"],
                    subcontractor_name=row["name"],
                    subcontractor_enterprise_number=row["enterprise_number"],
                    ended_on=ended_on,
                ),
                to=provider["contact"],
                reference=provider["recognition_number"],
                key=email_key(provider["recognition_id"], f"subcontractor-ended:{row['recognition_id']}"),
            )
    return ended


# ------------------------------------------------------------------------------- jobs


async def expired(connection: asyncpg.Connection, *, recognition_id: UUID, now: datetime) -> None:
    """E-8: the day after the last valid day. The answer "recognised?" needed no job; this one
    publishes the end and emails the provider."""
    row = await queries.recognition(connection, recognition_id, for_update=True)
    await end_recognition(connection, row, reason=EndReason.EXPIRY, ended_on=row["valid_until"] + timedelta(days=1), explanation=None, now=now)


async def remind_expiry(connection: asyncpg.Connection, *, recognition_id: UUID, now: datetime) -> None:
    """Six months before the end: apply again in time (E-13)."""
    row = await queries.recognition(connection, recognition_id)
    if not domain.recognised_on(brussels_date(now), valid_from=row["valid_from"], valid_until=row["valid_until"], ended_on=row["ended_on"]):
        return
    await send_email(
        connection,
        RecognitionExpiryReminder(organisation_name=row["name"], recognition_number=row["recognition_number"], valid_until=row["valid_until"]),
        to=row["contact"],
        reference=row["recognition_number"],
        key=email_key(recognition_id, "expiry-reminder"),
    )


async def inactivity_due(connection: asyncpg.Connection, *, recognition_id: UUID, now: datetime) -> None:
    """E-9: judged again from the assignments as they are now: ended when the day has come,
    re-armed when an assignment recorded since moved it."""
    row = await queries.recognition(connection, recognition_id, for_update=True)
    if row["end_reason"] is not None:
        return
    ends_on = await inactivity_end_on(connection, row)
    if ends_on is not None and ends_on <= brussels_date(now):
        await end_recognition(
            connection,
            row,
            reason=EndReason.INACTIVITY,
            ended_on=ends_on,
            explanation="Gedurende 2 opeenvolgende jaren werd geen werknemer met een arbeidsbeperking begeleid.",
            now=now,
        )
    else:
        await arm_inactivity(connection, row)


# ------------------------------------------------------------------------------- the provider's recognitions


def _recognition_answer(row: asyncpg.Record, *, today: date, ends_for_inactivity_on: date | None) -> dict[str, Any]:
    answer = dict(row)
    answer["recognised_today"] = domain.recognised_on(today, valid_from=row["valid_from"], valid_until=row["valid_until"], ended_on=row["ended_on"])
    answer["inactivity_end_on"] = ends_for_inactivity_on if row["end_reason"] is None else None
    return answer


async def recognition_detail(connection: asyncpg.Connection, row: asyncpg.Record, *, today: date) -> dict[str, Any]:
    answer = _recognition_answer(row, today=today, ends_for_inactivity_on=await inactivity_end_on(connection, row))
    answer["assignments"] = [
        {k: a[k] for k in ("assignment_id", "employer_name", "employer_enterprise_number", "starts_on", "ends_on", "recorded_at")}
        for a in await queries.assignments(connection, row["recognition_id"])
    ]
    answer["change_reports"] = [
        dict(r)
        for r in await connection.fetch(
            "SELECT report_id, description, reported_at, reviewed_at, review_outcome, review_note FROM change_reports WHERE recognition_id = $1 ORDER BY reported_at",
            row["recognition_id"],
        )
    ]
    return answer


async def own_recognitions(connection: asyncpg.Connection, *, organisation_id: UUID, today: date) -> list[dict[str, Any]]:
    rows = await connection.fetch("SELECT * FROM recognitions WHERE organisation_id = $1 ORDER BY valid_from DESC", organisation_id)
    return [await recognition_detail(connection, row, today=today) for row in rows]


async def own_recognition(connection: asyncpg.Connection, *, organisation_id: UUID, recognition_id: UUID, today: date) -> dict[str, Any]:
    row = await queries.own_recognition(connection, organisation_id=organisation_id, recognition_id=recognition_id)
    return await recognition_detail(connection, row, today=today)


def _ensure_running(row: asyncpg.Record, today: date, doing: str, rule: str) -> None:
    if not domain.recognised_on(today, valid_from=row["valid_from"], valid_until=row["valid_until"], ended_on=row["ended_on"]):
        raise Conflict(f"{doing} is only possible while the recognition holds", rule=rule)


async def record_assignment(
    connection: asyncpg.Connection,
    *,
    actor_id: UUID,
    organisation_id: UUID,
    recognition_id: UUID,
    employer_name: str,
    employer_enterprise_number: str | None,
    starts_on: date,
    ends_on: date | None,
    now: datetime,
) -> dict[str, Any]:
    """E-9: a coaching assignment (its dates and the employer; no employee is named)."""
    today = brussels_date(now)
    row = await queries.own_recognition(connection, organisation_id=organisation_id, recognition_id=recognition_id, for_update=True)
    _ensure_running(row, today, "recording a coaching assignment", "E-9")
    problems = []
    if starts_on > today:
        problems.append(Violation("starts_on", "an assignment is recorded once it has started", "E-9"))
    if starts_on > row["valid_until"]:
        problems.append(Violation("starts_on", "after the recognition's last day", "E-9"))
    if ends_on is not None and ends_on < starts_on:
        problems.append(Violation("ends_on", "the end comes on or after the start", "E-9"))
    problems += _end_problems("ends_on", ends_on)
    raise_if_any(problems)
    await connection.execute(
        """
        INSERT INTO coaching_assignments (assignment_id, recognition_id, employer_name, employer_enterprise_number, starts_on, ends_on, recorded_by, recorded_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        """,
        uuid.uuid4(),
        recognition_id,
        employer_name,
        employer_enterprise_number,
        starts_on,
        ends_on,
        actor_id,
        now,
    )
    await arm_inactivity(connection, row)
    return await recognition_detail(connection, row, today=today)


async def end_assignment(
    connection: asyncpg.Connection, *, organisation_id: UUID, recognition_id: UUID, assignment_id: UUID, ends_on: date, now: datetime
) -> dict[str, Any]:
    """E-9: the assignment's end, once known; the inactivity day moves with it."""
    today = brussels_date(now)
    row = await queries.own_recognition(connection, organisation_id=organisation_id, recognition_id=recognition_id, for_update=True)
    assignment = await connection.fetchrow("SELECT * FROM coaching_assignments WHERE assignment_id = $1 AND recognition_id = $2", assignment_id, recognition_id)
    if assignment is None:
        raise NotFound("no such assignment of this recognition")
    if ends_on < assignment["starts_on"]:
        raise Invalid(f"the end comes on or after the start ({assignment['starts_on'].isoformat()})", field="ends_on", rule="E-9")
    raise_if_any(_end_problems("ends_on", ends_on))
    await connection.execute("UPDATE coaching_assignments SET ends_on = $2 WHERE assignment_id = $1", assignment_id, ends_on)
    await arm_inactivity(connection, row)
    return await recognition_detail(connection, row, today=today)


async def report_change(
    connection: asyncpg.Connection, *, actor_id: UUID, organisation_id: UUID, recognition_id: UUID, description: str, now: datetime
) -> dict[str, Any]:
    """E-12: a change that affects (or may affect) the conditions, for the department to review."""
    today = brussels_date(now)
    row = await queries.own_recognition(connection, organisation_id=organisation_id, recognition_id=recognition_id)
    _ensure_running(row, today, "reporting a change", "E-12")
    report_id = uuid.uuid4()
    await connection.execute(
        "INSERT INTO change_reports (report_id, recognition_id, organisation_id, description, reported_by, reported_at) VALUES ($1, $2, $3, $4, $5, $6)",
        report_id,
        recognition_id,
        organisation_id,
        description,
        actor_id,
        now,
    )
    await publish_event(
        connection,
        ChangeReportedV1(
            recognition_id=recognition_id,
            organisation_id=organisation_id,
            recognition_number=row["recognition_number"],
            enterprise_number=row["enterprise_number"],
            report_id=report_id,
            reported_on=today,
        ),
    )
    return await recognition_detail(connection, row, today=today)


# ------------------------------------------------------------------------------- the department


async def open_change_reports(connection: asyncpg.Connection, *, limit: int, cursor: str | None) -> dict[str, Any]:
    """E-12: reported changes not reviewed yet, the oldest first."""
    after = paging.decode_cursor(cursor, [paging.MOMENT, paging.UUID_])
    rows = await connection.fetch(
        """
        SELECT c.report_id, c.recognition_id, r.recognition_number, c.organisation_id, r.name AS organisation_name, c.description, c.reported_at
        FROM change_reports c JOIN recognitions r USING (recognition_id)
        WHERE c.reviewed_at IS NULL AND ($2::timestamptz IS NULL OR (c.reported_at, c.report_id) > ($2, $3))
        ORDER BY c.reported_at, c.report_id LIMIT $1
        """,
        limit + 1,
        *(after or (None, None)),
    )
    items, next_cursor = paging.page([dict(r) for r in rows], limit, key=lambda r: (r["reported_at"], r["report_id"]))
    return {"items": items, "next_cursor": next_cursor}


async def review_change(connection: asyncpg.Connection, *, actor_id: UUID, report_id: UUID, outcome: str, note: str, now: datetime) -> dict[str, Any]:
    """E-12: noted, or the recognition withdrawn from today (the provider is emailed why)."""
    report = await connection.fetchrow("SELECT * FROM change_reports WHERE report_id = $1 FOR UPDATE", report_id)
    if report is None:
        raise NotFound("no such reported change")
    if report["reviewed_at"] is not None:
        raise Conflict("this change was reviewed already", rule="E-12")
    row = await queries.recognition(connection, report["recognition_id"], for_update=True)
    today = brussels_date(now)
    await connection.execute(
        "UPDATE change_reports SET reviewed_at = $2, reviewed_by = $3, review_outcome = $4, review_note = $5 WHERE report_id = $1",
        report_id,
        now,
        actor_id,
        outcome,
        note,
    )
    if outcome == "withdrawn":
        _ensure_running(row, today, "withdrawing a recognition", "E-12")
        row = await end_recognition(connection, row, reason=EndReason.WITHDRAWAL, ended_on=today, explanation=note, now=now)
    await publish_event(
        connection,
        ChangeReviewedV1(
            recognition_id=row["recognition_id"],
            organisation_id=row["organisation_id"],
            recognition_number=row["recognition_number"],
            enterprise_number=row["enterprise_number"],
            report_id=report_id,
            outcome=outcome,
        ),
    )
    return await recognition_detail(connection, row, today=today)


async def recognition_for_department(connection: asyncpg.Connection, *, recognition_id: UUID, today: date) -> dict[str, Any]:
    return await recognition_detail(connection, await queries.recognition(connection, recognition_id), today=today)


# ------------------------------------------------------------------------------- the public list


async def recognised_providers(
    connection: asyncpg.Connection, *, today: date, name: str | None, province: str | None, municipality: str | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    """Recognised external service providers today (E-8: on their own dates, no job needed), by name."""
    after = paging.decode_cursor(cursor, [paging.TEXT, paging.UUID_])
    rows = await connection.fetch(
        f"""
        SELECT r.recognition_id, r.recognition_number, r.organisation_id, r.name, r.enterprise_number, r.provinces, r.municipalities, r.capacity,
               r.valid_from, r.valid_until, lower(r.name) AS sort_name
        FROM recognitions r
        WHERE {queries.RECOGNISED_ON}
          AND ($2::text IS NULL OR r.name ILIKE '%' || $2 || '%')
          AND ($3::text IS NULL OR $3 = ANY(r.provinces))
          AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM unnest(r.municipalities) m WHERE lower(m) = lower($4)))
          AND ($6::text IS NULL OR (lower(r.name), r.recognition_id) > ($6, $7))
        ORDER BY lower(r.name), r.recognition_id LIMIT $5
        """,
        today,
        name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") if name else None,
        province,
        municipality,
        limit + 1,
        *(after or (None, None)),
    )
    items, next_cursor = paging.page([dict(r) for r in rows], limit, key=lambda r: (r["sort_name"], r["recognition_id"]))
    return {"items": items, "next_cursor": next_cursor}
