"""The registration service's use cases. Each takes a connection inside the caller's transaction,
the acting person and plain values; it asks `domain`, writes the dossier, its history, the events
and the emails (through the outbox) together, so either all of it happens or none.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import ValidationError

from registration import domain
from registration.domain import Conflict, Forbidden, Invalid, NotFound, OrganisationFacts, Violation
from registration.sections import SECTION_MODELS_BY_NAME, DecidingBodySection, OrganisationData, SelfAnalysisSection, TrainingSection
from service_runtime.clock import BRUSSELS
from service_runtime.outbox import publish_event
from service_runtime.scheduler import Job, cancel_job, schedule_job
from wse_contracts.identity import OrganisationChangedV1
from wse_contracts.notification import NotificationRequestedV1, Recipient
from wse_contracts.registration import (
    ApplicationDecidedV1,
    ApplicationForwardedV1,
    ApplicationHeldV1,
    ApplicationInadmissibleV1,
    ApplicationReleasedV1,
    ApplicationSubmittedV1,
    InformationReceivedV1,
    InformationRequestedV1,
    RegisteredModule,
    TrainingRegisteredV1,
    TrainingReplacedV1,
    TrainingStoppedV1,
)

SOURCE = "/wse/registration"
INFORMATION_TERM_JOB = "registration.information_term"
DECISION_TERM_JOB = "registration.decision_term"
CONTACT_VERIFICATION_JOB = "registration.contact_verification"


def start_of(day: date) -> datetime:
    """Midnight in Brussels at the start of `day`: terms end on dates in Flanders."""
    return datetime.combine(day, time(0), tzinfo=BRUSSELS)


def brussels_date(moment: datetime) -> date:
    return moment.astimezone(BRUSSELS).date()


# ------------------------------------------------------------------------------- loading


async def _application(connection: asyncpg.Connection, application_id: UUID, *, for_update: bool = False) -> asyncpg.Record:
    row = await connection.fetchrow("SELECT * FROM applications WHERE application_id = $1" + (" FOR UPDATE" if for_update else ""), application_id)
    if row is None:
        raise NotFound("no such application")
    return row


async def _own_application(connection: asyncpg.Connection, *, organisation_id: UUID, application_id: UUID, for_update: bool = False) -> asyncpg.Record:
    """R-1: a provider only ever sees its own organisation's dossiers."""
    row = await _application(connection, application_id, for_update=for_update)
    if row["organisation_id"] != organisation_id:
        raise Forbidden("this dossier belongs to another organisation")
    return row


async def _history(connection: asyncpg.Connection, application_id: UUID, *, at: datetime, actor_id: UUID | None, action: str, **details: Any) -> None:
    await connection.execute(
        "INSERT INTO application_history (application_id, at, actor_id, action, details) VALUES ($1, $2, $3, $4, $5)",
        application_id,
        at,
        actor_id,
        action,
        details,
    )


async def _organisation(connection: asyncpg.Connection, organisation_id: UUID) -> asyncpg.Record:
    row = await connection.fetchrow("SELECT * FROM organisations WHERE organisation_id = $1", organisation_id)
    if row is None:
        # Identity's event has not arrived (or the organisation does not exist): nothing to act for.
        raise NotFound("this organisation is not known to the training database yet")
    return row


def _is_quality_registered(organisation: asyncpg.Record, on: date) -> bool:
    return domain.quality_registered(organisation["quality_status"], organisation["quality_valid_from"], organisation["quality_valid_until"], on)


async def _committees(connection: asyncpg.Connection) -> set[str]:
    return {row["number"] for row in await connection.fetch("SELECT number FROM joint_committees")}


def _public(row: asyncpg.Record, *, back_office: bool) -> dict[str, Any]:
    application = dict(row)
    if not back_office:
        application.pop("advice", None)
    application["training_name"] = (row["sections"].get("training") or {}).get("name")
    return application


def _training_of(row: asyncpg.Record) -> TrainingSection:
    return TrainingSection.model_validate(row["sections"]["training"])


async def _notify(connection: asyncpg.Connection, *, template_id: str, to: dict[str, Any], reference: str, key: str, **personalisation: Any) -> None:
    await publish_event(
        connection,
        NotificationRequestedV1(
            template_id=template_id,
            recipients=[Recipient(email=to["email"], name=to.get("name"))],
            personalisation=personalisation,
            reference=reference,
            idempotency_key=key,
            requested_by="registration",
        ),
        source=SOURCE,
    )


def _reference(row: asyncpg.Record) -> str:
    return f"ODB-dossier-{row['dossier_number']}"


# ------------------------------------------------------------------------------- organisation data


async def organisation_data(connection: asyncpg.Connection, *, organisation_id: UUID) -> dict[str, Any]:
    row = await connection.fetchrow("SELECT * FROM organisation_data WHERE organisation_id = $1", organisation_id)
    organisation = await connection.fetchrow("SELECT name, kind, quality_status FROM organisations WHERE organisation_id = $1", organisation_id)
    data = dict(row) if row else {"organisation_id": organisation_id}
    data["organisation"] = dict(organisation) if organisation else None
    return data


