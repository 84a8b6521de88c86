"""HTTP of uploaded documents (R-4, R-16, R-19): the raw file as the request body (not
multipart), its Content-Type the file's type, its name from `filename` or Content-Disposition, an
optional checksum header; the download with headers that keep a browser from running it."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.enums import ParamType
from litestar.openapi.spec import OpenAPIFormat, OpenAPIHeader, OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, RequestBody, Schema
from litestar.openapi.spec import Parameter as OpenAPIParameter
from litestar.params import Parameter

from registration.documents import (
    ACCEPTED,
    KINDS,
    MAX_DOCUMENT_BYTES,
    Purpose,
    content_disposition,
    expected_sha256,
    filename_from_content_disposition,
    media_type,
)
from registration.use_cases import documents
from registration.views.common import PROVIDER, case_handler_access, provider_access
from registration.views.schemas import DocumentOut, DossierDocumentOut
from service_runtime import paging
from service_runtime.api import Page, page_of, pick
from service_runtime.errors import Invalid
from service_runtime.http import Context, FieldProblem, Problem, problem_for
from service_runtime.paging import Cursor, Limit


def max_document_bytes(settings: Any) -> int:
    """The `max_document_bytes` setting of the service, if it has one; else the default limit."""
    return int(getattr(settings, "max_document_bytes", None) or MAX_DOCUMENT_BYTES)


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        detail=f"The file is too large: a document is at most {limit} bytes ({limit // (1024 * 1024)} MB).",
        errors=[FieldProblem("file", f"at most {limit} bytes")],
    )


async def read_upload(request: Request[Any, Any, Any], limit: int) -> bytes:
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


def _checksum(request: Request[Any, Any, Any]) -> tuple[str, str] | None:
    try:
        return expected_sha256(request.headers)
    except Invalid as error:  # read before the body arrives, so before any use case runs
        raise problem_for(error) from None


Filename = Annotated[str | None, Parameter(min_length=1, max_length=1000, description="the file's name; or give it in Content-Disposition")]

# What an upload's Content-Type may say: the accepted kinds' own types (a type a client may also
# send for a kind, like application/zip for a DOCX, works too) or "no idea".
UPLOAD_MEDIA_TYPES = (*(kind.content_type for kind in KINDS), "application/octet-stream")
_FILE = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description="the file's bytes")
_TEXT = Schema(type=OpenAPIType.STRING)


@dataclass
class UploadOperation(Operation):
    """The document's upload: the body is the raw file (the handler streams it with its own size
    limit, so Litestar does not read it and cannot describe it)."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description=f"The file itself ({ACCEPTED}, at most 20 MB), sent with its own Content-Type; judged by its bytes.",
            content={media: OpenAPIMediaType(schema=_FILE) for media in UPLOAD_MEDIA_TYPES},
        )
        self.parameters = [
            *(self.parameters or []),
            OpenAPIParameter(
                name="Content-Disposition",
                param_in=ParamType.HEADER,
                required=False,
                description="the file's name when `filename` is not given: attachment; filename*=UTF-8''<name>",
                schema=_TEXT,
            ),
            OpenAPIParameter(
                name="Repr-Digest",
                param_in=ParamType.HEADER,
                required=False,
                description="sha-256=:<base64>: of the file, checked against what arrived (or X-Checksum-SHA256 with the hex digest)",
                schema=_TEXT,
            ),
        ]
        created = (self.responses or {}).get("201")
        if isinstance(created, OpenAPIResponse):
            created.headers = {**(created.headers or {}), "Location": OpenAPIHeader(schema=_TEXT, required=True, description="the document's download")}


_DOWNLOAD_HEADERS = {
    "Content-Disposition": "attachment, with the file's name",
    "Repr-Digest": "sha-256=:<base64>: of the file",
    "ETag": "the file's SHA-256, quoted",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}


@dataclass
class DownloadOperation(Operation):
    """The document's download: the file's bytes with the type judged at upload, not JSON."""

    def __post_init__(self) -> None:
        self.responses = {
            **(self.responses or {}),
            "200": OpenAPIResponse(
                description=f"The file ({ACCEPTED}), with headers that keep a browser from running it",
                content={kind.content_type: OpenAPIMediaType(schema=_FILE) for kind in KINDS},
                headers={name: OpenAPIHeader(schema=_TEXT, required=True, description=description) for name, description in _DOWNLOAD_HEADERS.items()},
            ),
        }


