"""What the use cases of every area share: the jobs they arm, parsing and checking sections, the
dossier as answered, and asking for an email."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ValidationError

from registration import domain, queries
from registration.sections import SECTION_MODELS_BY_NAME, DocumentsSection, TrainingSection
from service_runtime.errors import Conflict, Invalid, NotFound, Violation, raise_if_any

T = TypeVar("T")

INFORMATION_TERM_JOB = "registration.information_term"
DECISION_TERM_JOB = "registration.decision_term"
CONTACT_VERIFICATION_JOB = "registration.contact_verification"


def parse_section(name: str, body: Any) -> BaseModel:
    """The section's model, or Invalid naming every field that is wrong."""
    model: type[BaseModel] | None = SECTION_MODELS_BY_NAME.get(name)
    if model is None:
        raise NotFound(f"no section {name!r}; the sections are {', '.join(domain.SECTIONS)}")
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise Invalid.of(Violation(".".join(str(p) for p in e["loc"]) or "body", e["msg"]) for e in error.errors()) from None


def documents_named(section: object) -> list[UUID]:
    if isinstance(section, DocumentsSection):
        return list(section.document_ids)
    if isinstance(section, TrainingSection) and section.follow_up_document_id:
        return [section.follow_up_document_id]
    return []


def section_problems(sections: dict[str, Any], *, organisation_kind: str, committees: set[str], owned: set[UUID]) -> list[Violation]:
    """Every problem of these sections at once: the rules between fields, and that the documents
    they name are the organisation's own."""
    problems = []
    for name, section in sections.items():
        problems += domain.validate_section(name, section, organisation_kind=organisation_kind, known_committees=committees)
        if isinstance(section, DocumentsSection):
            problems += [
                Violation(f"document_ids[{i}]", "no such document of this organisation", "R-16") for i, d in enumerate(section.document_ids) if d not in owned
            ]
        if isinstance(section, TrainingSection) and section.follow_up_document_id and section.follow_up_document_id not in owned:
            problems.append(Violation("follow_up_document_id", "no such document of this organisation", "R-7"))
    return problems


async def check_sections(connection: asyncpg.Connection, *, sections: dict[str, Any], organisation_id: UUID) -> None:
    """Reads what the rules need once (organisation, committees, documents) and refuses every problem."""
    organisation = await queries.known_organisation(connection, organisation_id)
    committees = await queries.committees(connection)
    owned = await queries.owned_documents(connection, organisation_id, [d for section in sections.values() for d in documents_named(section)])
    raise_if_any(section_problems(sections, organisation_kind=organisation.kind, committees=committees, owned=owned))


def public(row: asyncpg.Record, *, back_office: bool) -> dict[str, Any]:
    """The dossier as answered: the provider never sees the back office's advice."""
    application = dict(row)
    if not back_office:
        application.pop("advice", None)
    application["training_name"] = (row["sections"].get("training") or {}).get("name")
    application["missing_sections"] = domain.missing_sections(row["sections"]) if row["status"] == domain.Status.DRAFT else []
    # A dossier just created, saved or submitted has no questions yet (`dossier` reads them).
    application["information_requests"] = []
    application["timeline"] = []
    return application


def training_of(row: asyncpg.Record) -> TrainingSection:
    return TrainingSection.model_validate(row["sections"]["training"])


def reference(row: asyncpg.Record) -> str:
    return f"ODB-dossier-{row['dossier_number']}"


async def application(connection: asyncpg.Connection, *, application_id: UUID, organisation_id: UUID | None) -> dict[str, Any]:
    """One dossier: for the provider (organisation_id given) or the back office (None)."""
    if organisation_id is None:
        row = await queries.application(connection, application_id)
    else:
        row = await queries.own_application(connection, organisation_id=organisation_id, application_id=application_id)
    return await dossier(connection, row, back_office=organisation_id is None)


async def dossier(connection: asyncpg.Connection, row: asyncpg.Record, *, back_office: bool) -> dict[str, Any]:
    """The dossier of this row with its questions, and for the back office its history."""
    result = public(row, back_office=back_office)
    result["information_requests"] = [
        dict(r)
        for r in await connection.fetch(
            "SELECT request_id, question, asked_at, due_on, answered_at, answer, answer_documents, lapsed_at "
            "FROM information_requests WHERE application_id = $1 ORDER BY asked_at",
            row["application_id"],
        )
    ]
    history = await connection.fetch(
        "SELECT at, actor_id, action, details FROM application_history WHERE application_id = $1 ORDER BY id", row["application_id"]
    )
    if back_office:
        result["history"] = [dict(r) for r in history]
        result["notification_reference"] = reference(row)
        result["organisation_name"] = await connection.fetchval("SELECT name FROM organisations_projection WHERE organisation_id = $1", row["organisation_id"])
    result["timeline"] = [
        {"at": r["at"], "action": r["action"], "details": {k: v for k, v in (r["details"] or {}).items() if k in PROVIDER_HISTORY_DETAILS.get(r["action"], ())}}
        for r in history
    ]
    return result


# What the provider may know of each step (never the advice, an amendment's previous value, or who
# of the department acted).
PROVIDER_HISTORY_DETAILS: dict[str, tuple[str, ...]] = {
    "draft_created": ("replaces",),
    "submitted": ("status", "rule"),
    "released": ("reason",),
    "information_requested": ("request_id", "due_on"),
    "information_received": ("request_id",),
    "information_term_lapsed": ("request_id",),
    "amended": ("section", "reason"),
    "forwarded": ("deciding_body",),
    "decided": ("outcome", "odb_number"),
}


class Changed(Exception):
    """The row changed between the read a decision was made on and the write (its version moved)."""


ATTEMPTS = 3


async def optimistically(work: Callable[[], Awaitable[T]]) -> T:
    """Runs `work` (read, decide, conditional write) again when the row changed under it, instead
    of holding a lock on the row while Python decides."""
    for _ in range(ATTEMPTS - 1):
        try:
            return await work()
        except Changed:
            continue
    try:
        return await work()
    except Changed:
        raise Conflict("the dossier changed while this was being done; try again") from None