async def update_organisation_data(connection: asyncpg.Connection, *, actor_id: UUID, organisation_id: UUID, data: OrganisationData) -> dict[str, Any]:
    problems = domain.validate_lms(lms=data.lms, lms_other=data.lms_other)
    if data.follow_up_document_id and not await _owned_documents(connection, organisation_id, [data.follow_up_document_id]):
        problems.append(Violation("follow_up_document_id", "no such document of this organisation"))
    if problems:
        raise Invalid(problems)
    await _organisation(connection, organisation_id)
    dumped = data.model_dump(mode="json")
    await connection.execute(
        """
        INSERT INTO organisation_data (organisation_id, contact, general_contact, voucher_contact, lms, lms_other, follow_up_document_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (organisation_id) DO UPDATE SET contact = EXCLUDED.contact, general_contact = EXCLUDED.general_contact,
            voucher_contact = EXCLUDED.voucher_contact, lms = EXCLUDED.lms, lms_other = EXCLUDED.lms_other,
            follow_up_document_id = EXCLUDED.follow_up_document_id, updated_at = now()
        """,
        organisation_id,
        dumped["contact"],
        dumped["general_contact"],
        dumped["voucher_contact"],
        data.lms,
        data.lms_other,
        data.follow_up_document_id,
    )
    return await organisation_data(connection, organisation_id=organisation_id)


async def confirm_contacts(connection: asyncpg.Connection, *, organisation_id: UUID, today: date) -> dict[str, Any]:
    """R-25: the yearly answer 'our contacts still work here'."""
    updated = await connection.execute(
        "UPDATE organisation_data SET contacts_confirmed_on = $2, updated_at = now() WHERE organisation_id = $1 AND general_contact IS NOT NULL",
        organisation_id,
        today,
    )
    if updated.endswith(" 0"):
        raise Invalid([Violation("general_contact", "give a general contact person first", "R-25")])
    return await organisation_data(connection, organisation_id=organisation_id)


async def _owned_documents(connection: asyncpg.Connection, organisation_id: UUID, document_ids: list[UUID]) -> set[UUID]:
    """Which of these documents belong to the organisation (one query, however many are named)."""
    if not document_ids:
        return set()
    rows = await connection.fetch(
        "SELECT document_id FROM documents WHERE organisation_id = $1 AND document_id = ANY($2::uuid[])", organisation_id, document_ids
    )
    return {r["document_id"] for r in rows}


# ------------------------------------------------------------------------------- drafts


async def create_draft(
    connection: asyncpg.Connection, *, actor_id: UUID, organisation_id: UUID, now: datetime, replaces_odb_number: str | None = None
) -> dict[str, Any]:
    await _organisation(connection, organisation_id)
    sections: dict[str, Any] = {}
    if replaces_odb_number is not None:
        training = await connection.fetchrow("SELECT * FROM trainings WHERE upper(odb_number) = upper($1)", replaces_odb_number)
        if training is None or training["organisation_id"] != organisation_id:
            raise Invalid([Violation("replaces_odb_number", "not a registered training of this organisation", "R-24")])
        if training["replaced_by"] is not None:
            raise Conflict(f"{training['odb_number']} is already replaced by {training['replaced_by']}")
        if training["stop_on"] is not None and training["stop_on"] <= brussels_date(now):
            raise Conflict(f"{training['odb_number']} stopped on {training['stop_on']}")
        replaces_odb_number = training["odb_number"]
        # Start from what is registered: the provider changes what changed.
        original = await connection.fetchval("SELECT sections FROM applications WHERE application_id = $1", training["application_id"])
        sections = {name: original[name] for name in ("training", "self_analysis", "deciding_body") if name in original}
    contact = await connection.fetchval("SELECT contact FROM organisation_data WHERE organisation_id = $1", organisation_id)
    if contact:
        sections["contact"] = contact  # entered once, proposed for every application
    application_id = uuid.uuid4()
    row = await connection.fetchrow(
        "INSERT INTO applications (application_id, organisation_id, created_by, status, sections, replaces_odb_number) "
        "VALUES ($1, $2, $3, 'draft', $4, $5) RETURNING *",
        application_id,
        organisation_id,
        actor_id,
        sections,
        replaces_odb_number,
    )
    await _history(connection, application_id, at=now, actor_id=actor_id, action="draft_created", replaces=replaces_odb_number)
    return _public(row, back_office=False)


def parse_section(name: str, body: Any):
    """The section's model, or Invalid naming every field that is wrong."""
    model = SECTION_MODELS_BY_NAME.get(name)
    if model is None:
        raise NotFound(f"no section {name!r}; the sections are {', '.join(domain.SECTIONS)}")
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise Invalid([Violation(".".join(str(p) for p in e["loc"]) or "body", e["msg"]) for e in error.errors()]) from None


