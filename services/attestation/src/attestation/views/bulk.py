"""HTTP of a bulk file of attestations (A-1 to A-9): the raw file as the body (not multipart),
CSV or JSON Lines, streamed to the use case; the answer is the receipt."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from typing import Annotated, Any

from litestar import Controller, Request, Response, post
from litestar.enums import ParamType
from litestar.openapi.spec import OpenAPIFormat, OpenAPIHeader, OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, RequestBody, Schema
from litestar.openapi.spec import Parameter as OpenAPIParameter
from litestar.params import Parameter

from attestation import bulk as files
from attestation.use_cases import bulk
from attestation.views.common import keys_of, organisation_of, provider_access
from attestation.views.schemas import ReceiptOut
from service_runtime.api import pick
from service_runtime.http import Context, FieldProblem, Problem

Filename = Annotated[str | None, Parameter(min_length=1, max_length=200, description="the file's name; or give it in Content-Disposition")]


def filename_from_content_disposition(value: str | None) -> str | None:
    """The filename (RFC 6266, also `filename*=UTF-8''...`) of a Content-Disposition header."""
    if not value:
        return None
    message = Message()
    message["content-disposition"] = value
    try:
        found = message.get_filename()
    except Exception:
        return None
    return found or None


def shown_filename(name: str | None) -> str | None:
    """The file's name as the receipt and the email show it: no control characters (a NUL cannot
    be stored, a line break does not belong in a subject), at most 200 characters."""
    if name is None:
        return None
    name = "".join(c for c in name if c >= " " and c != "\x7f").strip()[:200]
    return name or None


def _too_large(limit: int) -> Problem:
    return Problem(
        413,
        detail=f"The file is too large: a bulk file is at most {limit} bytes ({limit // 1_000_000} MB).",
        errors=[FieldProblem("file", f"at most {limit} bytes")],
    )


def _refused(refusal: files.FileRefused) -> Problem:
    return Problem(
        422,
        detail="The file is refused as a whole and nothing of it is stored: correct what errors lists and send it again.",
        errors=[FieldProblem(v.field, v.reason, v.rule) for v in refusal.problems],
    )


_FILE = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description="the file's bytes")
_TEXT = Schema(type=OpenAPIType.STRING)


@dataclass
class BulkOperation(Operation):
    """The body is the raw file (the handler streams it with its own size limit, so Litestar does not read it and cannot describe it)."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description=(
                "The file itself: CSV (comma or semicolon, UTF-8 with or without BOM, a header line with English or Dutch column names) "
                "or JSON Lines (one object per line with the same names)."
            ),
            content={media: OpenAPIMediaType(schema=_FILE) for media in ("text/csv", "application/jsonl", "application/x-ndjson")},
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
        ]
        created = (self.responses or {}).get("201")
        if isinstance(created, OpenAPIResponse):
            created.headers = {**(created.headers or {}), "Location": OpenAPIHeader(schema=_TEXT, required=True, description="the receipt")}


class BulkController(Controller):
    path = "/v1/provider/bulk"
    tags = ["provider"]

    # The limit is the bulk files' own (a setting, read per request) and is enforced while the body
    # arrives, so the app-wide limit for JSON bodies is lifted for this route only.
    @post("/", opt=provider_access(415), status_code=201, request_max_body_size=None, operation_class=BulkOperation)
    async def upload(self, ctx: Context, request: Request[Any, Any, Any], filename: Filename = None) -> Response[ReceiptOut]:
        """A-2 to A-9: many attestations at once. The body is the file itself, `text/csv` or
        `application/jsonl` (`application/x-ndjson`), streamed; its name in `filename` or
        Content-Disposition. Refused as a whole, with nothing stored: a file over the size limit
        (413), not UTF-8 (422, field `encoding`), an unknown header or a missing column (422
        naming it). Otherwise every row is checked and the valid ones stored; the answer is the
        receipt (A-9) with its counts, the refused rows are in its report
        (`/v1/provider/receipts/{id}/problems`: row number, field, reason, rule), and the
        organisation's contact address gets the summary by email. The same file again stores
        nothing twice (each attestation is idempotent on its reference); a file cut off on the way
        leaves the receipt `incomplete`: send it again."""
        filename = shown_filename(filename or filename_from_content_disposition(request.headers.get("content-disposition")))
        format = files.format_of(request.headers.get("content-type"), filename)
        if format is None:
            raise Problem(
                415,
                detail="Send the file itself as text/csv or application/jsonl (application/x-ndjson); multipart forms are not accepted.",
                errors=[FieldProblem("content_type", "text/csv, application/jsonl or application/x-ndjson")],
            )
        settings = ctx.settings
        limit = int(settings.bulk_max_bytes)
        if (announced := request.content_length) is not None and announced > limit:
            raise _too_large(limit)
        organisation_id, now = organisation_of(ctx.principal), ctx.clock.now()
        receipt_id = await ctx.run(bulk.open_receipt, organisation_id=organisation_id, actor_id=ctx.principal.person_id, filename=filename, now=now)
        with bulk.Spool(settings.bulk_spool_dir) as spool:
            try:
                received = await bulk.receive(request.stream(), spool=spool, format=format, limit=limit)
            except files.TooLarge:
                await ctx.run(bulk.reject, receipt_id=receipt_id)
                raise _too_large(limit) from None
            except files.FileRefused as refusal:
                await ctx.run(bulk.reject, receipt_id=receipt_id)
                raise _refused(refusal) from None
            except BaseException:  # the client went away before the whole file arrived
                await ctx.run(bulk.cut_off, organisation_id=organisation_id, receipt_id=receipt_id)
                raise
            receipt = await ctx.run(
                bulk.ingest, read_only=True,  # a transaction per batch, its own
                keys=keys_of(settings), organisation_id=organisation_id, receipt_id=receipt_id, spool=spool, received=received,
                batch_rows=int(settings.bulk_batch_rows), now=now,
            )  # fmt: skip
        return Response(pick(ReceiptOut, receipt), status_code=201, headers={"Location": f"/v1/provider/receipts/{receipt_id}"})
