"""What the use cases of every area share: the jobs they arm, parsing a part, the application as
answered, and asking for an email."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import ValidationError

from recognition import domain
from recognition.parts import PART_MODELS
from service_runtime.calendar import start_of
from service_runtime.errors import Invalid, NotFound, Violation
from service_runtime.http import rule_of_field
from service_runtime.projections import organisation
from service_runtime.scheduler import cancel_job, schedule_job

SERVICE = "recognition"
EXAMINATION_REMINDER_JOB = "recognition.examination_reminder"
EXPIRY_JOB = "recognition.expiry"
EXPIRY_REMINDER_JOB = "recognition.expiry_reminder"
INACTIVITY_JOB = "recognition.inactivity"


def parse_part(name: str, body: Any) -> dict[str, Any]:
    """The part as JSON once its model accepted it, or Invalid naming every field and its rule."""
    model = PART_MODELS.get(name)
    if model is None:
        raise NotFound(f"no part {name!r}; the parts are {', '.join(domain.PARTS)}")
    try:
        part = model.model_validate(body)
    except ValidationError as error:
        raise Invalid.of(
            Violation(field, e["msg"], rule_of_field(model, field)) for e in error.errors() for field in [".".join(str(p) for p in e["loc"]) or "body"]
        ) from None
    return part.model_dump(mode="json")


def email_key(aggregate_id: UUID, kind: str) -> str:
    """The idempotency key of an email about an application or recognition: `deliveries` reads
    the kind back from the notification service's delivery fact (E-6, E-10)."""
    return f"{SERVICE}:{aggregate_id}:{kind}"


def contact_of(row: asyncpg.Record) -> dict[str, Any]:
    """The contact person of part 1 (N-3: confirmation, admissibility, questions, decisions)."""
    contact: dict[str, Any] = row["parts"]["project"]["contact"]
    return contact


def public(row: asyncpg.Record, *, organisation_name: str | None = None) -> dict[str, Any]:
    """The application as answered, with what is still missing and the derived dates."""
    application = dict(row)
    parts = row["parts"]
    application["organisation_name"] = organisation_name
    application["missing_parts"] = domain.missing_parts(parts) if row["status"] == domain.Status.DRAFT else []
    application["required_parts"] = list(domain.required_parts(parts))
    application["information_requests"] = []
    application["recognition"] = None
    return application


async def detail(connection: asyncpg.Connection, row: asyncpg.Record, *, back_office: bool) -> dict[str, Any]:
    """The application with its questions, its recognition and, for the back office, the WSE
    quality registration as a fact (E-2) and its history."""
    found = await organisation(connection, row["organisation_id"])
    result = public(row, organisation_name=found.name if found else None)
    requests = await connection.fetch(
        "SELECT request_id, question, asked_at, requested_on, answer, answered_at, received_on FROM information_requests WHERE application_id = $1 ORDER BY asked_at",
        row["application_id"],
    )
    documents = await connection.fetch(
        "SELECT d.request_id, d.document_id, d.filename, d.content_type, d.size_bytes FROM answer_documents d "
        "JOIN information_requests q USING (request_id) WHERE q.application_id = $1 ORDER BY d.filename",
        row["application_id"],
    )
    document_fields = ("document_id", "filename", "content_type", "size_bytes")
    result["information_requests"] = [
        {**dict(r), "documents": [{k: d[k] for k in document_fields} for d in documents if d["request_id"] == r["request_id"]]} for r in requests
    ]
    recognition = await connection.fetchrow(
        "SELECT recognition_id, recognition_number, valid_from, valid_until, ended_on, end_reason FROM recognitions WHERE application_id = $1",
        row["application_id"],
    )
    result["recognition"] = dict(recognition) if recognition else None
    if back_office:
        result["quality_registration"] = (
            {
                "status": found.quality_status,
                "valid_from": found.quality_valid_from,
                "valid_until": found.quality_valid_until,
                "registered_on_submission": found.quality_registered_on(row["submitted_on"]) if row["submitted_on"] else None,
            }
            if found
            else None
        )
        result["history"] = [
            dict(r)
            for r in await connection.fetch(
                "SELECT at, actor_id, action, details FROM application_history WHERE application_id = $1 ORDER BY id", row["application_id"]
            )
        ]
    return result


async def arm_examination_reminder(connection: asyncpg.Connection, row: asyncpg.Record) -> None:
    """E-6: the case handler's reminder, some days before the examination deadline; re-armed
    whenever the deadline moves (the term starts, is suspended, runs again), cancelled while it
    has no day (suspended) or the examination is over."""
    key = str(row["application_id"])
    due_on = row["examination_due_on"]
    if row["status"] != domain.Status.IN_EXAMINATION or due_on is None:
        await cancel_job(connection, job=EXAMINATION_REMINDER_JOB, dedup_key=key)
        return
    await schedule_job(
        connection,
        job=EXAMINATION_REMINDER_JOB,
        dedup_key=key,
        due_at=start_of(due_on - timedelta(days=domain.EXAMINATION_REMINDER_DAYS)),
        payload={"application_id": key, "examination_due_on": due_on.isoformat()},
    )