async def _check_sections(connection: asyncpg.Connection, *, sections: dict[str, Any], organisation_id: UUID) -> asyncpg.Record:
    """Every problem of these sections at once (the rules between fields, and that documents are
    the organisation's own). Reads what the rules need once; returns the organisation."""
    organisation = await _organisation(connection, organisation_id)
    committees = await _committees(connection)
    named = [d for name, section in sections.items() for d in _documents_named(name, section)]
    owned = await _owned_documents(connection, organisation_id, named)
    problems = []
    for name, section in sections.items():
        problems += domain.validate_section(name, section, organisation_kind=organisation["kind"], known_committees=committees)
        if name == "documents":
            problems += [
                Violation(f"document_ids[{i}]", "no such document of this organisation", "R-16") for i, d in enumerate(section.document_ids) if d not in owned
            ]
        if name == "training" and section.follow_up_document_id and section.follow_up_document_id not in owned:
            problems.append(Violation("follow_up_document_id", "no such document of this organisation", "R-7"))
    if problems:
        raise Invalid(problems)
    return organisation


def _documents_named(name: str, section: Any) -> list[UUID]:
    if name == "documents":
        return list(section.document_ids)
    if name == "training" and section.follow_up_document_id:
        return [section.follow_up_document_id]
    return []


async def save_section(
    connection: asyncpg.Connection, *, actor_id: UUID, organisation_id: UUID, application_id: UUID, name: str, body: Any, now: datetime
) -> dict[str, Any]:
    """Validates the section and keeps it (R-18: going back keeps what was entered). A section
    with problems is not saved; every problem is listed per field."""
    section = parse_section(name, body)
    row = await _own_application(connection, organisation_id=organisation_id, application_id=application_id, for_update=True)
    if row["status"] != "draft":
        raise Conflict("a submitted application can no longer be edited; ask the back office to amend it (R-17)")
    await _check_sections(connection, sections={name: section}, organisation_id=organisation_id)
    row = await connection.fetchrow(
        "UPDATE applications SET sections = sections || jsonb_build_object($2::text, $3::jsonb), version = version + 1, updated_at = $4 "
        "WHERE application_id = $1 RETURNING *",
        application_id,
        name,
        section.model_dump(mode="json"),
        now,
    )
    return _public(row, back_office=False)


async def cancel_draft(connection: asyncpg.Connection, *, organisation_id: UUID, application_id: UUID) -> None:
    """R-18: cancelling discards the whole draft."""
    row = await _own_application(connection, organisation_id=organisation_id, application_id=application_id, for_update=True)
    if row["status"] != "draft":
        raise Conflict("only a draft can be cancelled; a submitted application can be stopped once registered")
    await connection.execute("DELETE FROM application_history WHERE application_id = $1", application_id)
    await connection.execute("DELETE FROM applications WHERE application_id = $1", application_id)


async def application(connection: asyncpg.Connection, *, application_id: UUID, organisation_id: UUID | None) -> dict[str, Any]:
    """One dossier: for the provider (organisation_id given) or the back office (None)."""
    if organisation_id is None:
        row = await _application(connection, application_id)
    else:
        row = await _own_application(connection, organisation_id=organisation_id, application_id=application_id)
    result = _public(row, back_office=organisation_id is None)
    result["information_requests"] = [
        dict(r)
        for r in await connection.fetch(
            "SELECT request_id, question, asked_at, due_on, answered_at, answer, answer_documents, lapsed_at "
            "FROM information_requests WHERE application_id = $1 ORDER BY asked_at",
            application_id,
        )
    ]
    if organisation_id is None:
        result["history"] = [
            dict(r)
            for r in await connection.fetch(
                "SELECT at, actor_id, action, details FROM application_history WHERE application_id = $1 ORDER BY id", application_id
            )
        ]
    result["missing_sections"] = domain.missing_sections(row["sections"]) if row["status"] == "draft" else []
    return result


# ------------------------------------------------------------------------------- submitting (R-2, R-17, admissibility)


