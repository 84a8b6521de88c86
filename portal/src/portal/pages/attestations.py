"""Attestations for Flemish training leave (A-1 to A-9): a provider's staff attest enrolments and
attendance one by one or with a file, correct and withdraw them, and read each receipt (A-9) with
its report; a student sees their own training leave as a citizen (A-6).

The national register number is only ever POSTed (never in a URL, the query strings are logged)
and shown masked afterwards. A bulk file is streamed: the browser's multipart upload is parsed as
it arrives and only the file's bytes go on to the attestation service's `POST /v1/provider/bulk`
with the file's own content type; its CSRF token travels in the form's action URL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import multipart  # type: ignore[import-untyped]
from litestar import Request, get, post
from litestar.response import Redirect, Template

from portal import web
from portal.api import ApiProblem

SERVICE = "attestation"

STATUS_TEXT = {"accepted": "Aanvaard", "held": "In wacht (ODB-nummer nog niet gekend)", "refused": "Geweigerd", "withdrawn": "Ingetrokken"}
OUTCOME_TEXT = {"accepted": "aanvaard", "held": "in wacht gezet: het ODB-nummer is nog niet gekend en wordt later beoordeeld", "unchanged": "ongewijzigd (al zo geattesteerd)"}  # fmt: skip
RECEIPT_STATUS = {"processing": "Wordt verwerkt", "done": "Verwerkt", "rejected": "Geweigerd als geheel", "incomplete": "Onvolledig: stuur het bestand opnieuw"}  # fmt: skip
FIELD_NAMES = {
    "reference": "referentie",
    "odb_number": "ODB-nummer",
    "module": "module",
    "national_register_number": "rijksregisternummer",
    "last_name": "naam",
    "first_name": "voornaam",
    "starts_on": "startdatum",
    "ends_on": "einddatum",
    "period_from": "periode van",
    "period_to": "periode tot",
    "hours": "uren",
    "completed": "leerproces doorlopen",
    "kind": "soort",
    "file": "bestand",
    "encoding": "tekenset",
    "content_type": "bestandstype",
    "header": "kolommen",
}
FILE_TYPES = {".csv": "text/csv", ".jsonl": "application/jsonl", ".ndjson": "application/x-ndjson"}
ACCEPTED_TYPES = ("text/csv", "application/jsonl", "application/x-ndjson")


def masked(number: str) -> str:
    """85.07.30-***.**: the birth date part only."""
    digits = "".join(c for c in number if c.isdigit())
    return f"{digits[0:2]}.{digits[2:4]}.{digits[4:6]}-***.**" if len(digits) == 11 else "***"


def _context() -> dict[str, Any]:
    return {"status_text": STATUS_TEXT, "receipt_status": RECEIPT_STATUS, "field_names": FIELD_NAMES}


# ------------------------------------------------------------------------------- overview


@get("/attesten")
async def overview(request: Request[Any, Any, Any], inschrijvingen: str | None = None, aanwezigheden: str | None = None) -> Template:
    return await _overview(request, enrolments_cursor=inschrijvingen, attendances_cursor=aanwezigheden)


async def _overview(
    request: Request[Any, Any, Any], *, enrolments_cursor: str | None = None, attendances_cursor: str | None = None, status_code: int = 200, **context: Any
) -> Template:
    web.organisation_id(request)
    api = web.api_of(request)
    enrolments = await api.get(SERVICE, "/v1/provider/enrolments", params={"limit": 20, "cursor": enrolments_cursor})
    attendances = await api.get(SERVICE, "/v1/provider/attendances", params={"limit": 20, "cursor": attendances_cursor})
    receipts = await api.get(SERVICE, "/v1/provider/receipts", params={"limit": 10})
    return web.page(
        request,
        "attestations/overview.html",
        status_code=status_code,
        title="Attesten Vlaams opleidingsverlof",
        enrolments=enrolments,
        attendances=attendances,
        receipts=receipts["items"],
        **_context(),
        **context,
    )


# ------------------------------------------------------------------------------- one by one

ENROLMENT_FIELDS = ("reference", "odb_number", "module", "national_register_number", "last_name", "first_name", "starts_on", "ends_on")
ATTENDANCE_FIELDS = ("reference", "odb_number", "module", "national_register_number", "period_from", "period_to", "hours", "completed")


def _form_page(request: Request[Any, Any, Any], template: str, title: str, *, status_code: int = 200, **context: Any) -> Template:
    return web.page(request, template, status_code=status_code, title=title, **_context(), **context)


@get("/attesten/inschrijving")
async def enrolment_page(request: Request[Any, Any, Any]) -> Template:
    web.organisation_id(request)
    return _form_page(request, "attestations/enrolment.html", "Inschrijving attesteren")


@post("/attesten/inschrijving")
async def attest_enrolment(request: Request[Any, Any, Any]) -> Template | Redirect:
    """A-2, A-4, A-7, A-8: one student's enrolment; the receipt (A-9) afterwards."""
    form = await web.form_of(request)
    typed = web.values(form, *ENROLMENT_FIELDS)
    try:
        attested = await web.api_of(request).post(SERVICE, "/v1/provider/enrolments", typed)
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        return web.form_errors(request, "attestations/enrolment.html", problem, values=typed, title="Inschrijving attesteren", **_context())
    return _attested(request, attested, f"Inschrijving van {typed['first_name']} {typed['last_name']} ({masked(typed['national_register_number'])})")


