"""Registered trainings: registering an approved application (R-20, R-21, R-24), stopping one
(R-23), the yearly evaluation (R-26) and the yearly contact verification (R-25)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from registration import domain, queries
from registration.sections import Module, TrainingSection
from registration.use_cases.common import CONTACT_VERIFICATION_JOB
from service_runtime import paging
from service_runtime.calendar import brussels_date, start_of
from service_runtime.errors import Conflict, Forbidden, NotFound
from service_runtime.outbox import publish_event, send_email
from service_runtime.scheduler import schedule_job
from wse_contracts.emails import ContactVerification, NegativeEvaluation, TrainingStopped
from wse_contracts.registration import RegisteredModule, TrainingRegisteredV1, TrainingReplacedV1, TrainingStoppedV1


async def register_training(
    connection: asyncpg.Connection, *, row: asyncpg.Record, training: TrainingSection, provider_name: str, odb: str, holds_from: date, now: datetime
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
        provider_name,
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
            provider_name=provider_name,
            name=training.name,
            holds_from=holds_from,
            blended=training.blended,
            structure=training.structure,
            modules=modules,
            school_years=years,
            replaces=replaces,
        ),
    )
    if replaces:
        await connection.execute("UPDATE trainings SET replaced_by = $2 WHERE odb_number = $1", replaces, odb)
        await publish_event(connection, TrainingReplacedV1(odb_number=replaces, replaced_by=odb, organisation_id=row["organisation_id"]))


# ------------------------------------------------------------------------------- stopping


async def stop_training(connection: asyncpg.Connection, *, organisation_id: UUID, odb_number: str, stop_on: date, reason: str, now: datetime) -> dict[str, Any]:
    training = await connection.fetchrow("SELECT * FROM trainings WHERE upper(odb_number) = upper($1) FOR UPDATE", odb_number)
    if training is None:
        raise NotFound("no such registered training")
    if training["organisation_id"] != organisation_id:
        raise Forbidden("this training belongs to another organisation")
    domain.ensure_stop_date(stop_on=stop_on, today=brussels_date(now), holds_from=training["holds_from"], already_stopped_on=training["stop_on"])
    await connection.execute("UPDATE trainings SET stop_on = $2, stop_reason = $3 WHERE odb_number = $1", training["odb_number"], stop_on, reason)
    await publish_event(connection, TrainingStoppedV1(odb_number=training["odb_number"], organisation_id=organisation_id, stop_on=stop_on, reason=reason))
    contact = await queries.organisation_contact(connection, organisation_id)
    if contact is None:
        contact = await connection.fetchval("SELECT sections->'contact' FROM applications WHERE application_id = $1", training["application_id"])
    await send_email(
        connection,
        TrainingStopped(odb_number=training["odb_number"], training_name=training["name"], stop_on=stop_on, reason=reason),
        to=contact,
        reference=training["odb_number"],
        key=f"{training['odb_number']}:stopped:{stop_on.isoformat()}",
    )
    return dict(
        await connection.fetchrow(
            "SELECT odb_number, name, own_reference, holds_from, stop_on, stop_reason, replaces, replaced_by, registered_at FROM trainings WHERE odb_number = $1",
            training["odb_number"],
        )
    )


# ------------------------------------------------------------------------------- yearly


async def record_evaluation(
    connection: asyncpg.Connection, *, actor_id: UUID, odb_number: str, year: int, outcome: str, remarks: str | None, now: datetime
) -> dict[str, Any]:
    """R-26: the yearly evaluation of a registered training, stopped or not; a negative one is
    emailed to the provider's general contact (R-25). The answer, and the evaluation as kept,
    say whether that email was requested, or why nobody was told."""
    training = await _training(connection, odb_number)
    domain.ensure_evaluation(outcome=outcome, remarks=remarks)
    general = await _general_contact(connection, training["organisation_id"])
    email = domain.evaluation_email(outcome=outcome, has_general_contact=general is not None)
    inserted = await connection.fetchval(
        "INSERT INTO evaluations (odb_number, year, outcome, remarks, recorded_by, recorded_at, emailed_to, not_emailed_reason) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING 1",
        training["odb_number"],
        year,
        outcome,
        remarks,
        actor_id,
        now,
        email.emailed_to,
        email.not_emailed_reason,
    )
    if not inserted:
        raise Conflict(f"{training['odb_number']} already has an evaluation for {year}")
    if email.contact_emailed and general is not None and remarks:  # a negative evaluation always says why (ensure_evaluation)
        await send_email(
            connection,
            NegativeEvaluation(odb_number=training["odb_number"], training_name=training["name"], year=year, remarks=remarks),
            to=general,
            reference=training["odb_number"],
            key=f"{training['odb_number']}:evaluation:{year}",
        )
    return {
        "odb_number": training["odb_number"],
        "year": year,
        "outcome": outcome,
        "remarks": remarks,
        "recorded_by": actor_id,
        "recorded_at": now,
        **_email_fields(outcome, email.emailed_to, email.not_emailed_reason),
    }


def _email_fields(outcome: str, emailed_to: str | None, not_emailed_reason: str | None) -> dict[str, Any]:
    """What an evaluation says of its email (domain.recorded_evaluation_email); None: not known."""
    email = domain.recorded_evaluation_email(outcome=outcome, emailed_to=emailed_to, not_emailed_reason=not_emailed_reason)
    if email is None:
        return {"contact_emailed": None, "emailed_to": None, "not_emailed_reason": None}
    return {"contact_emailed": email.contact_emailed, "emailed_to": email.emailed_to, "not_emailed_reason": email.not_emailed_reason}


async def _training(connection: asyncpg.Connection, odb_number: str) -> asyncpg.Record:
    training = await connection.fetchrow("SELECT * FROM trainings WHERE upper(odb_number) = upper($1)", odb_number)
    if training is None:
        raise NotFound("no such registered training")
    return training


async def _general_contact(connection: asyncpg.Connection, organisation_id: UUID) -> dict[str, Any] | None:
    general: dict[str, Any] | None = await connection.fetchval("SELECT general_contact FROM organisation_data WHERE organisation_id = $1", organisation_id)
    return general


async def back_office_training(connection: asyncpg.Connection, *, odb_number: str, today: date) -> dict[str, Any]:
    """R-20 to R-26: a registered training as the back office sees it, stopped or not (the public
    register no longer shows a stopped one, R-23): its status and dates, modules, provider,
    whether the provider has a general contact (R-25), and its evaluations, the last year first
    (R-26). No contact person's name or address: only whether there is one."""
    training = await _training(connection, odb_number)
    organisation_name = await connection.fetchval("SELECT name FROM organisations_projection WHERE organisation_id = $1", training["organisation_id"])
    evaluations = await connection.fetch(
        "SELECT year, outcome, remarks, recorded_by, recorded_at, emailed_to, not_emailed_reason FROM evaluations WHERE odb_number = $1 ORDER BY year DESC",
        training["odb_number"],
    )
    public = training["public"]
    return {
        **{k: training[k] for k in ("odb_number", "application_id", "organisation_id", "name", "own_reference", "holds_from", "stop_on", "stop_reason")},
        **{k: training[k] for k in ("replaces", "replaced_by", "registered_at", "competence_group", "structure", "blended", "web_page", "school_years")},
        "status": domain.training_status(stop_on=training["stop_on"], today=today),
        "organisation_name": organisation_name or training["provider_name"],
        "total_hours": training["total_hours"],
        "hours_unit": public.get("hours_unit", "contact_hours"),
        "study_points": training["study_points"],
        "modules": [_module(m) for m in public["modules"]],
        "has_general_contact": await _general_contact(connection, training["organisation_id"]) is not None,
        "evaluations": [
            {k: e[k] for k in ("year", "outcome", "remarks", "recorded_by", "recorded_at")}
            | _email_fields(e["outcome"], e["emailed_to"], e["not_emailed_reason"])
            for e in evaluations
        ],
    }


