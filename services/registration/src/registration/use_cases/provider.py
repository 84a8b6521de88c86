"""The provider's side: organisation data (R-3, R-4, R-25), drafts and their sections (R-5 to
R-18), submitting (R-2, R-17, admissibility) and the provider's lists (R-22).

Saving a section and submitting read what they decide on with short reads outside any
transaction, decide in Python, and write with a conditional UPDATE on the row's version (run
them with `read_only=True`): a transaction is open only around the writes.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from registration import domain, queries
from registration.domain import OrganisationFacts, Status
from registration.sections import OrganisationData, SelfAnalysisSection, TrainingSection
from registration.use_cases.common import (
    DECISION_TERM_JOB,
    Changed,
    check_sections,
    documents_named,
    dossier,
    optimistically,
    parse_section,
    public,
    reference,
    section_problems,
)
from service_runtime import paging
from service_runtime.calendar import brussels_date, start_of
from service_runtime.errors import Conflict, Forbidden, Invalid, NotFound, Violation, raise_if_any
from service_runtime.outbox import publish_event, send_email
from service_runtime.projections import quality_registered
from service_runtime.scheduler import schedule_job
from wse_contracts.emails import ApplicationInadmissible, ApplicationSubmitted
from wse_contracts.registration import ApplicationHeldV1, ApplicationInadmissibleV1, ApplicationSubmittedV1

# ------------------------------------------------------------------------------- organisation data


async def organisation_data(connection: asyncpg.Connection, *, organisation_id: UUID) -> dict[str, Any]:
    row = await connection.fetchrow("SELECT * FROM organisation_data WHERE organisation_id = $1", organisation_id)
    organisation = await connection.fetchrow("SELECT name, kind, quality_status FROM organisations_projection WHERE organisation_id = $1", organisation_id)
    data = dict(row) if row else {"organisation_id": organisation_id}
    data["organisation"] = dict(organisation) if organisation else None
    return data


async def update_organisation_data(connection: asyncpg.Connection, *, organisation_id: UUID, data: OrganisationData) -> dict[str, Any]:
    problems = domain.validate_lms(lms=data.lms, lms_other=data.lms_other)
    if data.follow_up_document_id and not await queries.owned_documents(connection, organisation_id, [data.follow_up_document_id]):
        problems.append(Violation("follow_up_document_id", "no such document of this organisation"))
    raise_if_any(problems)
    await queries.known_organisation(connection, organisation_id)
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
        raise Invalid("give a general contact person first", field="general_contact", rule="R-25")
    return await organisation_data(connection, organisation_id=organisation_id)


# ------------------------------------------------------------------------------- drafts

_CREATE_DRAFT = """
    WITH created AS (
        INSERT INTO applications (application_id, organisation_id, created_by, status, sections, replaces_odb_number)
        VALUES ($1, $2, $3, 'draft', $4, $5) RETURNING *
    ), history AS (
        INSERT INTO application_history (application_id, at, actor_id, action, details) SELECT application_id, $6, $3, 'draft_created', $7 FROM created
    )
    SELECT * FROM created
