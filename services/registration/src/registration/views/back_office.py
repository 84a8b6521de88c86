"""HTTP of the department's case handlers (case_handler@training_database): the work queue,
dossiers, questions, amendments, forwarding, decisions and yearly evaluations."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, get, post, put
from litestar.params import Parameter
from pydantic import Field

from registration.domain import Status
from registration.use_cases import back_office, common, register
from registration.views.common import CASE_HANDLER
from service_runtime.http import Context
from wse_contracts import StrictModel

Reason = Annotated[str, Field(min_length=1, max_length=2000)]


class QuestionIn(StrictModel):
    question: Annotated[str, Field(min_length=1, max_length=10_000)]


class AmendmentIn(StrictModel):
    section: dict[str, Any]
    reason: Reason = Field(description="the provider's request this amendment carries out (R-17)")


class ForwardIn(StrictModel):
    deciding_body: Annotated[str, Field(min_length=1, max_length=40)] | None = Field(
        default=None, description="'commission' (default) or 'joint_committee:<number>' (R-15)"
    )
    advice: Annotated[str, Field(max_length=2000)] | None = None


class DecisionIn(StrictModel):
    outcome: Literal["approved", "rejected"]
    reasons: Annotated[str, Field(max_length=10_000)] | None = None
    holds_from: date | None = Field(default=None, description="R-21: the date the registration holds from; default the submission date")


class EvaluationIn(StrictModel):
    year: Annotated[int, Field(ge=2000, le=2100)]
    outcome: Literal["positive", "negative"]
    remarks: Annotated[str, Field(max_length=10_000)] | None = None


class BackOfficeController(Controller):
    path = "/v1/back-office"
    tags = ["back office"]

    @get("/queue", opt=CASE_HANDLER)
    async def queue(
        self,
        ctx: Context,
        status: Annotated[Status | None, Parameter(description="one of the open statuses: held, in_review, awaiting_information, forwarded")] = None,
        organisation_id: UUID | None = None,
        due_before: date | None = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
        offset: Annotated[int, Parameter(ge=0)] = 0,
    ) -> list[dict[str, Any]]:
        """Open dossiers with their deadline (the decision term, or an open question's term), nearest first."""
        return await ctx.run(
            back_office.work_queue, read_only=True, status=status, organisation_id=organisation_id, due_before=due_before, limit=limit, offset=offset
        )

    @get("/applications/{application_id:uuid}", opt=CASE_HANDLER)
    async def application(self, ctx: Context, application_id: UUID) -> dict[str, Any]:
        return await ctx.run(common.application, read_only=True, application_id=application_id, organisation_id=None)

    @post("/applications/{application_id:uuid}/information-requests", opt=CASE_HANDLER, status_code=201)
    async def request_information(self, ctx: Context, application_id: UUID, data: QuestionIn) -> dict[str, Any]:
        """R-19: the provider has one month; the contact person is emailed."""
        return await ctx.run(
            back_office.request_information, actor_id=ctx.principal.person_id, application_id=application_id, question=data.question, now=ctx.clock.now()
        )

    @put("/applications/{application_id:uuid}/sections/{section:str}", opt=CASE_HANDLER)
    async def amend(self, ctx: Context, application_id: UUID, section: str, data: AmendmentIn) -> dict[str, Any]:
        """R-17: amend a submitted dossier at the provider's request; kept in its history."""
        return await ctx.run(
            back_office.amend_application,
            actor_id=ctx.principal.person_id,
            application_id=application_id,
            name=section,
            body=data.section,
            reason=data.reason,
            now=ctx.clock.now(),
        )

    @post("/applications/{application_id:uuid}/forward", opt=CASE_HANDLER, status_code=200)
    async def forward(self, ctx: Context, application_id: UUID, data: ForwardIn) -> dict[str, Any]:
        """R-15: to the commission (default) or a joint committee that volunteered."""
        return await ctx.run(
            back_office.forward_application,
            actor_id=ctx.principal.person_id,
            application_id=application_id,
            deciding_body=data.deciding_body,
            advice=data.advice,
            now=ctx.clock.now(),
        )

    @post("/applications/{application_id:uuid}/decision", opt=CASE_HANDLER, status_code=200)
    async def decide(self, ctx: Context, application_id: UUID, data: DecisionIn) -> dict[str, Any]:
        """R-20, R-21: approval registers the training with its ODB number; the contact person is emailed either way (N-1)."""
        return await ctx.run(
            back_office.decide_application,
            actor_id=ctx.principal.person_id,
            application_id=application_id,
            outcome=data.outcome,
            reasons=data.reasons,
            holds_from=data.holds_from,
            now=ctx.clock.now(),
        )

    @post("/trainings/{odb_number:str}/evaluations", opt=CASE_HANDLER, status_code=201)
    async def evaluate(self, ctx: Context, odb_number: str, data: EvaluationIn) -> dict[str, Any]:
        """R-26: the yearly evaluation; a negative one is emailed to the general contact."""
        return await ctx.run(
            register.record_evaluation,
            actor_id=ctx.principal.person_id,
            odb_number=odb_number,
            year=data.year,
            outcome=data.outcome,
            remarks=data.remarks,
            now=ctx.clock.now(),
        )
