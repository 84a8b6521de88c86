"""The back office's side: the work queue, information requests and their terms (R-19),
amendments (R-17), forwarding to the deciding body (R-15) and the decision (R-20, R-21)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from registration import domain, queries
from registration.domain import Status
from registration.sections import DecidingBodySection
from registration.use_cases.common import (
    DECISION_TERM_JOB,
    INFORMATION_TERM_JOB,
    application,
    check_sections,
    parse_section,
    reference,
    training_of,
)
from registration.use_cases.register import register_training
from service_runtime import paging
from service_runtime.calendar import brussels_date, start_of
from service_runtime.errors import Conflict, Violation, raise_if_any
from service_runtime.outbox import publish_event, send_email
from service_runtime.scheduler import cancel_job, schedule_job
from wse_contracts.emails import ApplicationDecided, InformationRequested
from wse_contracts.registration import ApplicationDecidedV1, ApplicationForwardedV1, InformationReceivedV1, InformationRequestedV1

INSUFFICIENT_INFORMATION = "negative: insufficient information (R-19)"


async def work_queue(
    connection: asyncpg.Connection, *, status: str | None, organisation_id: UUID | None, due_before: date | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    """Open dossiers, the nearest deadline first (the decision term, or an open question's term); a page."""
    after = paging.decode_cursor(cursor, [paging.DATE, paging.INTEGER])
    rows = await connection.fetch(
        f"""
        SELECT * FROM (
            SELECT a.application_id, a.dossier_number, a.organisation_id, o.name AS organisation_name, a.status,
                   a.sections->'training'->>'name' AS training_name, a.submitted_at, a.decision_due_on, a.flags, a.replaces_odb_number,
                   q.due_on AS information_due_on, least(a.decision_due_on, q.due_on) AS deadline,
                   coalesce(least(a.decision_due_on, q.due_on), 'infinity'::date) AS sort_deadline
            FROM applications a
            LEFT JOIN organisations_projection o USING (organisation_id)
            LEFT JOIN information_requests q ON q.application_id = a.application_id AND q.answered_at IS NULL AND q.lapsed_at IS NULL
            WHERE a.status IN ({queries.OPEN})
              AND ($1::text IS NULL OR a.status = $1) AND ($2::uuid IS NULL OR a.organisation_id = $2)
              AND ($3::date IS NULL OR least(a.decision_due_on, q.due_on) <= $3)
        ) d
        WHERE $5::date IS NULL OR (d.sort_deadline, d.dossier_number) > ($5, $6)
        ORDER BY d.sort_deadline, d.dossier_number
        LIMIT $4
        """,
        domain.open_status(status),
        organisation_id,
        due_before,
        limit + 1,
        *(after or (None, None)),
    )
    # No deadline sorts last ('infinity'; asyncpg reads and writes it as date.max).
    items, next_cursor = paging.page([dict(r) for r in rows], limit, key=lambda r: (r["sort_deadline"], r["dossier_number"]))
    return {"items": items, "next_cursor": next_cursor}


# ------------------------------------------------------------------------------- information requests


async def request_information(connection: asyncpg.Connection, *, actor_id: UUID, application_id: UUID, question: str, now: datetime) -> dict[str, Any]:
    row = await queries.application(connection, application_id, for_update=True)
    previous_status = row["status"]
    domain.ensure_questionable(previous_status)
    due_on = domain.information_due_on(brussels_date(now))
    request_id = uuid.uuid4()
    await connection.execute(
        "INSERT INTO information_requests (request_id, application_id, question, asked_by, asked_at, due_on) VALUES ($1, $2, $3, $4, $5, $6)",
        request_id,
        application_id,
        question,
        actor_id,
        now,
        due_on,
    )
    row = await connection.fetchrow(
        f"UPDATE applications SET status = '{Status.AWAITING_INFORMATION}', version = version + 1, updated_at = $2 WHERE application_id = $1 RETURNING *",
        application_id,
        now,
    )
    await queries.add_history(
        connection,
        application_id,
        at=now,
        actor_id=actor_id,
        action="information_requested",
        request_id=str(request_id),
        due_on=due_on.isoformat(),
        previous_status=previous_status,
    )
    # The term ends at the end of its due date: the job runs at the next midnight.
    await schedule_job(
        connection,
        job=INFORMATION_TERM_JOB,
        dedup_key=str(request_id),
        due_at=start_of(due_on + timedelta(days=1)),
        payload={"request_id": str(request_id), "application_id": str(application_id)},
    )
    await publish_event(
        connection, InformationRequestedV1(application_id=application_id, organisation_id=row["organisation_id"], request_id=request_id, due_on=due_on)
    )
    await send_email(
        connection,
        InformationRequested(dossier_number=row["dossier_number"], training_name=row["sections"]["training"]["name"], question=question, due_on=due_on),
        to=row["sections"]["contact"],
        reference=reference(row),
        key=f"{request_id}:requested",
    )
    return await application(connection, application_id=application_id, organisation_id=None)


async def answer_information_request(
    connection: asyncpg.Connection, *, actor_id: UUID, organisation_id: UUID, application_id: UUID, answer: str, document_ids: list[UUID], now: datetime
) -> dict[str, Any]:
    row = await queries.own_application(connection, organisation_id=organisation_id, application_id=application_id, for_update=True)
    request = await connection.fetchrow(
        "SELECT * FROM information_requests WHERE application_id = $1 AND answered_at IS NULL AND lapsed_at IS NULL", application_id
    )
    if request is None or row["status"] != Status.AWAITING_INFORMATION:
        raise Conflict("there is no open question on this dossier")
    owned = await queries.owned_documents(connection, organisation_id, document_ids)
    raise_if_any(Violation(f"document_ids[{i}]", "no such document of this organisation") for i, d in enumerate(document_ids) if d not in owned)
    await connection.execute(
        "UPDATE information_requests SET answered_at = $2, answer = $3, answer_documents = $4 WHERE request_id = $1",
        request["request_id"],
        now,
        answer,
        document_ids,
    )
    await connection.execute(
        f"UPDATE applications SET status = '{Status.IN_REVIEW}', version = version + 1, updated_at = $2 WHERE application_id = $1", application_id, now
    )
    await cancel_job(connection, job=INFORMATION_TERM_JOB, dedup_key=str(request["request_id"]))
    await queries.add_history(connection, application_id, at=now, actor_id=actor_id, action="information_received", request_id=str(request["request_id"]))
    await publish_event(connection, InformationReceivedV1(application_id=application_id, organisation_id=organisation_id, request_id=request["request_id"]))
    return await application(connection, application_id=application_id, organisation_id=organisation_id)


async def information_term_lapsed(connection: asyncpg.Connection, *, request_id: UUID, at: datetime) -> None:
    """R-19: a month without an answer: the dossier is judged on what is there."""
    request = await connection.fetchrow(
        "SELECT * FROM information_requests WHERE request_id = $1 AND answered_at IS NULL AND lapsed_at IS NULL FOR UPDATE", request_id
    )
    if request is None:
        return  # answered in the meantime
    await connection.execute("UPDATE information_requests SET lapsed_at = $2 WHERE request_id = $1", request["request_id"], at)
    row = await connection.fetchrow(
        f"UPDATE applications SET status = '{Status.IN_REVIEW}', version = version + 1, updated_at = $2 "
        f"WHERE application_id = $1 AND status = '{Status.AWAITING_INFORMATION}' RETURNING *",
        request["application_id"],
        at,
    )
    if row is None:
        return  # already forwarded by the decision term
    await queries.add_history(connection, row["application_id"], at=at, actor_id=None, action="information_term_lapsed", request_id=str(request["request_id"]))
    await publish_event(
        connection,
        InformationReceivedV1(application_id=row["application_id"], organisation_id=row["organisation_id"], request_id=request["request_id"], lapsed=True),
    )


async def decision_term_near(connection: asyncpg.Connection, *, application_id: UUID, at: datetime) -> None:
    """R-19: the three-month decision term comes near while a question is still open: the dossier
    goes to the commission anyway, with a negative advice for lack of information."""
    row = await connection.fetchrow("SELECT * FROM applications WHERE application_id = $1 FOR UPDATE", application_id)
    if row is None or row["status"] != Status.AWAITING_INFORMATION:
        return
    await connection.execute(
        "UPDATE information_requests SET lapsed_at = $2 WHERE application_id = $1 AND answered_at IS NULL AND lapsed_at IS NULL",
        row["application_id"],
        at,
    )
    for r in await connection.fetch("SELECT request_id FROM information_requests WHERE application_id = $1", row["application_id"]):
        await cancel_job(connection, job=INFORMATION_TERM_JOB, dedup_key=str(r["request_id"]))
    await _forward(connection, row, actor_id=None, deciding_body="commission", advice=INSUFFICIENT_INFORMATION, now=at)


# ------------------------------------------------------------------------------- amending, forwarding, deciding


async def amend_application(
    connection: asyncpg.Connection, *, actor_id: UUID, application_id: UUID, name: str, body: Any, reason: str, now: datetime
) -> dict[str, Any]:
    """R-17: after submission only the back office changes a dossier, at the provider's request;
    the change and its reason are kept in the history."""
    section = parse_section(name, body)
    row = await queries.application(connection, application_id, for_update=True)
    domain.ensure_amendable(row["status"])
    await check_sections(connection, sections={name: section}, organisation_id=row["organisation_id"])
    before = row["sections"].get(name)
    await connection.execute(
        "UPDATE applications SET sections = sections || jsonb_build_object($2::text, $3::jsonb), version = version + 1, updated_at = $4 WHERE application_id = $1",
        application_id,
        name,
        section.model_dump(mode="json"),
        now,
    )
    await queries.add_history(connection, application_id, at=now, actor_id=actor_id, action="amended", section=name, reason=reason, before=before)
    return await application(connection, application_id=application_id, organisation_id=None)


async def forward_application(
    connection: asyncpg.Connection, *, actor_id: UUID, application_id: UUID, deciding_body: str | None, advice: str | None, now: datetime
) -> dict[str, Any]:
    row = await queries.application(connection, application_id, for_update=True)
    domain.ensure_forwardable(row["status"])
    body = domain.resolve_deciding_body(
        requested=DecidingBodySection.model_validate(row["sections"]["deciding_body"]),
        chosen=deciding_body,
        known_committees=await queries.committees(connection),
    )
    await _forward(connection, row, actor_id=actor_id, deciding_body=body, advice=advice, now=now)
    return await application(connection, application_id=application_id, organisation_id=None)


async def _forward(
    connection: asyncpg.Connection, row: asyncpg.Record, *, actor_id: UUID | None, deciding_body: str, advice: str | None, now: datetime
) -> None:
    await connection.execute(
        f"UPDATE applications SET status = '{Status.FORWARDED}', deciding_body = $2, advice = $3, forwarded_at = $4, version = version + 1, updated_at = $4 "
        "WHERE application_id = $1",
        row["application_id"],
        deciding_body,
        advice,
        now,
    )
    await queries.add_history(connection, row["application_id"], at=now, actor_id=actor_id, action="forwarded", deciding_body=deciding_body, advice=advice)
    await publish_event(
        connection,
        ApplicationForwardedV1(application_id=row["application_id"], organisation_id=row["organisation_id"], deciding_body=deciding_body, advice=advice),
    )


async def decide_application(
    connection: asyncpg.Connection, *, actor_id: UUID, application_id: UUID, outcome: str, reasons: str | None, holds_from: date | None, now: datetime
) -> dict[str, Any]:
    row = await queries.application(connection, application_id, for_update=True)
    domain.ensure_decidable(row["status"])
    domain.ensure_decision(outcome=outcome, reasons=reasons)
    organisation = await queries.known_organisation(connection, row["organisation_id"])
    training = training_of(row)
    odb = None
    if outcome == Status.APPROVED:
        # the date the registration holds from; by default the day the application came in.
        holds = holds_from or brussels_date(row["submitted_at"])
        odb = domain.odb_number(organisation_kind=organisation.kind, sequence=await connection.fetchval("SELECT nextval('odb_numbers')"))
        await register_training(connection, row=row, training=training, provider_name=organisation.name, odb=odb, holds_from=holds, now=now)
    await connection.execute(
        "UPDATE applications SET status = $2, decided_at = $3, decision_reasons = $4, odb_number = $5, version = version + 1, updated_at = $3 WHERE application_id = $1",
        application_id,
        outcome,
        now,
        reasons,
        odb,
    )
    await cancel_job(connection, job=DECISION_TERM_JOB, dedup_key=str(application_id))
    await queries.add_history(connection, application_id, at=now, actor_id=actor_id, action="decided", outcome=outcome, odb_number=odb)
    await publish_event(
        connection,
        ApplicationDecidedV1(application_id=application_id, organisation_id=row["organisation_id"], outcome=outcome, reasons=reasons, odb_number=odb),
    )
    await send_email(
        connection,
        ApplicationDecided(
            dossier_number=row["dossier_number"],
            training_name=training.name,
            organisation_name=organisation.name,
            outcome="approved" if outcome == Status.APPROVED else "rejected",
            reasons=reasons,
            odb_number=odb,
        ),
        to=row["sections"]["contact"],
        reference=reference(row),
        key=f"{application_id}:decided",
    )
    return await application(connection, application_id=application_id, organisation_id=None)
