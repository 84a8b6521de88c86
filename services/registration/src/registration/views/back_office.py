"""HTTP of the department's case handlers (case_handler@training_database): the work queue,
dossiers, questions, amendments, forwarding, decisions and yearly evaluations."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Generic, Literal, TypeVar, get_args
from uuid import UUID

from litestar import Controller, get, post, put
from litestar.handlers import HTTPRouteHandler
from litestar.params import Parameter
from pydantic import Field

from registration.domain import OPEN_STATUSES
from registration.sections import SECTION_MODELS_BY_NAME
from registration.use_cases import back_office, common, register
from registration.views.common import OdbNumber, case_handler_access
from registration.views.schemas import BackOfficeApplication, BackOfficeTraining, EvaluationOut, QueueEntry, RegisteredModule, TrainingEvaluation
from service_runtime import paging
from service_runtime.api import Page, page_of, pick
from service_runtime.http import Context
from service_runtime.paging import Cursor, Limit
from wse_contracts import StrictModel

S = TypeVar("S", bound=StrictModel)

Reason = Annotated[str, Field(min_length=1, max_length=2000)]
OpenStatus = Literal["held", "in_review", "awaiting_information", "forwarded"]
assert set(get_args(OpenStatus)) == set(OPEN_STATUSES), "the queue's status filter names the open statuses"


class QuestionIn(StrictModel):
    question: Annotated[str, Field(min_length=1, max_length=10_000)]


class AmendmentIn(StrictModel, Generic[S]):
    """R-17: a section of a submitted dossier, amended at the provider's request."""

    section: S = Field(description="the whole section, as the provider's PUT of it takes it")
    reason: Reason = Field(description="the provider's request this amendment carries out (R-17)")


class ForwardIn(StrictModel):
    deciding_body: str | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        pattern=r"^(commission|joint_committee:[0-9A-Za-z.]{1,20})$",
        description="'commission' (default) or 'joint_committee:<number>' of a committee that volunteered (R-15)",
    )
    advice: str | None = Field(default=None, max_length=2000)


class DecisionIn(StrictModel):
    outcome: Literal["approved", "rejected"]
    reasons: str | None = Field(default=None, max_length=10_000, description="R-20: required for a rejection")
    holds_from: date | None = Field(default=None, description="R-21: the date the registration holds from; default the submission date")


class EvaluationIn(StrictModel):
    year: Annotated[int, Field(ge=2000, le=2100)]
    outcome: Literal["positive", "negative"]
    remarks: str | None = Field(default=None, max_length=10_000, description="R-26: required for a negative evaluation")


def back_office_application(found: dict[str, Any]) -> BackOfficeApplication:
    return pick(BackOfficeApplication, found)


