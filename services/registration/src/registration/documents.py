"""Uploaded documents: the follow-up document of R-4/R-7, extra documents (R-16) and the
documents of an answer (R-19).

They are kept in this service's own database, limited in size (20 MB by default) and in type
(PDF, DOCX, ODT, PNG, JPEG), with the SHA-256 of their content computed here. The type is judged
by the content (its magic bytes, and for DOCX and ODT the zip's entries), never by the name or
the Content-Type the client gives. Only the organisation that uploaded a document and the back
office can download it; another organisation is refused and audited (views.run).

The upload is the raw file as the request body (not multipart): its Content-Type is the file's
type, its name comes from the `filename` query parameter or a Content-Disposition header, and an
optional checksum header (Repr-Digest, Content-Digest, Digest or X-Checksum-SHA256) is compared
with what arrived.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from typing import Annotated, Any, Literal
from urllib.parse import quote
from uuid import UUID

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from registration.domain import Forbidden, Invalid, NotFound, Violation
from registration.views import CASE_HANDLER, PROVIDER, run
from service_runtime.http import FieldProblem, Problem

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
"""The default limit; a `max_document_bytes` setting of the service, if it has one, wins."""

MAX_FILENAME_LENGTH = 180
PURPOSES = ("follow_up", "extra", "answer")
Purpose = Literal["follow_up", "extra", "answer"]

# What a client may declare without naming the type (browsers and tools that do not know it).
_GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/binary"})


@dataclass(frozen=True)
class Kind:
    """An accepted type of file."""

    name: str  # for people: "PDF document"
    content_type: str  # what is stored and served
    extensions: tuple[str, ...]  # the first is added to a name without a fitting one
    declared_as: frozenset[str]  # Content-Types a client may send for it (besides the generic ones)


PDF = Kind("PDF document", "application/pdf", (".pdf",), frozenset({"application/pdf", "application/x-pdf", "application/acrobat"}))
DOCX = Kind(
    "Word document (DOCX)",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    (".docx",),
    frozenset({"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/zip", "application/x-zip-compressed"}),
)
ODT = Kind(
    "OpenDocument text (ODT)",
    "application/vnd.oasis.opendocument.text",
    (".odt",),
    frozenset({"application/vnd.oasis.opendocument.text", "application/zip", "application/x-zip-compressed"}),
)
PNG = Kind("PNG image", "image/png", (".png",), frozenset({"image/png", "image/x-png"}))
JPEG = Kind("JPEG image", "image/jpeg", (".jpg", ".jpeg", ".jpe", ".jfif"), frozenset({"image/jpeg", "image/jpg", "image/pjpeg"}))
KINDS = (PDF, DOCX, ODT, PNG, JPEG)
ACCEPTED = "PDF, DOCX, ODT, PNG or JPEG"

_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"


class Refused(Exception):
    """The content is of an accepted family but not acceptable (a Word document with macros)."""


# ------------------------------------------------------------------------------- pure checks


def sniff(content: bytes) -> Kind | None:
    """The accepted type this content is, judged by its bytes; None for anything else.

    Raises Refused for a document of an accepted type that carries macros or scripts."""
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"PK\x03\x04"):
        return _sniff_zip(content)
    return None


def _sniff_zip(content: bytes) -> Kind | None:
    # Only the central directory and the tiny 'mimetype' entry are read: nothing is unpacked.
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            if "word/document.xml" in names and "[Content_Types].xml" in names:
                if any(name.lower().endswith("vbaproject.bin") for name in names):
                    raise Refused("Word documents with macros are not accepted; save it as a plain .docx")
                return DOCX
            if "mimetype" in names and "content.xml" in names:
                info = archive.getinfo("mimetype")
                if info.file_size > 200:
                    return None
                with archive.open(info) as entry:
                    mimetype = entry.read(200).strip()
                if mimetype != _ODT_MIMETYPE:
                    return None
                if any(name.startswith(("Basic/", "Scripts/")) for name in names):
                    raise Refused("OpenDocument files with macros or scripts are not accepted")
                return ODT
    except Refused:
        raise
    except Exception:  # not a readable zip (BadZipFile, encrypted, odd compression, ...)
        return None
    return None


_CONTROL_OR_FORMAT = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
_RESERVED = re.compile(r'[<>:"|?*\\/;]')


def safe_filename(name: str | None, *, kind: Kind | None = None) -> str:
    """A name safe to store and to send back: no directories, control or bidi-format characters,
    reserved characters or leading dots; at most MAX_FILENAME_LENGTH characters with the
    extension kept; ending in an extension that fits the content's type."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]  # the last path part, Windows or POSIX
    name = "".join(" " if c.isspace() else c for c in name if c.isspace() or unicodedata.category(c) not in _CONTROL_OR_FORMAT)
    name = _RESERVED.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > 16 or " " in extension:
        stem, extension = name, ""  # no extension, just a name
    if kind is not None and f".{extension.lower()}" not in kind.extensions:
        stem, extension = name, kind.extensions[0][1:]  # 'virus.exe' holding a PDF is kept as 'virus.exe.pdf'
    suffix = f".{extension.lower()}" if extension else ""
    stem = stem[: max(1, MAX_FILENAME_LENGTH - len(suffix))].rstrip(" .") or "document"
    if stem.split(".")[0].upper() in _WINDOWS_DEVICES:
        stem = "_" + stem
    return stem + suffix