def _attested(request: Request[Any, Any, Any], attested: dict[str, Any], what: str) -> Redirect:
    outcome = OUTCOME_TEXT.get(attested["outcome"], attested["outcome"])
    receipt = attested["receipt"]
    return web.redirect(f"/attesten/ontvangstbewijzen/{receipt['receipt_id']}", message=f"{what}: {outcome}.", request=request)


@get("/attesten/aanwezigheid")
async def attendance_page(request: Request[Any, Any, Any]) -> Template:
    web.organisation_id(request)
    return _form_page(request, "attestations/attendance.html", "Aanwezigheid attesteren", values={"completed": ""})


@post("/attesten/aanwezigheid")
async def attest_attendance(request: Request[Any, Any, Any]) -> Template | Redirect:
    """A-2, A-3, A-5: hours attended on the enrolment's ODB number; for a blended module whether
    the learning process was completed."""
    form = await web.form_of(request)
    typed = web.values(form, *ATTENDANCE_FIELDS)
    body: dict[str, Any] = {**typed, "hours": typed["hours"].replace(",", "."), "completed": {"ja": True, "nee": False}.get(typed["completed"])}
    try:
        attested = await web.api_of(request).post(SERVICE, "/v1/provider/attendances", body)
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        return web.form_errors(request, "attestations/attendance.html", problem, values=typed, title="Aanwezigheid attesteren", **_context())
    return _attested(request, attested, f"Aanwezigheid ({typed['hours']} uur, {masked(typed['national_register_number'])})")


@get("/attesten/inschrijvingen/{attestation_id:uuid}/corrigeren")
async def correction_page(request: Request[Any, Any, Any], attestation_id: uuid.UUID) -> Template:
    web.organisation_id(request)
    enrolment = await web.api_of(request).get(SERVICE, f"/v1/provider/enrolments/{attestation_id}")
    values = {k: str(enrolment.get(k) or "") for k in ENROLMENT_FIELDS if k != "national_register_number"}
    return _form_page(request, "attestations/correction.html", "Inschrijving corrigeren", enrolment=enrolment, values=values)


@post("/attesten/inschrijvingen/{attestation_id:uuid}/corrigeren")
async def correct_enrolment(request: Request[Any, Any, Any], attestation_id: uuid.UUID) -> Template | Redirect:
    """A correction: a new version under the enrolment's reference (the old one kept)."""
    form = await web.form_of(request)
    api = web.api_of(request)
    enrolment = await api.get(SERVICE, f"/v1/provider/enrolments/{attestation_id}")
    typed = {**web.values(form, *ENROLMENT_FIELDS), "reference": enrolment["reference"]}
    try:
        attested = await api.put(SERVICE, f"/v1/provider/enrolments/{attestation_id}", typed)
    except ApiProblem as problem:
        if problem.status not in (409, 422):
            raise
        return web.form_errors(
            request, "attestations/correction.html", problem, values=typed, title="Inschrijving corrigeren", enrolment=enrolment, **_context()
        )
    return _attested(request, attested, f"Correctie van inschrijving {enrolment['reference']}")


@post("/attesten/inschrijvingen/{attestation_id:uuid}/intrekken")
async def withdraw_enrolment(request: Request[Any, Any, Any], attestation_id: uuid.UUID) -> Template | Redirect:
    """Withdraw an enrolment; one with attendance on it is refused (A-3)."""
    return await _withdraw(request, "enrolments", attestation_id)


@post("/attesten/aanwezigheden/{attestation_id:uuid}/intrekken")
async def withdraw_attendance(request: Request[Any, Any, Any], attestation_id: uuid.UUID) -> Template | Redirect:
    return await _withdraw(request, "attendances", attestation_id)


async def _withdraw(request: Request[Any, Any, Any], path: str, attestation_id: uuid.UUID) -> Template | Redirect:
    await web.form_of(request)
    try:
        withdrawn = await web.api_of(request).delete(SERVICE, f"/v1/provider/{path}/{attestation_id}")
    except ApiProblem as problem:
        if problem.status != 409:
            raise
        return await _overview(request, status_code=409, problem=problem)
    return web.redirect("/attesten", message=f"Attest {withdrawn['reference']} is ingetrokken.", request=request)


# ------------------------------------------------------------------------------- receipts


