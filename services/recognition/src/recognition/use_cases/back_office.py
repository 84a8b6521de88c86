"""The department's side: the work queue with derived deadlines, admissibility (E-5),
information requests (E-6), the advice and the minister's decision (E-7, E-8), and the
reconsideration (E-10)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from recognition import domain, queries
from recognition.domain import Outcome, Status
from recognition.use_cases.common import arm_examination_reminder, contact_of, detail, email_key
from recognition.use_cases.recognitions import grant_recognition, start_problems
from service_runtime import paging
from service_runtime.calendar import brussels_date
from service_runtime.errors import Invalid, raise_if_any
from service_runtime.outbox import publish_event, send_email
from wse_contracts.emails import RecognitionAdmissibility, RecognitionDecision, RecognitionInformationRequested, RecognitionReconsiderationOutcome
from wse_contracts.recognition import (
    RecognitionApplicationAdmissibleV1,
    RecognitionApplicationAdvisedV1,
    RecognitionApplicationDecidedV1,
    RecognitionApplicationInadmissibleV1,
    RecognitionInformationRequestedV1,
    ReconsiderationAdvisedV1,
    ReconsiderationHearingRecordedV1,
)

# The queue's columns: the state and every derived date, straight from the stored row.
QUEUE_COLUMNS = """
    a.application_id, a.dossier_number, a.organisation_id, a.status, a.submitted_on,
    a.admissibility_due_on, a.examination_starts_on, a.examination_due_on, a.suspended_since, a.suspended_days,
    a.reconsideration_requested_on, a.heard_on, a.commission_advice_due_on, a.deadline, a.dossier_seq,
    coalesce(a.deadline, 'infinity'::date) AS sort_deadline
