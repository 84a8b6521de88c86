"""HTTP of provider staff (A-1): single attestations with their receipt, the organisation's own
attestations, corrections and withdrawals, receipts and their reports. Parse, call, answer."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, post, put
from litestar.params import Parameter

from attestation.domain import Kind
from attestation.rows import Row
from attestation.use_cases import provider
from attestation.views.common import ODB_FILTER_PATTERN, keys_of, organisation_of, provider_access
from attestation.views.schemas import (
    AttendanceIn,
    AttestationOut,
    AttestedOut,
    EnrolmentIn,
    HistoryOut,
    ProblemRow,
    ReceiptOut,
    VersionContent,
)
from service_runtime import paging
from service_runtime.api import Page, page_of, pick
from service_runtime.http import Context, strict_json_body
from service_runtime.paging import Cursor, Limit

SchoolYear = Annotated[str | None, Parameter(pattern=r"^[0-9]{4}-[0-9]{4}$", description="e.g. 2026-2027")]
OdbFilter = Annotated[str | None, Parameter(min_length=4, max_length=30, pattern=ODB_FILTER_PATTERN, description="an ODB number, e.g. ODB-12345")]


def enrolment_row(data: EnrolmentIn, reference: str | None = None) -> Row:
    return Row(
        1, Kind.ENROLMENT, reference or data.reference, data.odb_number.upper(), data.module.strip(), "".join(c for c in data.national_register_number if c.isdigit()),
        last_name=data.last_name, first_name=data.first_name, starts_on=data.starts_on, ends_on=data.ends_on,
    )  # fmt: skip


def attendance_row(data: AttendanceIn) -> Row:
    return Row(
        1, Kind.ATTENDANCE, data.reference, data.odb_number.upper(), data.module.strip(), "".join(c for c in data.national_register_number if c.isdigit()),
        period_from=data.period_from, period_to=data.period_to, hours=data.hours, completed=data.completed,
    )  # fmt: skip


class ProviderController(Controller):
    path = "/v1/provider"
    tags = ["provider"]
    before_request = staticmethod(strict_json_body)

    @post("/enrolments", opt=provider_access(), status_code=201)
    async def attest_enrolment(self, ctx: Context, data: EnrolmentIn) -> AttestedOut:
        """A-2, A-4, A-7, A-8: a student's enrolment, checked against the register; the receipt (A-9)
        in the answer. The same reference and content again: `unchanged`; other content: a
        correction. An ODB number the register does not know yet: `held`, judged when it does."""
        return pick(
            AttestedOut,
            await ctx.run(
                provider.attest_one, keys=keys_of(ctx.settings), actor_id=ctx.principal.person_id, organisation_id=organisation_of(ctx.principal),
                row=enrolment_row(data), now=ctx.clock.now(),
            ),
        )  # fmt: skip

    @post("/attendances", opt=provider_access(), status_code=201)
    async def attest_attendance(self, ctx: Context, data: AttendanceIn) -> AttestedOut:
        """A-2, A-3, A-5: hours attended in a period on the enrolment's ODB number (its reference),
        with the receipt (A-9)."""
        return pick(
            AttestedOut,
            await ctx.run(
                provider.attest_one, keys=keys_of(ctx.settings), actor_id=ctx.principal.person_id, organisation_id=organisation_of(ctx.principal),
                row=attendance_row(data), now=ctx.clock.now(),
            ),
        )  # fmt: skip

    @get("/enrolments", opt=provider_access())
    async def enrolments(
        self, ctx: Context, odb_number: OdbFilter = None, school_year: SchoolYear = None, limit: Limit = paging.DEFAULT_LIMIT, cursor: Cursor = None
    ) -> Page[AttestationOut]:
        """The organisation's own enrolments, the last changed first."""
        found = await ctx.run(
            provider.attestations, read_only=True, organisation_id=organisation_of(ctx.principal), kind=Kind.ENROLMENT, odb_number=odb_number,
            school_year=school_year, limit=limit, cursor=cursor,
        )  # fmt: skip
        return page_of(AttestationOut, found)

    @get("/attendances", opt=provider_access())
    async def attendances(
        self, ctx: Context, odb_number: OdbFilter = None, school_year: SchoolYear = None, limit: Limit = paging.DEFAULT_LIMIT, cursor: Cursor = None
    ) -> Page[AttestationOut]:
        """The organisation's own attendance attestations, the last changed first."""
        found = await ctx.run(
            provider.attestations, read_only=True, organisation_id=organisation_of(ctx.principal), kind=Kind.ATTENDANCE, odb_number=odb_number,
            school_year=school_year, limit=limit, cursor=cursor,
        )  # fmt: skip
        return page_of(AttestationOut, found)

    @get("/enrolments/{attestation_id:uuid}", opt=provider_access(404))
    async def enrolment(self, ctx: Context, attestation_id: UUID) -> AttestationOut:
        """One of the organisation's enrolments; another organisation's does not exist for it (404)."""
        return await _one(ctx, Kind.ENROLMENT, attestation_id)

    @get("/attendances/{attestation_id:uuid}", opt=provider_access(404))
    async def attendance(self, ctx: Context, attestation_id: UUID) -> AttestationOut:
        """One of the organisation's attendance attestations; another organisation's: 404."""
        return await _one(ctx, Kind.ATTENDANCE, attestation_id)

    @get("/enrolments/{attestation_id:uuid}/history", opt=provider_access(404))
    async def enrolment_history(self, ctx: Context, attestation_id: UUID) -> list[HistoryOut]:
        """Earlier versions (corrections) and a withdrawal, oldest first."""
        return await _history(ctx, Kind.ENROLMENT, attestation_id)

    @get("/attendances/{attestation_id:uuid}/history", opt=provider_access(404))
    async def attendance_history(self, ctx: Context, attestation_id: UUID) -> list[HistoryOut]:
        """Earlier versions (corrections) and a withdrawal, oldest first."""
        return await _history(ctx, Kind.ATTENDANCE, attestation_id)

    @put("/enrolments/{attestation_id:uuid}", opt=provider_access(404))
    async def correct_enrolment(self, ctx: Context, attestation_id: UUID, data: EnrolmentIn) -> AttestedOut:
        """A correction: a new version under the enrolment's reference (the old one kept in the
        history); the body's `reference` is not read. The same content again: `unchanged`."""
        existing = await ctx.run(
            provider.attestation, read_only=True, organisation_id=organisation_of(ctx.principal), kind=Kind.ENROLMENT, attestation_id=attestation_id
        )
        return pick(
            AttestedOut,
            await ctx.run(
                provider.attest_one, keys=keys_of(ctx.settings), actor_id=ctx.principal.person_id, organisation_id=organisation_of(ctx.principal),
                row=enrolment_row(data, reference=existing["reference"]), now=ctx.clock.now(),
            ),
        )  # fmt: skip

    @delete("/enrolments/{attestation_id:uuid}", opt=provider_access(404, 409), status_code=200)
    async def withdraw_enrolment(self, ctx: Context, attestation_id: UUID) -> AttestationOut:
        """Withdraw an enrolment (kept in the history); one with attendance on it: 409 (A-3)."""
        return await _withdraw(ctx, Kind.ENROLMENT, attestation_id)

    @delete("/attendances/{attestation_id:uuid}", opt=provider_access(404, 409), status_code=200)
    async def withdraw_attendance(self, ctx: Context, attestation_id: UUID) -> AttestationOut:
        """Withdraw an attendance attestation (kept in the history)."""
        return await _withdraw(ctx, Kind.ATTENDANCE, attestation_id)

    @get("/receipts", opt=provider_access())
    async def receipts(self, ctx: Context, limit: Limit = paging.DEFAULT_LIMIT, cursor: Cursor = None) -> Page[ReceiptOut]:
        """A-9: every acknowledgement of receipt, the newest first."""
        return page_of(ReceiptOut, await ctx.run(provider.receipts, read_only=True, organisation_id=organisation_of(ctx.principal), limit=limit, cursor=cursor))

    @get("/receipts/{receipt_id:uuid}", opt=provider_access(404))
    async def receipt(self, ctx: Context, receipt_id: UUID) -> ReceiptOut:
        return pick(ReceiptOut, await ctx.run(provider.receipt, read_only=True, organisation_id=organisation_of(ctx.principal), receipt_id=receipt_id))

    @get("/receipts/{receipt_id:uuid}/problems", opt=provider_access(404))
    async def receipt_problems(self, ctx: Context, receipt_id: UUID, limit: Limit = paging.DEFAULT_LIMIT, cursor: Cursor = None) -> Page[ProblemRow]:
        """A bulk file's report: each refused row by number, field, reason and rule."""
        found = await ctx.run(
            provider.receipt_problems, read_only=True, organisation_id=organisation_of(ctx.principal), receipt_id=receipt_id, limit=limit, cursor=cursor
        )
        return page_of(ProblemRow, found)


async def _one(ctx: Context, kind: Kind, attestation_id: UUID) -> AttestationOut:
    found = await ctx.run(provider.attestation, read_only=True, organisation_id=organisation_of(ctx.principal), kind=kind, attestation_id=attestation_id)
    return pick(AttestationOut, found)


async def _history(ctx: Context, kind: Kind, attestation_id: UUID) -> list[HistoryOut]:
    found = await ctx.run(provider.history, read_only=True, organisation_id=organisation_of(ctx.principal), kind=kind, attestation_id=attestation_id)
    return [
        HistoryOut(
            version=h["version"],
            replaced_at=h["replaced_at"],
            action=h["action"],
            content=VersionContent.model_validate({name: h["content"].get(name) for name in VersionContent.model_fields}),
        )
        for h in found
    ]


async def _withdraw(ctx: Context, kind: Kind, attestation_id: UUID) -> AttestationOut:
    found = await ctx.run(provider.withdraw, organisation_id=organisation_of(ctx.principal), kind=kind, attestation_id=attestation_id, now=ctx.clock.now())
    return pick(AttestationOut, found)