class ProviderDocumentsController(Controller):
    path = "/v1/provider/documents"
    tags = ["provider"]

    # The limit is the documents' own (a setting, read per request) and is enforced while the
    # body arrives, so the app-wide limit for JSON bodies is lifted for this route only.
    @post(
        "/",
        opt=provider_access(415),
        status_code=201,
        request_max_body_size=None,
        operation_class=UploadOperation,
    )
    async def upload(self, ctx: Context, request: Request[Any, Any, Any], purpose: Purpose, filename: Filename = None) -> Response[DocumentOut]:
        """R-4, R-16, R-19: the body is the file itself (not multipart, 415), sent with its own
        Content-Type; its name in `filename` or Content-Disposition. PDF, DOCX, ODT, PNG or JPEG,
        at most 20 MB (413). An optional Repr-Digest (`sha-256=:<base64>:`) or X-Checksum-SHA256 is
        checked. Answers the document's metadata with the SHA-256 computed here."""
        if media_type(request.headers.get("content-type")).startswith("multipart/"):
            raise Problem(
                415,
                detail="Send the file itself: the body is the file, with the file's Content-Type; multipart forms are not accepted.",
                errors=[FieldProblem("content_type", "send the file's own type, e.g. application/pdf")],
            )
        limit = max_document_bytes(ctx.settings)
        checksum = _checksum(request)
        content = await read_upload(request, limit)
        stored = await ctx.run(
            documents.store_document,
            read_only=True,  # one INSERT
            organisation_id=ctx.principal.organisation_id,
            uploaded_by=ctx.principal.person_id,
            purpose=purpose,
            filename=filename or filename_from_content_disposition(request.headers.get("content-disposition")),
            content_type=request.headers.get("content-type"),
            content=content,
            now=ctx.clock.now(),
            max_bytes=limit,
            checksum=checksum,
        )
        return Response(pick(DocumentOut, stored), status_code=201, headers={"Location": f"{self.path}/{stored['document_id']}"})

    @get("/", opt=PROVIDER)
    async def list_documents(
        self, ctx: Context, purpose: Purpose | None = None, limit: Limit = paging.DEFAULT_LIMIT, cursor: Cursor = None
    ) -> Page[DocumentOut]:
        """The organisation's documents (metadata only), newest first."""
        found = await ctx.run(
            documents.documents_of, read_only=True, organisation_id=ctx.principal.organisation_id, purpose=purpose, limit=limit, cursor=cursor
        )
        return page_of(DocumentOut, found)

    @get("/{document_id:uuid}", opt=provider_access(404), operation_class=DownloadOperation)
    async def download(self, ctx: Context, document_id: UUID) -> Response[bytes]:
        """Only the organisation that uploaded it; another organisation's is refused (403, audited)."""
        return download_response(await ctx.run(documents.document, read_only=True, document_id=document_id, organisation_id=ctx.principal.organisation_id))


class BackOfficeDocumentsController(Controller):
    path = "/v1/back-office/documents"
    tags = ["back office"]

    @get("/{document_id:uuid}", opt=case_handler_access(404), operation_class=DownloadOperation)
    async def download(self, ctx: Context, document_id: UUID) -> Response[bytes]:
        """Any organisation's document, for the case handlers."""
        return download_response(await ctx.run(documents.document, read_only=True, document_id=document_id, organisation_id=None))


class DossierDocumentsController(Controller):
    path = "/v1/back-office/applications"
    tags = ["back office"]

    @get("/{application_id:uuid}/documents", opt=case_handler_access(404))
    async def documents_of_dossier(self, ctx: Context, application_id: UUID) -> list[DossierDocumentOut]:
        """The dossier's documents (metadata, never content): attached to the application (R-16,
        at most 20) and to the answers to its questions (R-19), oldest first; each downloads from
        /v1/back-office/documents/{document_id}."""
        found = await ctx.run(documents.documents_of_application, read_only=True, application_id=application_id)
        return [pick(DossierDocumentOut, document) for document in found]