async def submit_application(
    connection: asyncpg.Connection,
    *,
    actor_id: UUID,
    organisation_id: UUID,
    application_id: UUID,
    idempotency_key: str,
    now: datetime,
    decision_warning_days: int = 14,
) -> dict[str, Any]:
    row = await _own_application(connection, organisation_id=organisation_id, application_id=application_id, for_update=True)
    if row["status"] != "draft":
        if row["idempotency_key"] == idempotency_key:
            return _public(row, back_office=False)  # the same submission again: the same answer
        raise Conflict("this application has already been submitted")
    reused = await connection.fetchval(
        "SELECT application_id FROM applications WHERE organisation_id = $1 AND idempotency_key = $2", organisation_id, idempotency_key
    )
    if reused is not None:
        raise Conflict("this idempotency key was used for another application")
    missing = domain.missing_sections(row["sections"])
    if missing:
        raise Invalid([Violation(f"sections.{name}", "this section is still to be filled in", "R-17") for name in missing])
    sections = row["sections"]
    # Sections were valid when saved; the organisation data they depend on may have changed since.
    parsed = {name: parse_section(name, sections[name]) for name in domain.SECTIONS if name in sections}
    organisation = await _check_sections(connection, sections=parsed, organisation_id=organisation_id)
    training = parsed["training"]
    await _ensure_unique_reference(
        connection, organisation_id=organisation_id, application_id=application_id, training=training, replaces=row["replaces_odb_number"]
    )
    data = await connection.fetchrow("SELECT lms, follow_up_document_id FROM organisation_data WHERE organisation_id = $1", organisation_id)
    today = brussels_date(now)
    facts = OrganisationFacts(
        kind=organisation["kind"],
        has_lms=bool(data and data["lms"]),
        has_follow_up_document=bool(data and data["follow_up_document_id"]),
        quality_registered=_is_quality_registered(organisation, today),
    )
    verdict = domain.judge_admissibility(
        training=training,
        self_analysis=SelfAnalysisSection.model_validate(sections["self_analysis"]),
        organisation=facts,
        submitted_on=today,
        replaces=row["replaces_odb_number"],
    )
    due_on = domain.decision_due_on(today)
    status = domain.status_after_admission(quality_registered=facts.quality_registered) if verdict.admissible else "inadmissible"
    row = await connection.fetchrow(
        """
        UPDATE applications SET status = $2, submitted_at = $3, submitted_by = $4, idempotency_key = $5, decision_due_on = $6,
            inadmissible_rule = $7, inadmissible_reason = $8, flags = $9, version = version + 1, updated_at = $3
        WHERE application_id = $1 RETURNING *
        """,
        application_id,
        status,
        now,
        actor_id,
        idempotency_key,
        due_on if verdict.admissible else None,
        verdict.rule,
        verdict.reason,
        verdict.flags,
    )
    await _history(connection, application_id, at=now, actor_id=actor_id, action="submitted", status=status, rule=verdict.rule)
    await publish_event(
        connection,
        ApplicationSubmittedV1(
            application_id=application_id,
            organisation_id=organisation_id,
            dossier_number=row["dossier_number"],
            training_name=training.name,
            replaces_odb_number=row["replaces_odb_number"],
            decision_due_on=due_on,
        ),
        source=SOURCE,
    )
    contact = sections["contact"]
    if not verdict.admissible:
        await publish_event(
            connection,
            ApplicationInadmissibleV1(application_id=application_id, organisation_id=organisation_id, rule=verdict.rule, reason=verdict.reason),
            source=SOURCE,
        )
        await _notify(
            connection,
            template_id="registration.application_inadmissible",
            to=contact,
            reference=_reference(row),
            key=f"{application_id}:inadmissible",
            dossier_number=row["dossier_number"],
            training_name=training.name,
            organisation_name=organisation["name"],
            rule=verdict.rule,
            reason=verdict.reason,
        )
        return _public(row, back_office=False)
    if status == "held":
        await publish_event(connection, ApplicationHeldV1(application_id=application_id, organisation_id=organisation_id), source=SOURCE)
    # R-17, N-1: the contact person's confirmation.
    await _notify(
        connection,
        template_id="registration.application_submitted",
        to=contact,
        reference=_reference(row),
        key=f"{application_id}:submitted",
        dossier_number=row["dossier_number"],
        training_name=training.name,
        organisation_name=organisation["name"],
        decision_due_on=due_on.isoformat(),
        held_for_quality_registration=status == "held",
    )
    await _arm_decision_term(connection, row, warning_days=decision_warning_days)
    return _public(row, back_office=False)


async def _ensure_unique_reference(
    connection: asyncpg.Connection, *, organisation_id: UUID, application_id: UUID, training: TrainingSection, replaces: str | None
) -> None:
    """R-5: the provider's own reference is unique per provider (a replacement may keep the old one's)."""
    clash = await connection.fetchval(
        """
        SELECT coalesce(
            (SELECT odb_number FROM trainings WHERE organisation_id = $1 AND own_reference = $2 AND odb_number IS DISTINCT FROM $4
               AND replaced_by IS NULL LIMIT 1),
            (SELECT 'dossier ' || dossier_number FROM applications WHERE organisation_id = $1 AND application_id <> $3
               AND status IN ('held', 'in_review', 'awaiting_information', 'forwarded') AND sections->'training'->>'own_reference' = $2 LIMIT 1))
        """,
        organisation_id,
        training.own_reference,
        application_id,
        replaces,
    )
    if clash:
        raise Invalid([Violation("sections.training.own_reference", f"already used by {clash}; the own reference is unique per provider", "R-5")])


async def _arm_decision_term(connection: asyncpg.Connection, row: asyncpg.Record, *, warning_days: int) -> None:
    """R-19: act when the decision term comes near (`warning_days` before it ends)."""
    await schedule_job(
        connection,
        job=DECISION_TERM_JOB,
        dedup_key=str(row["application_id"]),
        due_at=start_of(domain.decision_warning_on(row["decision_due_on"], days_before=warning_days)),
        payload={"application_id": str(row["application_id"])},
    )


# ------------------------------------------------------------------------------- held until the quality registration exists