"""


async def create_draft(
    connection: asyncpg.Connection, *, actor_id: UUID, organisation_id: UUID, now: datetime, replaces_odb_number: str | None = None
) -> dict[str, Any]:
    """Reads, then one statement writes the draft and its history (no transaction needed: run it read_only)."""
    await queries.known_organisation(connection, organisation_id)
    sections: dict[str, Any] = {}
    if replaces_odb_number is not None:
        training = await connection.fetchrow("SELECT * FROM trainings WHERE upper(odb_number) = upper($1)", replaces_odb_number)
        if training is None or training["organisation_id"] != organisation_id:
            raise Invalid("not a registered training of this organisation", field="replaces_odb_number", rule="R-24")
        if training["replaced_by"] is not None:
            raise Conflict(f"{training['odb_number']} is already replaced by {training['replaced_by']}")
        if training["stop_on"] is not None and training["stop_on"] <= brussels_date(now):
            raise Conflict(f"{training['odb_number']} stopped on {training['stop_on']}")
        replaces_odb_number = training["odb_number"]
        # Start from what is registered: the provider changes what changed.
        original = await connection.fetchval("SELECT sections FROM applications WHERE application_id = $1", training["application_id"])
        sections = {name: original[name] for name in ("training", "self_analysis", "deciding_body") if name in original}
    contact = await queries.organisation_contact(connection, organisation_id)
    if contact:
        sections["contact"] = contact  # entered once, proposed for every application
    row = await connection.fetchrow(
        _CREATE_DRAFT, uuid.uuid4(), organisation_id, actor_id, sections, replaces_odb_number, now, {"replaces": replaces_odb_number}
    )
    return public(row, back_office=False)


_SAVE_SECTION = (
    "UPDATE applications SET sections = sections || jsonb_build_object($2::text, $3::jsonb), version = version + 1, updated_at = $4 "
    "WHERE application_id = $1 AND version = $5 AND status = 'draft' RETURNING *"
)


async def save_section(connection: asyncpg.Connection, *, organisation_id: UUID, application_id: UUID, name: str, body: Any, now: datetime) -> dict[str, Any]:
    """Validates the section and keeps it (R-18: going back keeps what was entered). A section
    with problems is not saved; every problem is listed per field. Read, decide, one conditional
    UPDATE (run it read_only)."""
    section = parse_section(name, body)
    dumped = section.model_dump(mode="json")

    async def attempt() -> dict[str, Any]:
        row = await queries.own_application(connection, organisation_id=organisation_id, application_id=application_id)
        domain.ensure_editable_draft(row["status"])
        await check_sections(connection, sections={name: section}, organisation_id=organisation_id)
        saved = await connection.fetchrow(_SAVE_SECTION, application_id, name, dumped, now, row["version"])
        if saved is None:
            raise Changed
        return public(saved, back_office=False)

    return await optimistically(attempt)


async def cancel_draft(connection: asyncpg.Connection, *, organisation_id: UUID, application_id: UUID) -> None:
    """R-18: cancelling discards the whole draft."""
    row = await queries.own_application(connection, organisation_id=organisation_id, application_id=application_id, for_update=True)
    domain.ensure_cancellable(row["status"])
    await connection.execute("DELETE FROM application_history WHERE application_id = $1", application_id)
    await connection.execute("DELETE FROM applications WHERE application_id = $1", application_id)


# ------------------------------------------------------------------------------- submitting (R-2, R-17, admissibility)

# Everything a submission decides on, in one read: the dossier, the organisation,
# the joint committees, whether the idempotency key is taken, and whether the own reference
# is (R-5: unique per provider among registered trainings and open dossiers; a replacement may
# keep the one of the training it replaces).
_LOAD_FOR_SUBMISSION = f"""
    SELECT a.application_id, a.organisation_id, a.dossier_number, a.status, a.idempotency_key, a.sections, a.replaces_odb_number, a.version,
           o.name AS organisation_name, o.kind AS organisation_kind, o.quality_status, o.quality_valid_from, o.quality_valid_until,
           d.lms, d.follow_up_document_id AS organisation_follow_up_document_id,
           ARRAY(SELECT number FROM joint_committees) AS committees,
           EXISTS (SELECT FROM applications r WHERE r.organisation_id = a.organisation_id AND r.idempotency_key = $2) AS key_used,
           coalesce(
               (SELECT t.odb_number FROM trainings t WHERE t.organisation_id = a.organisation_id
                  AND t.own_reference = a.sections->'training'->>'own_reference' AND t.odb_number IS DISTINCT FROM a.replaces_odb_number
                  AND t.replaced_by IS NULL LIMIT 1),
               (SELECT 'dossier ' || r.dossier_number FROM applications r WHERE r.organisation_id = a.organisation_id AND r.application_id <> a.application_id
                  AND r.status IN ({queries.OPEN}) AND r.sections->'training'->>'own_reference' = a.sections->'training'->>'own_reference' LIMIT 1)
           ) AS reference_used_by
    FROM applications a
    LEFT JOIN organisations_projection o ON o.organisation_id = a.organisation_id
    LEFT JOIN organisation_data d ON d.organisation_id = a.organisation_id
    WHERE a.application_id = $1
"""

# The submission and its history row in one statement, only if the draft is still the one read.
_SUBMIT = """
    WITH submitted AS (
        UPDATE applications SET status = $2, submitted_at = $3, submitted_by = $4, idempotency_key = $5, decision_due_on = $6,
            inadmissible_rule = $7, inadmissible_reason = $8, flags = $9, version = version + 1, updated_at = $3
        WHERE application_id = $1 AND version = $10 AND status = 'draft' RETURNING *
    ), history AS (
        INSERT INTO application_history (application_id, at, actor_id, action, details) SELECT application_id, $3, $4, 'submitted', $11 FROM submitted
    )
    SELECT * FROM submitted