def filename_from_content_disposition(value: str | None) -> str | None:
    """The filename (RFC 6266, also `filename*=UTF-8''...`) of a Content-Disposition header."""
    if not value:
        return None
    message = Message()
    message["content-disposition"] = value
    try:
        return message.get_filename()
    except Exception:
        return None


_CHECKSUM_HEADERS = ("repr-digest", "content-digest", "digest", "x-checksum-sha256")


def expected_sha256(headers: Any) -> tuple[str, str] | None:
    """The SHA-256 the client says it sent, as (header name, hex digest), from the first of
    Repr-Digest / Content-Digest (RFC 9530, `sha-256=:base64:`), Digest (RFC 3230,
    `SHA-256=base64`) or X-Checksum-SHA256 (hex or base64). None when no such header or only
    other algorithms are given. Raises Invalid for a header that cannot be read."""
    for header in _CHECKSUM_HEADERS:
        value = headers.get(header)
        if not value:
            continue
        field = {"repr-digest": "Repr-Digest", "content-digest": "Content-Digest", "digest": "Digest"}.get(header, "X-Checksum-SHA256")
        if header == "x-checksum-sha256":
            digest = _digest_bytes(value.strip())
        else:
            digest = None
            for member in value.split(","):
                algorithm, _, encoded = member.strip().partition("=")
                if algorithm.strip().lower() == "sha-256":
                    digest = _digest_bytes(encoded.strip().strip(":"))
                    break
            else:
                continue  # only other algorithms: nothing to compare
        if digest is None:
            raise Invalid([Violation(field, "give the SHA-256 of the file as base64 (sha-256=:...:) or as 64 hexadecimal digits")])
        return field, digest.hex()
    return None


def _digest_bytes(text: str) -> bytes | None:
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        return bytes.fromhex(text)
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded if len(decoded) == 32 else None


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


@dataclass(frozen=True)
class Inspected:
    kind: Kind
    filename: str
    size_bytes: int
    sha256: str


def inspect_upload(
    *,
    filename: str | None,
    content_type: str | None,
    content: bytes,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    checksum: tuple[str, str] | None = None,
) -> Inspected:
    """Judges an upload: every problem at once, per field (Invalid), or what to store."""
    if not content:
        raise Invalid([Violation("file", "the file is empty")])
    if len(content) > max_bytes:
        raise Invalid([Violation("file", f"the file is {len(content)} bytes; at most {max_bytes} bytes ({max_bytes // (1024 * 1024)} MB) are accepted")])
    problems: list[Violation] = []
    try:
        kind = sniff(content)
    except Refused as refusal:
        raise Invalid([Violation("file", str(refusal))]) from None
    if kind is None:
        raise Invalid([Violation("file", f"only {ACCEPTED} files are accepted; this file is none of these (judged by its content)")])
    declared = _media_type(content_type)
    if declared not in _GENERIC_TYPES and declared not in kind.declared_as:
        problems.append(Violation("content_type", f"the file is a {kind.name} but was sent as {declared[:100]}; send it as {kind.content_type}"))
    sha256 = hashlib.sha256(content).hexdigest()
    if checksum is not None and checksum[1] != sha256:
        problems.append(
            Violation(checksum[0], "the SHA-256 of what arrived differs from the one given: the file was changed or cut off on the way, send it again")
        )
    if problems:
        raise Invalid(problems)
    return Inspected(kind=kind, filename=safe_filename(filename, kind=kind), size_bytes=len(content), sha256=sha256)


# ------------------------------------------------------------------------------- use cases

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
        raise Invalid([Violation("purpose", f"one of {', '.join(PURPOSES)}")])
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


async def documents_of(connection: asyncpg.Connection, *, organisation_id: UUID, purpose: str | None = None) -> list[dict[str, Any]]:
    """The organisation's documents (metadata), newest first."""
    rows = await connection.fetch(
        f"SELECT {_METADATA} FROM documents WHERE organisation_id = $1 AND ($2::text IS NULL OR purpose = $2) ORDER BY uploaded_at DESC, document_id",
        organisation_id,
        purpose,
    )
    return [_metadata(row) for row in rows]