def _module(saved: dict[str, Any]) -> dict[str, Any]:
    """A module as the training section saved it (R-5 to R-13), its defaults filled in."""
    return Module.model_validate(saved).model_dump()


async def verify_contacts(connection: asyncpg.Connection, *, due_at: datetime, ran_at: datetime) -> None:
    """R-25, N-4: once a year every provider's general contact is asked whether the contacts
    still work there (and can confirm or update them in the organisation data)."""
    year = brussels_date(due_at).year
    rows = await connection.fetch(
        "SELECT d.organisation_id, d.general_contact, o.name FROM organisation_data d JOIN organisations_projection o USING (organisation_id) "
        "WHERE d.general_contact IS NOT NULL"
    )
    for r in rows:
        await send_email(
            connection,
            ContactVerification(organisation_name=r["name"], year=year, contact_name=r["general_contact"]["name"]),
            to=r["general_contact"],
            reference=str(r["organisation_id"]),
            key=f"{r['organisation_id']}:contact-verification:{year}",
        )
    await arm_contact_verification(connection, after=brussels_date(ran_at))


async def arm_contact_verification(connection: asyncpg.Connection, *, after: date) -> None:
    due = domain.next_contact_verification(after)
    await schedule_job(connection, job=CONTACT_VERIFICATION_JOB, dedup_key=str(due.year), due_at=start_of(due))


async def joint_committees(connection: asyncpg.Connection, *, limit: int, cursor: str | None) -> dict[str, Any]:
    """R-15: the joint committees that volunteered to decide on applications, by number; a page."""
    after = paging.decode_cursor(cursor, [paging.TEXT])
    rows = await connection.fetch(
        "SELECT number, name FROM joint_committees WHERE $2::text IS NULL OR number > $2 ORDER BY number LIMIT $1", limit + 1, *(after or (None,))
    )
    items, next_cursor = paging.page([dict(r) for r in rows], limit, key=lambda r: (r["number"],))
    return {"items": items, "next_cursor": next_cursor}
