"""HTTP of uploaded documents (R-4, R-16, R-19): the raw file as the request body (not
multipart), its Content-Type the file's type, its name from `filename` or Content-Disposition, an
optional checksum header; the download with headers that keep a browser from running it."""

from __future__ import annotations

import base64
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from registration.documents import MAX_DOCUMENT_BYTES, Purpose, content_disposition, expected_sha256, filename_from_content_disposition, media_type
from registration.use_cases import documents
from registration.views.common import CASE_HANDLER, PROVIDER
from service_runtime.errors import Invalid
from service_runtime.http import Context, FieldProblem, Problem, problem_for


def max_document_bytes(settings: Any) -> int:
    """The `max_document_bytes` setting of the service, if it has one; else the default limit."""
    return int(getattr(settings, "max_document_bytes", None) or MAX_DOCUMENT_BYTES)


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        "The file is too large",
        f"A document is at most {limit} bytes ({limit // (1024 * 1024)} MB).",
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


Filename = Annotated[str | None, Parameter(max_length=1000, description="the file's name; or give it in Content-Disposition")]


class ProviderDocumentsController(Controller):
    path = "/v1/provider/documents"
    tags = ["provider"]

    # The limit is the documents' own (a setting, read per request) and is enforced while the
    # body arrives, so the app-wide limit for JSON bodies is lifted for this route only.
    @post("/", opt=PROVIDER, status_code=201, request_max_body_size=None)
    async def upload(self, ctx: Context, request: Request[Any, Any, Any], purpose: Purpose, filename: Filename = None) -> Response[dict[str, Any]]:
        """R-4, R-16, R-19: the body is the file itself (not multipart), sent with its own
        Content-Type; its name in `filename` or Content-Disposition. PDF, DOCX, ODT, PNG or JPEG,
        at most 20 MB. An optional Repr-Digest (`sha-256=:<base64>:`) or X-Checksum-SHA256 is
        checked. Answers the document's metadata with the SHA-256 computed here."""
        if media_type(request.headers.get("content-type")).startswith("multipart/"):
            raise Problem(
                415,
                "Send the file itself",
                "The body is the file, with the file's Content-Type; multipart forms are not accepted.",
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
        return Response(stored, status_code=201, headers={"Location": f"{self.path}/{stored['document_id']}"})

    @get("/", opt=PROVIDER)
    async def list_documents(self, ctx: Context, purpose: Purpose | None = None) -> list[dict[str, Any]]:
        """The organisation's documents (metadata only), newest first."""
        return await ctx.run(documents.documents_of, read_only=True, organisation_id=ctx.principal.organisation_id, purpose=purpose)

    @get("/{document_id:uuid}", opt=PROVIDER)
    async def download(self, ctx: Context, document_id: UUID) -> Response[bytes]:
        """Only the organisation that uploaded it; another organisation's is refused (403, audited)."""
        return download_response(await ctx.run(documents.document, read_only=True, document_id=document_id, organisation_id=ctx.principal.organisation_id))


class BackOfficeDocumentsController(Controller):
    path = "/v1/back-office/documents"
    tags = ["back office"]

    @get("/{document_id:uuid}", opt=CASE_HANDLER)
    async def download(self, ctx: Context, document_id: UUID) -> Response[bytes]:
        """Any organisation's document, for the case handlers."""
        return download_response(await ctx.run(documents.document, read_only=True, document_id=document_id, organisation_id=None))