async def apply_organisation(connection: asyncpg.Connection, *, event: OrganisationChangedV1, now: datetime) -> int:
    """Keeps identity's organisation; once it is quality-registered, releases its held applications."""
    today = now.astimezone(BRUSSELS).date()
    quality = event.quality_registration
    await connection.execute(
        """
        INSERT INTO organisations (organisation_id, name, kind, quality_status, quality_valid_from, quality_valid_until)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (organisation_id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, quality_status = EXCLUDED.quality_status,
            quality_valid_from = EXCLUDED.quality_valid_from, quality_valid_until = EXCLUDED.quality_valid_until, updated_at = now()
        """,
        event.organisation_id,
        event.name,
        event.kind,
        quality.status,
        quality.valid_from,
        quality.valid_until,
    )
    if not domain.quality_registered(quality.status, quality.valid_from, quality.valid_until, today):
        return 0
    released = await connection.fetch(
        "UPDATE applications SET status = 'in_review', version = version + 1, updated_at = now() "
        "WHERE organisation_id = $1 AND status = 'held' RETURNING application_id",
        event.organisation_id,
    )
    for r in released:
        await _history(connection, r["application_id"], at=now, actor_id=None, action="released", reason="WSE quality registration")
        await publish_event(connection, ApplicationReleasedV1(application_id=r["application_id"], organisation_id=event.organisation_id), source=SOURCE)
    return len(released)


# ------------------------------------------------------------------------------- the provider's lists


async def open_dossiers(connection: asyncpg.Connection, *, organisation_id: UUID) -> list[dict[str, Any]]:
    rows = await connection.fetch(
        "SELECT application_id, dossier_number, status, sections->'training'->>'name' AS training_name, submitted_at, decision_due_on, "
        "replaces_odb_number, updated_at FROM applications WHERE organisation_id = $1 AND status IN ('draft', 'held', 'in_review', "
        "'awaiting_information', 'forwarded') ORDER BY updated_at DESC",
        organisation_id,
    )
    return [dict(r) for r in rows]


async def registered_trainings(connection: asyncpg.Connection, *, organisation_id: UUID) -> list[dict[str, Any]]:
    rows = await connection.fetch(
        "SELECT odb_number, name, own_reference, holds_from, stop_on, stop_reason, replaces, replaced_by, registered_at "
        "FROM trainings WHERE organisation_id = $1 ORDER BY registered_at DESC",
        organisation_id,
    )
    return [dict(r) for r in rows]


# ------------------------------------------------------------------------------- information requests


async def request_information(connection: asyncpg.Connection, *, actor_id: UUID, application_id: UUID, question: str, now: datetime) -> dict[str, Any]:
    row = await _application(connection, application_id, for_update=True)
    previous_status = row["status"]
    if previous_status not in ("in_review", "held"):
        raise Conflict(f"information can be asked while the dossier is under review, not when it is {previous_status}")
    asked_on = brussels_date(now)
    due_on = domain.information_due_on(asked_on)
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
        "UPDATE applications SET status = 'awaiting_information', version = version + 1, updated_at = $2 WHERE application_id = $1 RETURNING *",
        application_id,
        now,
    )
    await _history(
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
        connection,
        InformationRequestedV1(application_id=application_id, organisation_id=row["organisation_id"], request_id=request_id, due_on=due_on),
        source=SOURCE,
    )
    await _notify(
        connection,
        template_id="registration.information_requested",
        to=row["sections"]["contact"],
        reference=_reference(row),
        key=f"{request_id}:requested",
        dossier_number=row["dossier_number"],
        training_name=row["sections"]["training"]["name"],
        question=question,
        due_on=due_on.isoformat(),
    )
    return await application(connection, application_id=application_id, organisation_id=None)


async def answer_information_request(
    connection: asyncpg.Connection, *, actor_id: UUID, organisation_id: UUID, application_id: UUID, answer: str, document_ids: list[UUID], now: datetime
) -> dict[str, Any]:
    row = await _own_application(connection, organisation_id=organisation_id, application_id=application_id, for_update=True)
    request = await connection.fetchrow(
        "SELECT * FROM information_requests WHERE application_id = $1 AND answered_at IS NULL AND lapsed_at IS NULL", application_id
    )
    if request is None or row["status"] != "awaiting_information":
        raise Conflict("there is no open question on this dossier")
    owned = await _owned_documents(connection, organisation_id, document_ids)
    problems = [Violation(f"document_ids[{i}]", "no such document of this organisation") for i, d in enumerate(document_ids) if d not in owned]
    if problems:
        raise Invalid(problems)
    await connection.execute(
        "UPDATE information_requests SET answered_at = $2, answer = $3, answer_documents = $4 WHERE request_id = $1",
        request["request_id"],
        now,
        answer,
        document_ids,
    )
    await connection.execute(
        "UPDATE applications SET status = 'in_review', version = version + 1, updated_at = $2 WHERE application_id = $1", application_id, now
    )
    await cancel_job(connection, job=INFORMATION_TERM_JOB, dedup_key=str(request["request_id"]))
    await _history(connection, application_id, at=now, actor_id=actor_id, action="information_received", request_id=str(request["request_id"]))
    await publish_event(
        connection, InformationReceivedV1(application_id=application_id, organisation_id=organisation_id, request_id=request["request_id"]), source=SOURCE
    )
    return await application(connection, application_id=application_id, organisation_id=organisation_id)


