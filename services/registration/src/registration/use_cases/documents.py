"""Uploaded documents (R-4, R-7, R-16, R-19): kept in this service's database after
`registration.documents` judged the file; only the owning organisation and the back office read
them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from registration import queries
from registration.documents import MAX_DOCUMENT_BYTES, PURPOSES, inspect_upload
from service_runtime import paging
from service_runtime.errors import Forbidden, Invalid, NotFound

_METADATA = "document_id, organisation_id, purpose, filename, content_type, size_bytes, sha256, uploaded_by, uploaded_at"


def _metadata(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "document_id": row["document_id"],
        "filename": row["filename"],
        "content_type": row["content_type"],
        "size_bytes": row["size_bytes"],
        "sha256": row["sha256"],
        "purpose": row["purpose"],
        "uploaded_at": row["uploaded_at"],
    }


async def store_document(
    connection: asyncpg.Connection,
    *,
    organisation_id: UUID,
    uploaded_by: UUID,
    purpose: str,
    filename: str | None,
    content_type: str | None,
    content: bytes,
    now: datetime,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    checksum: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Keeps an organisation's document; returns its metadata (never the content)."""
    if purpose not in PURPOSES:
        raise Invalid(f"one of {', '.join(PURPOSES)}", field="purpose")
    inspected = inspect_upload(filename=filename, content_type=content_type, content=content, max_bytes=max_bytes, checksum=checksum)
    row = await connection.fetchrow(
        f"""
        INSERT INTO documents (document_id, organisation_id, purpose, filename, content_type, size_bytes, sha256, content, uploaded_by, uploaded_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        RETURNING {_METADATA}
        """,
        uuid.uuid4(),
        organisation_id,
        purpose,
        inspected.filename,
        inspected.kind.content_type,
        inspected.size_bytes,
        inspected.sha256,
        content,
        uploaded_by,
        now,
    )
    return _metadata(row)


async def documents_of(connection: asyncpg.Connection, *, organisation_id: UUID, purpose: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
    """The organisation's documents (metadata), newest first; a page."""
    after = paging.decode_cursor(cursor, [paging.MOMENT, paging.UUID_])
    rows = await connection.fetch(
        f"SELECT {_METADATA} FROM documents WHERE organisation_id = $1 AND ($2::text IS NULL OR purpose = $2) "
        "AND ($4::timestamptz IS NULL OR (uploaded_at, document_id) < ($4, $5)) ORDER BY uploaded_at DESC, document_id DESC LIMIT $3",
        organisation_id,
        purpose,
        limit + 1,
        *(after or (None, None)),
    )
    items, next_cursor = paging.page([_metadata(row) for row in rows], limit, key=lambda d: (d["uploaded_at"], d["document_id"]))
    return {"items": items, "next_cursor": next_cursor}


async def document(connection: asyncpg.Connection, *, document_id: UUID, organisation_id: UUID | None) -> dict[str, Any]:
    """A document with its content, for the organisation that owns it (or the back office, with
    organisation_id None). Another organisation's document is Forbidden."""
    row = await connection.fetchrow(f"SELECT {_METADATA}, content FROM documents WHERE document_id = $1", document_id)
    if row is None:
        raise NotFound("no such document")
    if organisation_id is not None and row["organisation_id"] != organisation_id:
        raise Forbidden("this document belongs to another organisation")
    return {**_metadata(row), "organisation_id": row["organisation_id"], "content": bytes(row["content"])}


async def documents_of_application(connection: asyncpg.Connection, *, application_id: UUID) -> list[dict[str, Any]]:
    """A dossier's documents (metadata) for the back office: those attached to the application
    (R-16), then those of the answers to its questions (R-19), each oldest first (two uploaded in
    the same instant by their id). 404 for an unknown dossier."""
    await queries.application(connection, application_id)
    rows = await connection.fetch(
        f"""
        SELECT {_METADATA}, 'application' AS attached_to, NULL::uuid AS request_id, 0 AS part
        FROM documents
        WHERE document_id IN (
            SELECT (jsonb_array_elements_text(sections->'documents'->'document_ids'))::uuid FROM applications WHERE application_id = $1
        )
        UNION ALL
        SELECT d.document_id, d.organisation_id, d.purpose, d.filename, d.content_type, d.size_bytes, d.sha256, d.uploaded_by, d.uploaded_at,
               'answer', q.request_id, 1
        FROM information_requests q JOIN documents d ON d.document_id = ANY(q.answer_documents)
        WHERE q.application_id = $1
        ORDER BY part, uploaded_at, document_id
        """,
        application_id,
    )
    return [{**_metadata(row), "attached_to": row["attached_to"], "request_id": row["request_id"]} for row in rows]
