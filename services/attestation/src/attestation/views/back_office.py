"""HTTP of the department (case_handler@training_leave): search, a student's school years (the
number in the body; every read audited), and the reimbursement export."""

from __future__ import annotations

import csv
import io
from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.params import Parameter

from attestation.use_cases import back_office
from attestation.views.common import ODB_FILTER_PATTERN, department_access, keys_of
from attestation.views.schemas import SearchItem, StudentLookupIn, StudentOut
from service_runtime import paging
from service_runtime.api import Page, page_of, pick
from service_runtime.http import Context, strict_json_body
from service_runtime.paging import Cursor, Limit

SchoolYearParam = Annotated[str, Parameter(pattern=r"^[0-9]{4}-[0-9]{4}$", description="e.g. 2026-2027")]
OptionalSchoolYear = Annotated[str | None, Parameter(pattern=r"^[0-9]{4}-[0-9]{4}$", description="e.g. 2026-2027")]
OdbFilter = Annotated[str | None, Parameter(min_length=4, max_length=30, pattern=ODB_FILTER_PATTERN, description="an ODB number, e.g. ODB-12345")]
StudentFilter = Annotated[str | None, Parameter(min_length=8, max_length=64, pattern=r"^[a-z2-7]+$", description="a student's pseudonym")]


class BackOfficeController(Controller):
    path = "/v1/back-office"
    tags = ["back office"]
    before_request = staticmethod(strict_json_body)

    @get("/attestations", opt=department_access())
    async def search(
        self,
        ctx: Context,
        odb_number: OdbFilter = None,
        organisation_id: UUID | None = None,
        school_year: OptionalSchoolYear = None,
        student_id: StudentFilter = None,
        limit: Limit = paging.DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[SearchItem]:
        """Enrolments with their attended hours by ODB number, provider, school year and student
        (pseudonym); a student by national register number: POST /v1/back-office/students."""
        found = await ctx.run(
            back_office.search, read_only=True, actor_id=ctx.principal.person_id, acting_for=ctx.principal.organisation_id, odb_number=odb_number, organisation_id=organisation_id, school_year=school_year,
            student_id=student_id, limit=limit, cursor=cursor,
        )  # fmt: skip
        return page_of(SearchItem, found)

    @post("/students", opt=department_access(404), status_code=200)
    async def student(self, ctx: Context, data: StudentLookupIn) -> StudentOut:
        """A student by national register number (in the body, never in a URL): per school year
        whether the 32 hours are reached (A-6) and every attestation. The read is audited (ID-12)."""
        return pick(
            StudentOut,
            await ctx.run(
                back_office.student, keys=keys_of(ctx.settings), actor_id=ctx.principal.person_id, acting_for=ctx.principal.organisation_id,
                nrn=data.national_register_number,
            ),
        )  # fmt: skip

    @get("/entitlements.csv", opt=department_access(), media_type="text/csv")
    async def entitlements(self, ctx: Context, school_year: SchoolYearParam) -> Response[str]:
        """A-6, for the reimbursement process: every student who reached the minimum in the school
        year, with the national register number (decrypted for this export only; audited)."""
        rows = await ctx.run(
            back_office.entitlements, keys=keys_of(ctx.settings), actor_id=ctx.principal.person_id, acting_for=ctx.principal.organisation_id,
            school_year=school_year,
        )  # fmt: skip
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["rijksregisternummer", "naam", "voornaam", "schooljaar", "odb_nummer", "uren", "bereikt_op", "student_id"])
        for r in rows:
            writer.writerow(
                [
                    r["national_register_number"],
                    r["last_name"],
                    r["first_name"],
                    r["school_year"],
                    r["odb_number"] or "",
                    r["hours"],
                    r["reached_at"].date(),
                    r["student_id"],
                ]
            )
        return Response(
            out.getvalue(), media_type="text/csv; charset=utf-8", headers={"content-disposition": f'attachment; filename="opleidingsverlof-{school_year}.csv"'}
        )