"""


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
    """R-17: the automatic admissibility rules run. One read, the decision in Python, then one
    short transaction for the writes (run it read_only: it opens its own)."""

    async def attempt() -> dict[str, Any]:
        row = await connection.fetchrow(_LOAD_FOR_SUBMISSION, application_id, idempotency_key)
        if row is None:
            raise NotFound("no such application")
        queries.ensure_own(row, organisation_id)
        if domain.is_repeated_submission(status=row["status"], stored_key=row["idempotency_key"], idempotency_key=idempotency_key):
            # The same submission again: the same answer (the dossier as it is now, questions included).
            return await dossier(connection, await queries.application(connection, application_id), back_office=False)
        if row["key_used"]:
            raise Conflict("this idempotency key was used for another application")
        sections = row["sections"]
        domain.ensure_complete(sections)
        # Sections were valid when saved; the organisation data they depend on may have changed since.
        parsed = {name: parse_section(name, sections[name]) for name in domain.SECTIONS if name in sections}
        if row["organisation_name"] is None:
            raise NotFound("this organisation is not known to the training database yet")
        named = [d for section in parsed.values() for d in documents_named(section)]
        owned = await queries.owned_documents(connection, organisation_id, named)
        raise_if_any(section_problems(parsed, organisation_kind=row["organisation_kind"], committees=set(row["committees"]), owned=owned))
        if row["reference_used_by"]:
            raise Invalid(
                f"already used by {row['reference_used_by']}; the own reference is unique per provider", field="sections.training.own_reference", rule="R-5"
            )
        training = parsed["training"]
        self_analysis = parsed["self_analysis"]
        assert isinstance(training, TrainingSection) and isinstance(self_analysis, SelfAnalysisSection)  # the models of these names
        return await _submit(
            connection, row, training, self_analysis, actor_id=actor_id, idempotency_key=idempotency_key, now=now, warning_days=decision_warning_days
        )

    return await optimistically(attempt)


async def _submit(
    connection: asyncpg.Connection,
    row: asyncpg.Record,
    training: TrainingSection,
    self_analysis: SelfAnalysisSection,
    *,
    actor_id: UUID,
    idempotency_key: str,
    now: datetime,
    warning_days: int,
) -> dict[str, Any]:
    today = brussels_date(now)
    facts = OrganisationFacts(
        kind=row["organisation_kind"],
        has_lms=bool(row["lms"]),
        has_follow_up_document=bool(row["organisation_follow_up_document_id"]),
        quality_registered=quality_registered(row["quality_status"], row["quality_valid_from"], row["quality_valid_until"], today),
    )
    verdict = domain.judge_admissibility(
        training=training, self_analysis=self_analysis, organisation=facts, submitted_on=today, replaces=row["replaces_odb_number"]
    )
    due_on = domain.decision_due_on(today)
    status = domain.status_after_admission(quality_registered=facts.quality_registered) if verdict.admissible else Status.INADMISSIBLE
    application_id, organisation_id, dossier_number = row["application_id"], row["organisation_id"], row["dossier_number"]
    # What is published, built before the transaction opens.
    submitted = ApplicationSubmittedV1(
        application_id=application_id,
        organisation_id=organisation_id,
        dossier_number=dossier_number,
        training_name=training.name,
        replaces_odb_number=row["replaces_odb_number"],
        decision_due_on=due_on,
    )
    to, email_reference = row["sections"]["contact"], reference(row)
    try:
        async with connection.transaction():
            written = await connection.fetchrow(
                _SUBMIT,
                application_id,
                status.value,
                now,
                actor_id,
                idempotency_key,
                due_on if verdict.admissible else None,
                verdict.rule,
                verdict.reason,
                verdict.flags,
                row["version"],
                {"status": status.value, "rule": verdict.rule},
            )
            if written is None:
                raise Changed
            await publish_event(connection, submitted)
            if not verdict.admissible:
                assert verdict.rule is not None and verdict.reason is not None  # an inadmissible verdict names its rule
                await publish_event(
                    connection,
                    ApplicationInadmissibleV1(application_id=application_id, organisation_id=organisation_id, rule=verdict.rule, reason=verdict.reason),
                )
                await send_email(
                    connection,
                    ApplicationInadmissible(
                        dossier_number=dossier_number,
                        training_name=training.name,
                        organisation_name=row["organisation_name"],
                        rule=verdict.rule,
                        reason=verdict.reason,
                    ),
                    to=to,
                    reference=email_reference,
                    key=f"{application_id}:inadmissible",
                )
                return public(written, back_office=False)
            if status == Status.HELD:
                await publish_event(connection, ApplicationHeldV1(application_id=application_id, organisation_id=organisation_id))
            # R-17, N-1: the contact person's confirmation.
            await send_email(
                connection,
                ApplicationSubmitted(
                    dossier_number=dossier_number,
                    training_name=training.name,
                    organisation_name=row["organisation_name"],
                    decision_due_on=due_on,
                    held_for_quality_registration=status == Status.HELD,
                ),
                to=to,
                reference=email_reference,
                key=f"{application_id}:submitted",
            )
            # act when the decision term comes near (`warning_days` before it ends).
            await schedule_job(
                connection,
                job=DECISION_TERM_JOB,
                dedup_key=str(application_id),
                due_at=start_of(domain.decision_warning_on(due_on, days_before=warning_days)),
                payload={"application_id": str(application_id)},
            )
            return public(written, back_office=False)
    except asyncpg.UniqueViolationError:
        # The key was taken by another application between the read and the write.
        raise Conflict("this idempotency key was used for another application") from None


# ------------------------------------------------------------------------------- the provider's lists


async def open_dossiers(connection: asyncpg.Connection, *, organisation_id: UUID, limit: int, cursor: str | None) -> dict[str, Any]:
    """R-22: drafts and dossiers still being handled, the last changed first (a page)."""
    after = paging.decode_cursor(cursor, [paging.MOMENT, paging.UUID_])
    rows = await connection.fetch(
        "SELECT application_id, dossier_number, status, sections->'training'->>'name' AS training_name, submitted_at, decision_due_on, "
        f"replaces_odb_number, updated_at FROM applications WHERE organisation_id = $1 AND status IN ({queries.sql_list([Status.DRAFT, *domain.OPEN_STATUSES])}) "
        "AND ($3::timestamptz IS NULL OR (updated_at, application_id) < ($3, $4)) "
        "ORDER BY updated_at DESC, application_id DESC LIMIT $2",
        organisation_id,
        limit + 1,
        *(after or (None, None)),
    )
    items, next_cursor = paging.page([dict(r) for r in rows], limit, key=lambda r: (r["updated_at"], r["application_id"]))
    return {"items": items, "next_cursor": next_cursor}


async def registered_trainings(connection: asyncpg.Connection, *, organisation_id: UUID, limit: int, cursor: str | None) -> dict[str, Any]:
    """R-22: the organisation's registered trainings, the last registered first (a page)."""
    after = paging.decode_cursor(cursor, [paging.MOMENT, paging.TEXT])
    rows = await connection.fetch(
        "SELECT odb_number, name, own_reference, holds_from, stop_on, stop_reason, replaces, replaced_by, registered_at "
        "FROM trainings WHERE organisation_id = $1 AND ($3::timestamptz IS NULL OR (registered_at, odb_number) < ($3, $4)) "
        "ORDER BY registered_at DESC, odb_number DESC LIMIT $2",
        organisation_id,
        limit + 1,
        *(after or (None, None)),
    )
    items, next_cursor = paging.page([dict(r) for r in rows], limit, key=lambda r: (r["registered_at"], r["odb_number"]))
    return {"items": items, "next_cursor": next_cursor}


async def registered_training(connection: asyncpg.Connection, *, organisation_id: UUID, odb_number: str) -> dict[str, Any]:
    """R-22: one of the organisation's registered trainings (any case of the number), stopped or not;
    another organisation's is refused (Forbidden, audited)."""
    row = await connection.fetchrow(
        "SELECT organisation_id, odb_number, name, own_reference, holds_from, stop_on, stop_reason, replaces, replaced_by, registered_at "
        "FROM trainings WHERE upper(odb_number) = upper($1)",
        odb_number,
    )
    if row is None:
        raise NotFound("no such registered training")
    if row["organisation_id"] != organisation_id:
        raise Forbidden("this training belongs to another organisation")
    return dict(row)