async def document(connection: asyncpg.Connection, *, document_id: UUID, organisation_id: UUID | None) -> dict[str, Any]:
    """A document with its content, for the organisation that owns it (or the back office, with
    organisation_id None). Another organisation's document is Forbidden."""
    row = await connection.fetchrow(f"SELECT {_METADATA}, content FROM documents WHERE document_id = $1", document_id)
    if row is None:
        raise NotFound("no such document")
    if organisation_id is not None and row["organisation_id"] != organisation_id:
        raise Forbidden("this document belongs to another organisation")
    return {**_metadata(row), "organisation_id": row["organisation_id"], "content": bytes(row["content"])}


# ------------------------------------------------------------------------------- HTTP


def max_document_bytes(request: Request) -> int:
    return int(getattr(request.app.state.runtime.settings, "max_document_bytes", None) or MAX_DOCUMENT_BYTES)


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        "The file is too large",
        f"A document is at most {limit} bytes ({limit // (1024 * 1024)} MB).",
        errors=[FieldProblem("file", f"at most {limit} bytes")],
    )


async def read_upload(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it is known to be larger than `limit` (from
    Content-Length before reading anything, or while it arrives)."""
    if (announced := request.content_length) is not None and announced > limit:
        raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the UTF-8 name (RFC 6266, RFC 8187)."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = re.sub(r"[^A-Za-z0-9._ ()\-]", "_", fallback).strip() or "document"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download_response(found: dict[str, Any]) -> Response[bytes]:
    digest = base64.b64encode(bytes.fromhex(found["sha256"])).decode("ascii")
    return Response(
        content=found["content"],
        media_type=found["content_type"],
        status_code=200,
        headers={
            "Content-Disposition": content_disposition(found["filename"]),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
            "Repr-Digest": f"sha-256=:{digest}:",
            "ETag": f'"{found["sha256"]}"',
        },
    )


Filename = Annotated[str | None, Parameter(max_length=1000, description="the file's name; or give it in Content-Disposition")]


class ProviderDocumentsController(Controller):
    path = "/v1/provider/documents"
    tags = ["provider"]

    # The limit is the documents' own (a setting, read per request) and is enforced while the
    # body arrives, so the app-wide limit for JSON bodies is lifted for this route only.
    @post("/", opt=PROVIDER, status_code=201, request_max_body_size=None)
    async def upload(self, request: Request, purpose: Purpose, filename: Filename = None) -> Response[dict[str, Any]]:
        """R-4, R-16, R-19: the body is the file itself (not multipart), sent with its own
        Content-Type; its name in `filename` or Content-Disposition. PDF, DOCX, ODT, PNG or JPEG,
        at most 20 MB. An optional Repr-Digest (`sha-256=:<base64>:`) or X-Checksum-SHA256 is
        checked. Answers the document's metadata with the SHA-256 computed here."""
        if _media_type(request.headers.get("content-type")).startswith("multipart/"):
            raise Problem(
                415,
                "Send the file itself",
                "The body is the file, with the file's Content-Type; multipart forms are not accepted.",
                errors=[FieldProblem("content_type", "send the file's own type, e.g. application/pdf")],
            )
        limit = max_document_bytes(request)
        checksum = _checksum_or_problem(request)
        content = await read_upload(request, limit)
        stored = await run(
            request,
            store_document,
            organisation_id=request.state.principal.organisation_id,
            uploaded_by=request.state.principal.person_id,
            purpose=purpose,
            filename=filename or filename_from_content_disposition(request.headers.get("content-disposition")),
            content_type=request.headers.get("content-type"),
            content=content,
            now=request.app.state.runtime.clock.now(),
            max_bytes=limit,
            checksum=checksum,
        )
        return Response(stored, status_code=201, headers={"Location": f"{self.path}/{stored['document_id']}"})

    @get("/", opt=PROVIDER)
    async def list_documents(self, request: Request, purpose: Purpose | None = None) -> list[dict[str, Any]]:
        """The organisation's documents (metadata only), newest first."""
        return await run(request, documents_of, organisation_id=request.state.principal.organisation_id, purpose=purpose)

    @get("/{document_id:uuid}", opt=PROVIDER)
    async def download(self, request: Request, document_id: UUID) -> Response[bytes]:
        """Only the organisation that uploaded it; another organisation's is refused (403, audited)."""
        found = await run(request, document, document_id=document_id, organisation_id=request.state.principal.organisation_id)
        return download_response(found)


class BackOfficeDocumentsController(Controller):
    path = "/v1/back-office/documents"
    tags = ["back office"]

    @get("/{document_id:uuid}", opt=CASE_HANDLER)
    async def download(self, request: Request, document_id: UUID) -> Response[bytes]:
        """Any organisation's document, for the case handlers."""
        found = await run(request, document, document_id=document_id, organisation_id=None)
        return download_response(found)


def _checksum_or_problem(request: Request) -> tuple[str, str] | None:
    try:
        return expected_sha256(request.headers)
    except Invalid as error:
        raise Problem(422, "The request is not valid", errors=[FieldProblem(v.field, v.reason) for v in error.violations]) from None


ROUTES = [ProviderDocumentsController, BackOfficeDocumentsController]