async def information_term_lapsed(connection: asyncpg.Connection, job: Job) -> None:
    """R-19: a month without an answer: the dossier is judged on what is there."""
    request = await connection.fetchrow(
        "SELECT * FROM information_requests WHERE request_id = $1 AND answered_at IS NULL AND lapsed_at IS NULL FOR UPDATE", UUID(job.payload["request_id"])
    )
    if request is None:
        return  # answered in the meantime
    await connection.execute("UPDATE information_requests SET lapsed_at = $2 WHERE request_id = $1", request["request_id"], job.due_at)
    row = await connection.fetchrow(
        "UPDATE applications SET status = 'in_review', version = version + 1, updated_at = $2 WHERE application_id = $1 AND status = 'awaiting_information' RETURNING *",
        request["application_id"],
        job.due_at,
    )
    if row is None:
        return  # already forwarded by the decision term
    await _history(connection, row["application_id"], at=job.due_at, actor_id=None, action="information_term_lapsed", request_id=str(request["request_id"]))
    await publish_event(
        connection,
        InformationReceivedV1(application_id=row["application_id"], organisation_id=row["organisation_id"], request_id=request["request_id"], lapsed=True),
        source=SOURCE,
    )


INSUFFICIENT_INFORMATION = "negative: insufficient information (R-19)"


async def decision_term_near(connection: asyncpg.Connection, job: Job) -> None:
    """R-19: the three-month decision term comes near while a question is still open: the dossier
    goes to the commission anyway, with a negative advice for lack of information."""
    row = await connection.fetchrow("SELECT * FROM applications WHERE application_id = $1 FOR UPDATE", UUID(job.payload["application_id"]))
    if row is None or row["status"] != "awaiting_information":
        return
    await connection.execute(
        "UPDATE information_requests SET lapsed_at = $2 WHERE application_id = $1 AND answered_at IS NULL AND lapsed_at IS NULL",
        row["application_id"],
        job.due_at,
    )
    for r in await connection.fetch("SELECT request_id FROM information_requests WHERE application_id = $1", row["application_id"]):
        await cancel_job(connection, job=INFORMATION_TERM_JOB, dedup_key=str(r["request_id"]))
    await _forward(connection, row, actor_id=None, deciding_body="commission", advice=INSUFFICIENT_INFORMATION, now=job.due_at)


# ------------------------------------------------------------------------------- back office