@get("/attesten/ontvangstbewijzen/{receipt_id:uuid}")
async def receipt_page(request: Request[Any, Any, Any], receipt_id: uuid.UUID, vanaf: str | None = None) -> Template:
    """A-9: the acknowledgement of receipt, and for a file each refused row (row, field, reason, rule)."""
    web.organisation_id(request)
    api = web.api_of(request)
    receipt = await api.get(SERVICE, f"/v1/provider/receipts/{receipt_id}")
    problems = await api.get(SERVICE, f"/v1/provider/receipts/{receipt_id}/problems", params={"limit": 100, "cursor": vanaf})
    return web.page(
        request,
        "attestations/receipt.html",
        title=f"Ontvangstbewijs {receipt['receipt_number']}",
        receipt=receipt,
        problems=problems["items"],
        next_cursor=problems.get("next_cursor"),
        first_page=vanaf is None,
        **_context(),
    )


# ------------------------------------------------------------------------------- a file


class UploadRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def _file_of(request: Request[Any, Any, Any]) -> tuple[str, str, AsyncIterator[bytes]]:
    """The uploaded file's name, content type and bytes, read from the multipart body as it arrives."""
    content_type, options = multipart.parse_options_header(request.headers.get("content-type", ""))
    if content_type != "multipart/form-data" or not options.get("boundary"):
        raise UploadRefused("Kies een bestand en verstuur het met het formulier.")
    parser = multipart.PushMultipartParser(options["boundary"], max_header_count=8)

    async def events() -> AsyncIterator[Any]:
        async for chunk in request.stream():
            if chunk:
                for event in parser.parse(chunk):
                    yield event
        for event in parser.parse(b""):
            yield event

    stream = events()
    segment = None
    async for event in stream:
        if isinstance(event, multipart.MultipartSegment) and event.name == "bestand":
            segment = event
            break
    if segment is None or not segment.filename:
        raise UploadRefused("Kies een bestand.")
    filename = segment.filename.replace("\\", "/").rsplit("/", 1)[-1]
    first = await anext(stream, None)
    if not first or isinstance(first, multipart.MultipartSegment):
        raise UploadRefused(f"Het bestand {filename} is leeg.")
    given = (segment.content_type or "").split(";")[0].strip().lower()
    extension = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    file_type = given if given in ACCEPTED_TYPES else FILE_TYPES.get(extension, given or "application/octet-stream")

    async def body() -> AsyncIterator[bytes]:
        yield bytes(first)
        async for event in stream:
            if event is None or isinstance(event, multipart.MultipartSegment):
                break
            yield bytes(event)

    return filename, file_type, body()


@post("/attesten/bestand")
async def upload(request: Request[Any, Any, Any]) -> Template | Redirect:
    """A-2 to A-9: many attestations at once; the answer is the receipt with its report."""
    web.check_csrf_query(request)
    web.organisation_id(request)
    try:
        filename, file_type, content = await _file_of(request)
    except (UploadRefused, multipart.ParserError) as refused:
        message = refused.message if isinstance(refused, UploadRefused) else "Het bestand kwam niet goed aan. Probeer het opnieuw."
        return await _overview(request, status_code=422, errors={"bestand": message})
    try:
        response = await web.api_of(request).request(
            SERVICE, "POST", "/v1/provider/bulk", params={"filename": filename}, headers={"content-type": file_type}, content=content
        )
    except ApiProblem as problem:
        if problem.status not in (413, 415, 422):
            raise
        reasons = "; ".join(
            f"{FIELD_NAMES.get(str(e.get('field')), e.get('field'))}: {e.get('reason')}" + (f" (regel {e['rule']})" if e.get("rule") else "")
            for e in problem.errors
        )
        return await _overview(request, status_code=422, errors={"bestand": f"{filename} is niet aanvaard. {problem.detail} {reasons}".strip()})
    receipt = response.json()
    return web.redirect(f"/attesten/ontvangstbewijzen/{receipt['receipt_id']}", message=f"Het bestand {filename} is ontvangen.", request=request)


# ------------------------------------------------------------------------------- the citizen


@get("/burger/opleidingsverlof")
async def my_training_leave(request: Request[Any, Any, Any]) -> Template | Redirect:
    """The student's own enrolments and attendance, and per school year whether the 32 hours are
    reached (A-6); nothing of anyone else (the token is the citizen's own)."""
    session = web.signed_in(request)
    tile = session.acting_for
    if not tile or tile.get("kind") != "citizen":
        session.flash("Kies eerst de tegel ‘Als burger’.", kind="info")
        return Redirect("/kies", status_code=303)
    leave = await web.api_of(request).get(SERVICE, "/v1/citizen/training-leave")
    return web.page(request, "attestations/citizen.html", title="Mijn opleidingsverlof", leave=leave, **_context())


ROUTES: list[Any] = [
    overview,
    enrolment_page,
    attest_enrolment,
    attendance_page,
    attest_attendance,
    correction_page,
    correct_enrolment,
    withdraw_enrolment,
    withdraw_attendance,
    receipt_page,
    upload,
    my_training_leave,
]