"""


async def work_queue(
    connection: asyncpg.Connection,
    *,
    today: date,
    status: str | None,
    organisation_id: UUID | None,
    overdue: bool,
    due_before: date | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """Applications being handled, the nearest deadline first (so the overdue ones lead), those
    without a running term (suspended, with the minister) last; a page. The deadlines are the
    table's generated columns: computed by SQL from the stored facts when they change, read here
    from the index."""
    if status is not None and status not in domain.QUEUE_STATUSES:
        raise Invalid(f"one of {', '.join(domain.QUEUE_STATUSES)}", field="status")
    after = paging.decode_cursor(cursor, [paging.DATE, paging.INTEGER])
    rows = await connection.fetch(
        f"""
        SELECT page.*, o.name AS organisation_name FROM (
        SELECT {QUEUE_COLUMNS}
        FROM applications a
        WHERE a.status IN ({queries.QUEUE})
          AND ($1::text IS NULL OR a.status = $1) AND ($2::uuid IS NULL OR a.organisation_id = $2)
          AND (NOT $3::boolean OR coalesce(a.deadline, 'infinity'::date) < $4)
          AND ($5::date IS NULL OR coalesce(a.deadline, 'infinity'::date) <= $5)
          AND ($7::date IS NULL OR (coalesce(a.deadline, 'infinity'::date), a.dossier_seq) > ($7, $8))
        ORDER BY coalesce(a.deadline, 'infinity'::date), a.dossier_seq
        LIMIT $6
        ) page LEFT JOIN organisations_projection o USING (organisation_id)  -- names for the page only, after the LIMIT
        ORDER BY page.sort_deadline, page.dossier_seq
        """,
        status,
        organisation_id,
        overdue,
        today,
        due_before,
        limit + 1,
        *(after or (None, None)),
    )
    items = []
    for r in rows:
        item = dict(r)
        item["overdue"] = r["deadline"] is not None and r["deadline"] < today
        items.append(item)
    page, next_cursor = paging.page(items, limit, key=lambda r: (r["sort_deadline"], r["dossier_seq"]))
    return {"items": page, "next_cursor": next_cursor}


async def application(connection: asyncpg.Connection, *, application_id: UUID) -> dict[str, Any]:
    return await detail(connection, await queries.application(connection, application_id), back_office=True)


async def _organisation_name(connection: asyncpg.Connection, row: asyncpg.Record) -> str:
    return (await queries.known_organisation(connection, row["organisation_id"])).name


async def judge_admissibility(
    connection: asyncpg.Connection, *, actor_id: UUID, application_id: UUID, admissible: bool, reasons: str | None, now: datetime
) -> dict[str, Any]:
    """E-5: complete and correct, or not (with the reasons); the applicant is emailed either way.
    The examination term (E-6) starts when that email is delivered, not now."""
    row = await queries.application(connection, application_id, for_update=True)
    domain.ensure_status(row["status"], [Status.SUBMITTED], "judging admissibility", rule="E-5")
    if not admissible and not reasons:
        raise Invalid("an inadmissible application is told why", field="reasons", rule="E-5")
    today = brussels_date(now)
    row = await connection.fetchrow(
        """
        UPDATE applications SET status = $2, admissibility_judged_on = $3, admissibility_reasons = $4, version = version + 1, updated_at = $5
        WHERE application_id = $1 RETURNING *
        """,
        application_id,
        Status.IN_EXAMINATION if admissible else Status.INADMISSIBLE,
        today,
        reasons,
        now,
    )
    await queries.add_history(connection, application_id, at=now, actor_id=actor_id, action="admissible" if admissible else "inadmissible", reasons=reasons)
    common = dict(application_id=application_id, organisation_id=row["organisation_id"], dossier_number=row["dossier_number"])
    await publish_event(
        connection, RecognitionApplicationAdmissibleV1(**common) if admissible else RecognitionApplicationInadmissibleV1(**common, reasons=reasons or "")
    )
    await send_email(
        connection,
        RecognitionAdmissibility(
            dossier_number=row["dossier_number"],
            organisation_name=await _organisation_name(connection, row),
            outcome="admissible" if admissible else "inadmissible",
            reasons=reasons,
        ),
        to=contact_of(row),
        reference=row["dossier_number"],
        key=email_key(application_id, "admissibility"),
    )
    return await detail(connection, row, back_office=True)


async def request_information(connection: asyncpg.Connection, *, actor_id: UUID, application_id: UUID, question: str, now: datetime) -> dict[str, Any]:
    """E-6: the term is suspended from today until the answer is received."""
    row = await queries.application(connection, application_id, for_update=True)
    domain.ensure_status(row["status"], [Status.IN_EXAMINATION, Status.AWAITING_INFORMATION], "asking for information", rule="E-6")
    today = brussels_date(now)
    request_id = uuid.uuid4()
    await connection.execute(
        "INSERT INTO information_requests (request_id, application_id, question, asked_by, asked_at, requested_on) VALUES ($1, $2, $3, $4, $5, $6)",
        request_id,
        application_id,
        question,
        actor_id,
        now,
        today,
    )
    row = await connection.fetchrow(
        """
        UPDATE applications SET status = 'awaiting_information', suspended_since = coalesce(suspended_since, $2), version = version + 1, updated_at = $3
        WHERE application_id = $1 RETURNING *
        """,
        application_id,
        today,
        now,
    )
    await queries.add_history(connection, application_id, at=now, actor_id=actor_id, action="information_requested", request_id=str(request_id))
    await arm_examination_reminder(connection, row)
    await publish_event(
        connection,
        RecognitionInformationRequestedV1(
            application_id=application_id,
            organisation_id=row["organisation_id"],
            dossier_number=row["dossier_number"],
            request_id=request_id,
            requested_on=today,
        ),
    )
    await send_email(
        connection,
        RecognitionInformationRequested(
            dossier_number=row["dossier_number"], organisation_name=await _organisation_name(connection, row), question=question, asked_on=today
        ),
        to=contact_of(row),
        reference=row["dossier_number"],
        key=email_key(application_id, f"information:{request_id}"),
    )
    return await detail(connection, row, back_office=True)


async def advise(connection: asyncpg.Connection, *, actor_id: UUID, application_id: UUID, advice: str, motivation: str, now: datetime) -> dict[str, Any]:
    """E-7: the department's motivated advice to the minister ends the examination."""
    row = await queries.application(connection, application_id, for_update=True)
    domain.ensure_status(row["status"], [Status.IN_EXAMINATION], "advising the minister", rule="E-7")
    row = await connection.fetchrow(
        """
        UPDATE applications SET status = 'advised', advice = $2, advice_motivation = $3, advised_on = $4, version = version + 1, updated_at = $5
        WHERE application_id = $1 RETURNING *
        """,
        application_id,
        advice,
        motivation,
        brussels_date(now),
        now,
    )
    await queries.add_history(connection, application_id, at=now, actor_id=actor_id, action="advised", advice=advice)
    await arm_examination_reminder(connection, row)  # the examination is over: no reminder
    await publish_event(
        connection,
        RecognitionApplicationAdvisedV1(
            application_id=application_id, organisation_id=row["organisation_id"], dossier_number=row["dossier_number"], advice=advice
        ),
    )
    return await detail(connection, row, back_office=True)