async def work_queue(
    connection: asyncpg.Connection, *, status: str | None, organisation_id: UUID | None, due_before: date | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Open dossiers, the nearest deadline first (the decision term, or an open question's term)."""
    rows = await connection.fetch(
        """
        SELECT a.application_id, a.dossier_number, a.organisation_id, o.name AS organisation_name, a.status,
               a.sections->'training'->>'name' AS training_name, a.submitted_at, a.decision_due_on, a.flags, a.replaces_odb_number,
               q.due_on AS information_due_on, least(a.decision_due_on, q.due_on) AS deadline
        FROM applications a
        LEFT JOIN organisations o USING (organisation_id)
        LEFT JOIN information_requests q ON q.application_id = a.application_id AND q.answered_at IS NULL AND q.lapsed_at IS NULL
        WHERE a.status IN ('held', 'in_review', 'awaiting_information', 'forwarded')
          AND ($1::text IS NULL OR a.status = $1) AND ($2::uuid IS NULL OR a.organisation_id = $2)
          AND ($3::date IS NULL OR least(a.decision_due_on, q.due_on) <= $3)
        ORDER BY deadline NULLS LAST, a.dossier_number
        LIMIT $4 OFFSET $5
        """,
        status,
        organisation_id,
        due_before,
        limit,
        offset,
    )
    return [dict(r) for r in rows]


async def amend_application(
    connection: asyncpg.Connection, *, actor_id: UUID, application_id: UUID, name: str, body: Any, reason: str, now: datetime
) -> dict[str, Any]:
    """R-17: after submission only the back office changes a dossier, at the provider's request;
    the change and its reason are kept in the history."""
    section = parse_section(name, body)
    row = await _application(connection, application_id, for_update=True)
    if row["status"] not in ("held", "in_review", "awaiting_information"):
        raise Conflict(f"a dossier that is {row['status']} can no longer be amended")
    await _check_sections(connection, sections={name: section}, organisation_id=row["organisation_id"])
    before = row["sections"].get(name)
    await connection.execute(
        "UPDATE applications SET sections = sections || jsonb_build_object($2::text, $3::jsonb), version = version + 1, updated_at = $4 WHERE application_id = $1",
        application_id,
        name,
        section.model_dump(mode="json"),
        now,
    )
    await _history(connection, application_id, at=now, actor_id=actor_id, action="amended", section=name, reason=reason, before=before)
    return await application(connection, application_id=application_id, organisation_id=None)


async def forward_application(
    connection: asyncpg.Connection, *, actor_id: UUID, application_id: UUID, deciding_body: str | None, advice: str | None, now: datetime
) -> dict[str, Any]:
    row = await _application(connection, application_id, for_update=True)
    if row["status"] == "held":
        raise Conflict("held until the organisation has its WSE quality registration (R-2)")
    if row["status"] == "awaiting_information":
        raise Conflict("a question to the provider is open: the dossier is forwarded once answered, or when its term lapses (R-19)")
    if row["status"] != "in_review":
        raise Conflict(f"a dossier that is {row['status']} cannot be forwarded")
    body = domain.resolve_deciding_body(
        requested=DecidingBodySection.model_validate(row["sections"]["deciding_body"]), chosen=deciding_body, known_committees=await _committees(connection)
    )
    await _forward(connection, row, actor_id=actor_id, deciding_body=body, advice=advice, now=now)
    return await application(connection, application_id=application_id, organisation_id=None)


async def _forward(
    connection: asyncpg.Connection, row: asyncpg.Record, *, actor_id: UUID | None, deciding_body: str, advice: str | None, now: datetime
) -> None:
    await connection.execute(
        "UPDATE applications SET status = 'forwarded', deciding_body = $2, advice = $3, forwarded_at = $4, version = version + 1, updated_at = $4 WHERE application_id = $1",
        row["application_id"],
        deciding_body,
        advice,
        now,
    )
    await _history(connection, row["application_id"], at=now, actor_id=actor_id, action="forwarded", deciding_body=deciding_body, advice=advice)
    await publish_event(
        connection,
        ApplicationForwardedV1(application_id=row["application_id"], organisation_id=row["organisation_id"], deciding_body=deciding_body, advice=advice),
        source=SOURCE,
    )


async def decide_application(
    connection: asyncpg.Connection, *, actor_id: UUID, application_id: UUID, outcome: str, reasons: str | None, holds_from: date | None, now: datetime
) -> dict[str, Any]:
    row = await _application(connection, application_id, for_update=True)
    if row["status"] != "forwarded":
        raise Conflict(f"the deciding body decides on a forwarded dossier; this one is {row['status']}")
    domain.ensure_decision(outcome=outcome, reasons=reasons)
    organisation = await _organisation(connection, row["organisation_id"])
    training = _training_of(row)
    odb = None
    if outcome == "approved":
        # the date the registration holds from; by default the day the application came in.
        holds = holds_from or brussels_date(row["submitted_at"])
        odb = domain.odb_number(organisation_kind=organisation["kind"], sequence=await connection.fetchval("SELECT nextval('odb_numbers')"))
        await _register(connection, row=row, training=training, organisation=organisation, odb=odb, holds_from=holds, now=now)
    await connection.execute(
        "UPDATE applications SET status = $2, decided_at = $3, decision_reasons = $4, odb_number = $5, version = version + 1, updated_at = $3 WHERE application_id = $1",
        application_id,
        outcome,
        now,
        reasons,
        odb,
    )
    await cancel_job(connection, job=DECISION_TERM_JOB, dedup_key=str(application_id))
    await _history(connection, application_id, at=now, actor_id=actor_id, action="decided", outcome=outcome, odb_number=odb)
    await publish_event(
        connection,
        ApplicationDecidedV1(application_id=application_id, organisation_id=row["organisation_id"], outcome=outcome, reasons=reasons, odb_number=odb),
        source=SOURCE,
    )
    await _notify(
        connection,
        template_id="registration.application_decided",
        to=row["sections"]["contact"],
        reference=_reference(row),
        key=f"{application_id}:decided",
        dossier_number=row["dossier_number"],
        training_name=training.name,
        organisation_name=organisation["name"],
        outcome=outcome,
        reasons=reasons,
        odb_number=odb,
    )
    return await application(connection, application_id=application_id, organisation_id=None)


async def _register(
    connection: asyncpg.Connection, *, row: asyncpg.Record, training: TrainingSection, organisation: asyncpg.Record, odb: str, holds_from: date, now: datetime
) -> None:
    """R-20, R-21: the approved application becomes a registered training; a replacement (R-24)
    points both ways, and the old one stays until the provider stops it."""
    starts_on, ends_on = domain.training_period(training)
    years = domain.school_years(starts_on, ends_on)
    public = training.model_dump(mode="json", exclude={"follow_up_document_id"})
    modules = [
        RegisteredModule(name=m.name, hours=m.contact_hours + m.distance_hours, blended=m.blended, starts_on=m.starts_on, ends_on=m.ends_on)
        for m in training.modules
    ]
    replaces = row["replaces_odb_number"]
    await connection.execute(
        """
        INSERT INTO trainings (odb_number, application_id, organisation_id, provider_name, name, own_reference, competence_group, structure,
            blended, total_hours, study_points, web_page, public, modules, school_years, holds_from, replaces, registered_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
        """,
        odb,
        row["application_id"],
        row["organisation_id"],
        organisation["name"],
        training.name,
        training.own_reference,
        training.competence_group,
        training.structure,
        training.blended,
        domain.total_hours(training),
        sum((m.study_points or 0) for m in training.modules) or None,
        str(training.web_page),
        public,
        [m.model_dump(mode="json") for m in modules],
        years,
        holds_from,
        replaces,
        now,
    )
    await publish_event(
        connection,
        TrainingRegisteredV1(
            odb_number=odb,
            organisation_id=row["organisation_id"],
            provider_name=organisation["name"],
            name=training.name,
            holds_from=holds_from,
            blended=training.blended,
            structure=training.structure,
            modules=modules,
            school_years=years,
            replaces=replaces,
        ),
        source=SOURCE,
    )
    if replaces:
        await connection.execute("UPDATE trainings SET replaced_by = $2 WHERE odb_number = $1", replaces, odb)
        await publish_event(connection, TrainingReplacedV1(odb_number=replaces, replaced_by=odb, organisation_id=row["organisation_id"]), source=SOURCE)


# ------------------------------------------------------------------------------- stopping


async def stop_training(
    connection: asyncpg.Connection, *, actor_id: UUID, organisation_id: UUID, odb_number: str, stop_on: date, reason: str, now: datetime
) -> dict[str, Any]:
    training = await connection.fetchrow("SELECT * FROM trainings WHERE upper(odb_number) = upper($1) FOR UPDATE", odb_number)
    if training is None:
        raise NotFound("no such registered training")
    if training["organisation_id"] != organisation_id:
        raise Forbidden("this training belongs to another organisation")
    domain.ensure_stop_date(stop_on=stop_on, today=brussels_date(now), holds_from=training["holds_from"], already_stopped_on=training["stop_on"])
    await connection.execute("UPDATE trainings SET stop_on = $2, stop_reason = $3 WHERE odb_number = $1", training["odb_number"], stop_on, reason)
    await publish_event(
        connection, TrainingStoppedV1(odb_number=training["odb_number"], organisation_id=organisation_id, stop_on=stop_on, reason=reason), source=SOURCE
    )
    contact = await connection.fetchval("SELECT contact FROM organisation_data WHERE organisation_id = $1", organisation_id)
    if contact is None:
        contact = await connection.fetchval("SELECT sections->'contact' FROM applications WHERE application_id = $1", training["application_id"])
    await _notify(
        connection,
        template_id="registration.training_stopped",
        to=contact,
        reference=training["odb_number"],
        key=f"{training['odb_number']}:stopped:{stop_on.isoformat()}",
        odb_number=training["odb_number"],
        training_name=training["name"],
        stop_on=stop_on.isoformat(),
        reason=reason,
    )
    return dict(
        await connection.fetchrow(
            "SELECT odb_number, name, own_reference, holds_from, stop_on, stop_reason, replaces, replaced_by FROM trainings WHERE odb_number = $1",
            training["odb_number"],
        )
    )


# ------------------------------------------------------------------------------- yearly


async def record_evaluation(
    connection: asyncpg.Connection, *, actor_id: UUID, odb_number: str, year: int, outcome: str, remarks: str | None, now: datetime
) -> dict[str, Any]:
    training = await connection.fetchrow("SELECT * FROM trainings WHERE upper(odb_number) = upper($1)", odb_number)
    if training is None:
        raise NotFound("no such registered training")
    domain.ensure_evaluation(outcome=outcome, remarks=remarks)
    inserted = await connection.fetchval(
        "INSERT INTO evaluations (odb_number, year, outcome, remarks, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6) "
        "ON CONFLICT DO NOTHING RETURNING 1",
        training["odb_number"],
        year,
        outcome,
        remarks,
        actor_id,
        now,
    )
    if not inserted:
        raise Conflict(f"{training['odb_number']} already has an evaluation for {year}")
    if outcome == "negative":
        general = await connection.fetchval("SELECT general_contact FROM organisation_data WHERE organisation_id = $1", training["organisation_id"])
        if general:  # a negative evaluation goes to the general contact
            await _notify(
                connection,
                template_id="registration.negative_evaluation",
                to=general,
                reference=training["odb_number"],
                key=f"{training['odb_number']}:evaluation:{year}",
                odb_number=training["odb_number"],
                training_name=training["name"],
                year=year,
                remarks=remarks,
            )
    return {"odb_number": training["odb_number"], "year": year, "outcome": outcome, "remarks": remarks}


async def contact_verification(connection: asyncpg.Connection, job: Job) -> None:
    """R-25, N-4: once a year every provider's general contact is asked whether the contacts
    still work there (and can confirm or update them in the organisation data)."""
    year = brussels_date(job.due_at).year
    rows = await connection.fetch(
        "SELECT d.organisation_id, d.general_contact, o.name FROM organisation_data d JOIN organisations o USING (organisation_id) WHERE d.general_contact IS NOT NULL"
    )
    for r in rows:
        await _notify(
            connection,
            template_id="registration.contact_verification",
            to=r["general_contact"],
            reference=str(r["organisation_id"]),
            key=f"{r['organisation_id']}:contact-verification:{year}",
            organisation_name=r["name"],
            year=year,
            contact_name=r["general_contact"]["name"],
        )
    await arm_contact_verification(connection, after=brussels_date(job.ran_at or job.due_at))


async def arm_contact_verification(connection: asyncpg.Connection, *, after: date) -> None:
    due = domain.next_contact_verification(after)
    await schedule_job(connection, job=CONTACT_VERIFICATION_JOB, dedup_key=str(due.year), due_at=start_of(due))
