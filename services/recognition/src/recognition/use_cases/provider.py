"""The provider's side (E-1: dwse_organisation_officer@platos, for its own organisation): a draft
started at any time (E-13), its five parts (E-3), submitting (E-4), answering a question (E-6)
and asking for reconsideration (E-10)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from recognition import domain, queries
from recognition.domain import Status
from recognition.use_cases.common import arm_examination_reminder, contact_of, detail, email_key, parse_part
from service_runtime import paging
from service_runtime.calendar import brussels_date
from service_runtime.errors import Conflict, Invalid, NotFound, Violation, raise_if_any
from service_runtime.outbox import publish_event, send_email
from wse_contracts.emails import RecognitionApplicationConfirmed
from wse_contracts.recognition import RecognitionApplicationSubmittedV1, RecognitionInformationReceivedV1, ReconsiderationRequestedV1

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
DOCUMENT_TYPES = ("application/pdf", "image/png", "image/jpeg", "text/plain")


async def start_application(
    connection: asyncpg.Connection, *, actor_id: UUID, organisation_id: UUID, idempotency_key: str | None, now: datetime
) -> dict[str, Any]:
    """E-13: at any time; one open application per organisation (E-5). The same idempotency key
    again answers the application it created."""
    if idempotency_key is not None:
        existing = await connection.fetchrow("SELECT * FROM applications WHERE organisation_id = $1 AND idempotency_key = $2", organisation_id, idempotency_key)
        if existing is not None:
            return await detail(connection, existing, back_office=False)
    await queries.known_organisation(connection, organisation_id)
    open_one = await connection.fetchrow(
        f"SELECT dossier_number, status FROM applications WHERE organisation_id = $1 AND status IN ({queries.sql_list(domain.OPEN_STATUSES)})",
        organisation_id,
    )
    if open_one is not None:
        raise Conflict(f"the organisation already has an open application ({open_one['dossier_number']}, {open_one['status']}); one at a time", rule="E-5")
    try:
        row = await connection.fetchrow(
            """
            INSERT INTO applications (application_id, organisation_id, created_by, idempotency_key, status, created_at, updated_at)
            VALUES ($1, $2, $3, $4, 'draft', $5, $5) RETURNING *
            """,
            uuid.uuid4(),
            organisation_id,
            actor_id,
            idempotency_key,
            now,
        )
    except asyncpg.UniqueViolationError:
        # A concurrent request with the same key or a second draft at the same moment.
        raise Conflict("the organisation already has an open application; one at a time", rule="E-5") from None
    await queries.add_history(connection, row["application_id"], at=now, actor_id=actor_id, action="started")
    return await detail(connection, row, back_office=False)


async def save_part(connection: asyncpg.Connection, *, organisation_id: UUID, application_id: UUID, name: str, body: Any, now: datetime) -> dict[str, Any]:
    """E-3: one part, validated per field; a part with problems is not saved, saved ones stay."""
    part = parse_part(name, body)
    row = await queries.own_application(connection, organisation_id=organisation_id, application_id=application_id, for_update=True)
    domain.ensure_draft(row["status"])
    parts = {**row["parts"], name: part}
    if not domain.asked(name, parts):
        raise Invalid("an organisation of the simplified-registration group is not asked part 3", field="simplified", rule="E-3")
    problems = domain.part_problems(name, part)
    if name == "territory":
        numbers = [s["enterprise_number"] for s in part["subcontractors"]]
        problems += domain.subcontractor_problems(part["subcontractors"], await queries.recognised_enterprises(connection, numbers, brussels_date(now)))
    raise_if_any(problems)
    if name == "simplified" and part["simplified"]:
        parts.pop("experience", None)  # E-3: not asked, so not kept
    row = await connection.fetchrow(
        "UPDATE applications SET parts = $2, version = version + 1, updated_at = $3 WHERE application_id = $1 RETURNING *", application_id, parts, now
    )
    return await detail(connection, row, back_office=False)


async def submit_application(connection: asyncpg.Connection, *, actor_id: UUID, organisation_id: UUID, application_id: UUID, now: datetime) -> dict[str, Any]:
    """E-4: every missing part named at once (E-3), subcontractors recognised today (E-11); then
    submitted, confirmed in the answer and by email (N-3); admissibility is due in 7 days (E-5)."""
    row = await queries.own_application(connection, organisation_id=organisation_id, application_id=application_id, for_update=True)
    if row["status"] == Status.SUBMITTED and row["submitted_by"] == actor_id:
        return await detail(connection, row, back_office=False)  # submitted again (a retry): the same confirmation
    domain.ensure_draft(row["status"])
    parts = row["parts"]
    today = brussels_date(now)
    problems = domain.submission_problems(parts)
    for name in domain.required_parts(parts):
        if name in parts:
            problems += [Violation(f"parts.{name}.{v.field}", v.reason, v.rule) for v in domain.part_problems(name, parts[name])]
    subcontractors = (parts.get("territory") or {}).get("subcontractors", [])
    if subcontractors:
        recognised = await queries.recognised_enterprises(connection, [s["enterprise_number"] for s in subcontractors], today)
        problems += domain.subcontractor_problems(subcontractors, recognised, field_prefix="parts.territory.")
    raise_if_any(problems)
    organisation = await queries.known_organisation(connection, organisation_id)
    row = await connection.fetchrow(
        """
        UPDATE applications SET status = 'submitted', submitted_at = $2, submitted_on = $3, submitted_by = $4, version = version + 1, updated_at = $2
        WHERE application_id = $1 RETURNING *
        """,
        application_id,
        now,
        today,
        actor_id,
    )
    await queries.add_history(
        connection, application_id, at=now, actor_id=actor_id, action="submitted", admissibility_due_on=row["admissibility_due_on"].isoformat()
    )
    await publish_event(
        connection,
        RecognitionApplicationSubmittedV1(
            application_id=application_id,
            organisation_id=organisation_id,
            dossier_number=row["dossier_number"],
            submitted_on=today,
            admissibility_due_on=row["admissibility_due_on"],
            simplified_group=(parts.get("simplified") or {}).get("group"),
        ),
    )
    await send_email(
        connection,
        RecognitionApplicationConfirmed(dossier_number=row["dossier_number"], organisation_name=organisation.name, submitted_on=today),
        to=contact_of(row),
        reference=row["dossier_number"],
        key=email_key(application_id, "confirmation"),
    )
    return await detail(connection, row, back_office=False)


async def open_and_past(connection: asyncpg.Connection, *, organisation_id: UUID, limit: int, cursor: str | None) -> dict[str, Any]:
    """The organisation's applications, the last changed first."""
    after = paging.decode_cursor(cursor, [paging.MOMENT, paging.UUID_])
    rows = await connection.fetch(
        """
        SELECT application_id, dossier_number, status, parts->'project'->>'project_title' AS project_title, submitted_on, admissibility_due_on,
               examination_due_on, suspended_since, decided_on, outcome, reconsideration_last_day, updated_at
        FROM applications WHERE organisation_id = $1 AND ($3::timestamptz IS NULL OR (updated_at, application_id) < ($3, $4))
        ORDER BY updated_at DESC, application_id DESC LIMIT $2
        """,
        organisation_id,
        limit + 1,
        *(after or (None, None)),
    )
    items, next_cursor = paging.page([dict(r) for r in rows], limit, key=lambda r: (r["updated_at"], r["application_id"]))
    return {"items": items, "next_cursor": next_cursor}