class BackOfficeController(Controller):
    path = "/v1/back-office"
    tags = ["back office"]

    @get("/queue", opt=case_handler_access())
    async def queue(
        self,
        ctx: Context,
        status: Annotated[OpenStatus | None, Parameter(description="one of the open statuses")] = None,
        organisation_id: UUID | None = None,
        due_before: Annotated[date | None, Parameter(description="deadline on or before")] = None,
        limit: Limit = paging.DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[QueueEntry]:
        """Open dossiers with their deadline (the decision term, or an open question's term), nearest first."""
        found = await ctx.run(
            back_office.work_queue,
            read_only=True,
            status=status,
            organisation_id=organisation_id,
            due_before=due_before,
            limit=limit,
            cursor=cursor,
        )
        return page_of(QueueEntry, found)

    @get("/applications/{application_id:uuid}", opt=case_handler_access(404))
    async def application(self, ctx: Context, application_id: UUID) -> BackOfficeApplication:
        """Any organisation's dossier, with its questions and history."""
        return back_office_application(await ctx.run(common.application, read_only=True, application_id=application_id, organisation_id=None))

    @post("/applications/{application_id:uuid}/information-requests", opt=case_handler_access(404, 409), status_code=201)
    async def request_information(self, ctx: Context, application_id: UUID, data: QuestionIn) -> BackOfficeApplication:
        """R-19: the provider has one month; the contact person is emailed. 409 unless the dossier is in review or held."""
        return back_office_application(
            await ctx.run(
                back_office.request_information, actor_id=ctx.principal.person_id, application_id=application_id, question=data.question, now=ctx.clock.now()
            )
        )

    @post("/applications/{application_id:uuid}/forward", opt=case_handler_access(404, 409), status_code=200)
    async def forward(self, ctx: Context, application_id: UUID, data: ForwardIn) -> BackOfficeApplication:
        """R-15: to the commission (default) or a joint committee that volunteered. 409 while held or awaiting information."""
        return back_office_application(
            await ctx.run(
                back_office.forward_application,
                actor_id=ctx.principal.person_id,
                application_id=application_id,
                deciding_body=data.deciding_body,
                advice=data.advice,
                now=ctx.clock.now(),
            )
        )

    @post("/applications/{application_id:uuid}/decision", opt=case_handler_access(404, 409), status_code=200)
    async def decide(self, ctx: Context, application_id: UUID, data: DecisionIn) -> BackOfficeApplication:
        """R-20, R-21: approval registers the training with its ODB number; the contact person is
        emailed either way (N-1). 409 unless the dossier was forwarded."""
        return back_office_application(
            await ctx.run(
                back_office.decide_application,
                actor_id=ctx.principal.person_id,
                application_id=application_id,
                outcome=data.outcome,
                reasons=data.reasons,
                holds_from=data.holds_from,
                now=ctx.clock.now(),
            )
        )

    @get("/trainings/{odb_number:str}", opt=case_handler_access(404))
    async def training(self, ctx: Context, odb_number: OdbNumber) -> BackOfficeTraining:
        """A registered training (any case of the ODB number), stopped or not (R-23): its status and
        dates, modules, provider, whether the provider has a general contact (R-25), and its yearly
        evaluations with whether each was emailed (R-26). 404 for an unknown ODB number."""
        found = await ctx.run(register.back_office_training, read_only=True, odb_number=odb_number, today=ctx.today)
        return BackOfficeTraining.model_validate(
            {
                **{name: found[name] for name in BackOfficeTraining.model_fields if name not in ("modules", "evaluations")},
                "modules": [pick(RegisteredModule, m) for m in found["modules"]],
                "evaluations": [pick(TrainingEvaluation, e) for e in found["evaluations"]],
            }
        )

    @post("/trainings/{odb_number:str}/evaluations", opt=case_handler_access(404, 409), status_code=201)
    async def evaluate(self, ctx: Context, odb_number: OdbNumber, data: EvaluationIn) -> EvaluationOut:
        """R-26: the yearly evaluation, of a stopped training too; a negative one is emailed to the
        provider's general contact (R-25). The answer says whether that email was requested, or why
        nobody was told (`contact_emailed`, `emailed_to`, `not_emailed_reason`). 409 when the year has one."""
        return pick(
            EvaluationOut,
            await ctx.run(
                register.record_evaluation,
                actor_id=ctx.principal.person_id,
                odb_number=odb_number,
                year=data.year,
                outcome=data.outcome,
                remarks=data.remarks,
                now=ctx.clock.now(),
            ),
        )


def _amend_handler(name: str, model: type[StrictModel]) -> HTTPRouteHandler:
    """PUT .../sections/<name> of the back office, its body the section's own model and the reason."""
    body = AmendmentIn[model]  # type: ignore[valid-type]  # the generic amendment of this section's model, made at run time

    async def amend(ctx: Any, application_id: UUID, data: Any) -> BackOfficeApplication:
        return back_office_application(
            await ctx.run(
                back_office.amend_application,
                actor_id=ctx.principal.person_id,
                application_id=application_id,
                name=name,
                body=data.section.model_dump(mode="json"),
                reason=data.reason,
                now=ctx.clock.now(),
            )
        )

    # The annotations as objects: this module's are text (postponed), and `body` is this call's.
    amend.__annotations__ = {"ctx": Context, "application_id": UUID, "data": body, "return": BackOfficeApplication}
    amend.__name__ = amend.__qualname__ = f"amend_{name}_section"
    return put(
        f"/v1/back-office/applications/{{application_id:uuid}}/sections/{name}",
        opt=case_handler_access(404, 409),
        tags=["back office"],
        summary=f"Amend the {name} section",
        description="R-17: amend a submitted dossier at the provider's request; kept in its history with the reason. 409 once forwarded.",
    )(amend)


AMEND_ROUTES = [_amend_handler(name, model) for name, model in SECTION_MODELS_BY_NAME.items()]