async def _decided(
    connection: asyncpg.Connection,
    row: asyncpg.Record,
    *,
    actor_id: UUID,
    outcome: str,
    decided_on: date,
    recognition_starts_on: date | None,
    reasons: str | None,
    reconsidered: bool,
    now: datetime,
) -> dict[str, Any]:
    """The minister's decision (E-7) or new decision (E-10): the recognition when granted (E-8),
    the event and the email (N-3)."""
    application_id = row["application_id"]
    recognition = (
        await grant_recognition(connection, row, valid_from=recognition_starts_on, now=now) if outcome == Outcome.GRANTED and recognition_starts_on else None
    )
    await queries.add_history(
        connection,
        application_id,
        at=now,
        actor_id=actor_id,
        action="reconsideration_decided" if reconsidered else "decided",
        outcome=outcome,
        decided_on=decided_on.isoformat(),
    )
    await publish_event(
        connection,
        RecognitionApplicationDecidedV1(
            application_id=application_id,
            organisation_id=row["organisation_id"],
            dossier_number=row["dossier_number"],
            outcome=outcome,
            decided_on=decided_on,
            recognition_id=recognition["recognition_id"] if recognition else None,
            valid_from=recognition["valid_from"] if recognition else None,
            valid_until=recognition["valid_until"] if recognition else None,
            reconsidered=reconsidered,
        ),
    )
    fields = dict(
        dossier_number=row["dossier_number"],
        organisation_name=await _organisation_name(connection, row),
        outcome="approved" if outcome == Outcome.GRANTED else "refused",
        reasons=reasons,
        valid_from=recognition["valid_from"] if recognition else None,
        valid_until=recognition["valid_until"] if recognition else None,
    )
    email = RecognitionReconsiderationOutcome(**fields) if reconsidered else RecognitionDecision(**fields)
    await send_email(
        connection, email, to=contact_of(row), reference=row["dossier_number"], key=email_key(application_id, "reconsideration" if reconsidered else "decision")
    )
    return await detail(connection, row, back_office=True)


def _decision_problems(*, outcome: str, decided_on: date, recognition_starts_on: date | None, reasons: str | None, today: date) -> None:
    """The decision's rules (E-7, E-8) and a start whose 5 years the calendar holds, all at once."""
    problems = start_problems("recognition_starts_on", recognition_starts_on)
    try:
        domain.decision_problems(outcome=outcome, decided_on=decided_on, recognition_starts_on=recognition_starts_on, reasons=reasons, today=today)
    except Invalid as error:
        problems = error.violations + problems
    raise_if_any(problems)


# A decision and a new decision after reconsideration are recorded alike: what differs is the
# state the application must be in, the rule, and the columns that keep it.
_DECISIONS = {
    False: (Status.ADVISED, "recording the minister's decision", "E-7", "outcome = $2, decided_on = $3, decision_reasons = $4"),
    True: (
        Status.RECONSIDERATION_ADVISED,
        "recording the minister's new decision",
        "E-10",
        "reconsidered_outcome = $2, reconsidered_on = $3, reconsidered_reasons = $4",
    ),
}


async def _record_decision(
    connection: asyncpg.Connection,
    *,
    reconsidered: bool,
    actor_id: UUID,
    application_id: UUID,
    outcome: str,
    decided_on: date,
    recognition_starts_on: date | None,
    reasons: str | None,
    now: datetime,
) -> dict[str, Any]:
    status, doing, rule, columns = _DECISIONS[reconsidered]
    row = await queries.application(connection, application_id, for_update=True)
    domain.ensure_status(row["status"], [status], doing, rule=rule)
    _decision_problems(outcome=outcome, decided_on=decided_on, recognition_starts_on=recognition_starts_on, reasons=reasons, today=brussels_date(now))
    row = await connection.fetchrow(
        f"""
        UPDATE applications SET status = $2, {columns}, recognition_starts_on = $5, version = version + 1, updated_at = $6
        WHERE application_id = $1 RETURNING *
        """,
        application_id,
        outcome,
        decided_on,
        reasons,
        recognition_starts_on,
        now,
    )
    return await _decided(
        connection,
        row,
        actor_id=actor_id,
        outcome=outcome,
        decided_on=decided_on,
        recognition_starts_on=recognition_starts_on,
        reasons=reasons,
        reconsidered=reconsidered,
        now=now,
    )