async def application(connection: asyncpg.Connection, *, organisation_id: UUID, application_id: UUID) -> dict[str, Any]:
    return await detail(
        connection, await queries.own_application(connection, organisation_id=organisation_id, application_id=application_id), back_office=False
    )


def _documents(documents: list[dict[str, Any]]) -> list[tuple[str, str, bytes]]:
    """The attached documents, decoded and checked: every problem named."""
    problems, decoded = [], []
    for i, document in enumerate(documents):
        try:
            content = base64.b64decode(document["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            problems.append(Violation(f"documents[{i}].content_base64", "not valid base64", "E-6"))
            continue
        if not content:
            problems.append(Violation(f"documents[{i}].content_base64", "the document is empty", "E-6"))
        elif len(content) > MAX_DOCUMENT_BYTES:
            problems.append(Violation(f"documents[{i}].content_base64", f"at most {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB per document", "E-6"))
        if document["content_type"] not in DOCUMENT_TYPES:
            problems.append(Violation(f"documents[{i}].content_type", f"one of {', '.join(DOCUMENT_TYPES)}", "E-6"))
        decoded.append((document["filename"], document["content_type"], content))
    raise_if_any(problems)
    return decoded


async def answer_information_request(
    connection: asyncpg.Connection,
    *,
    actor_id: UUID,
    organisation_id: UUID,
    application_id: UUID,
    request_id: UUID,
    answer: str,
    documents: list[dict[str, Any]],
    now: datetime,
) -> dict[str, Any]:
    """E-6: the information is received today; the suspended days are added to the term and the
    case handler's reminder moves with the new deadline."""
    decoded = _documents(documents)
    row = await queries.own_application(connection, organisation_id=organisation_id, application_id=application_id, for_update=True)
    request = await connection.fetchrow("SELECT * FROM information_requests WHERE request_id = $1 AND application_id = $2", request_id, application_id)
    if request is None:
        raise NotFound("no such question on this application")
    if request["received_on"] is not None:
        raise Conflict("this question was answered already", rule="E-6")
    today = brussels_date(now)
    await connection.execute(
        "UPDATE information_requests SET answer = $2, answered_by = $3, answered_at = $4, received_on = $5 WHERE request_id = $1",
        request_id,
        answer,
        actor_id,
        now,
        today,
    )
    for filename, content_type, content in decoded:
        await connection.execute(
            "INSERT INTO answer_documents (document_id, request_id, filename, content_type, size_bytes, sha256, content) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            uuid.uuid4(),
            request_id,
            filename,
            content_type,
            len(content),
            hashlib.sha256(content).hexdigest(),
            content,
        )
    still_open = await connection.fetchval("SELECT count(*) FROM information_requests WHERE application_id = $1 AND received_on IS NULL", application_id)
    # The term runs again only when no question is open any more; then the whole span it stood
    # still (from the first open question) is added, once.
    added = 0 if still_open else domain.suspended_days(row["suspended_since"] or today, today, term_started_on=row["examination_starts_on"])
    row = await connection.fetchrow(
        """
        UPDATE applications SET suspended_days = suspended_days + $2,
            suspended_since = CASE WHEN $3 THEN suspended_since END,
            status = CASE WHEN $3 THEN status ELSE 'in_examination' END, version = version + 1, updated_at = $4
        WHERE application_id = $1 RETURNING *
        """,
        application_id,
        added,
        bool(still_open),
        now,
    )
    await queries.add_history(
        connection, application_id, at=now, actor_id=actor_id, action="information_received", request_id=str(request_id), suspended_days=added
    )
    await publish_event(
        connection,
        RecognitionInformationReceivedV1(
            application_id=application_id,
            organisation_id=organisation_id,
            dossier_number=row["dossier_number"],
            request_id=request_id,
            received_on=today,
            suspended_days=row["suspended_days"],
            examination_due_on=row["examination_due_on"],
        ),
    )
    await arm_examination_reminder(connection, row)
    return await detail(connection, row, back_office=False)


async def request_reconsideration(
    connection: asyncpg.Connection, *, actor_id: UUID, organisation_id: UUID, application_id: UUID, motivation: str, now: datetime
) -> dict[str, Any]:
    """E-10: a motivated request against a refusal, within 30 days of being informed of it."""
    row = await queries.own_application(connection, organisation_id=organisation_id, application_id=application_id, for_update=True)
    if row["status"] != Status.REFUSED or row["reconsidered_on"] is not None or row["reconsideration_requested_on"] is not None:
        raise Conflict("reconsideration can be asked once, of a refusal by the minister", rule="E-10")
    today = brussels_date(now)
    domain.ensure_reconsideration_in_time(informed_on=row["decision_informed_on"], today=today)
    row = await connection.fetchrow(
        """
        UPDATE applications SET status = 'reconsideration_requested', reconsideration_requested_on = $2, reconsideration_motivation = $3,
            version = version + 1, updated_at = $4
        WHERE application_id = $1 RETURNING *
        """,
        application_id,
        today,
        motivation,
        now,
    )
    await queries.add_history(connection, application_id, at=now, actor_id=actor_id, action="reconsideration_requested")
    await publish_event(
        connection,
        ReconsiderationRequestedV1(application_id=application_id, organisation_id=organisation_id, dossier_number=row["dossier_number"], requested_on=today),
    )
    return await detail(connection, row, back_office=False)