async def decide(
    connection: asyncpg.Connection,
    *,
    actor_id: UUID,
    application_id: UUID,
    outcome: str,
    decided_on: date,
    recognition_starts_on: date | None,
    reasons: str | None,
    now: datetime,
) -> dict[str, Any]:
    """E-7, E-8: the minister's decision as taken: its date, its outcome and, when granted, the date
    the recognition starts."""
    return await _record_decision(
        connection,
        reconsidered=False,
        actor_id=actor_id,
        application_id=application_id,
        outcome=outcome,
        decided_on=decided_on,
        recognition_starts_on=recognition_starts_on,
        reasons=reasons,
        now=now,
    )


async def record_hearing(connection: asyncpg.Connection, *, actor_id: UUID, application_id: UUID, heard_on: date, now: datetime) -> dict[str, Any]:
    """E-10: the commission heard the applicant; its advice is due 45 days later."""
    row = await queries.application(connection, application_id, for_update=True)
    domain.ensure_status(row["status"], [Status.RECONSIDERATION_REQUESTED], "recording the hearing", rule="E-10")
    today = brussels_date(now)
    if heard_on > today or heard_on < row["reconsideration_requested_on"]:
        raise Invalid(
            f"the hearing took place between the request ({row['reconsideration_requested_on'].isoformat()}) and today", field="heard_on", rule="E-10"
        )
    row = await connection.fetchrow(
        "UPDATE applications SET status = 'reconsideration_heard', heard_on = $2, version = version + 1, updated_at = $3 WHERE application_id = $1 RETURNING *",
        application_id,
        heard_on,
        now,
    )
    await queries.add_history(connection, application_id, at=now, actor_id=actor_id, action="reconsideration_heard", heard_on=heard_on.isoformat())
    await publish_event(
        connection,
        ReconsiderationHearingRecordedV1(
            application_id=application_id,
            organisation_id=row["organisation_id"],
            dossier_number=row["dossier_number"],
            heard_on=heard_on,
            advice_due_on=row["commission_advice_due_on"],
        ),
    )
    return await detail(connection, row, back_office=True)


async def record_commission_advice(
    connection: asyncpg.Connection, *, actor_id: UUID, application_id: UUID, advice: str, motivation: str, now: datetime
) -> dict[str, Any]:
    """E-10: the commission's advice to the minister."""
    row = await queries.application(connection, application_id, for_update=True)
    domain.ensure_status(row["status"], [Status.RECONSIDERATION_HEARD], "recording the commission's advice", rule="E-10")
    row = await connection.fetchrow(
        """
        UPDATE applications SET status = 'reconsideration_advised', commission_advice = $2, commission_motivation = $3, commission_advised_on = $4,
            version = version + 1, updated_at = $5
        WHERE application_id = $1 RETURNING *
        """,
        application_id,
        advice,
        motivation,
        brussels_date(now),
        now,
    )
    await queries.add_history(connection, application_id, at=now, actor_id=actor_id, action="reconsideration_advised", advice=advice)
    await publish_event(
        connection,
        ReconsiderationAdvisedV1(application_id=application_id, organisation_id=row["organisation_id"], dossier_number=row["dossier_number"], advice=advice),
    )
    return await detail(connection, row, back_office=True)


async def decide_reconsideration(
    connection: asyncpg.Connection,
    *,
    actor_id: UUID,
    application_id: UUID,
    outcome: str,
    decided_on: date,
    recognition_starts_on: date | None,
    reasons: str | None,
    now: datetime,
) -> dict[str, Any]:
    """E-10: the minister decides again; granted, the recognition starts on the new decision's date."""
    return await _record_decision(
        connection,
        reconsidered=True,
        actor_id=actor_id,
        application_id=application_id,
        outcome=outcome,
        decided_on=decided_on,
        recognition_starts_on=recognition_starts_on,
        reasons=reasons,
        now=now,
    )
