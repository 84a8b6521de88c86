"""HTTP entry points of the registration service: parse, call the use case, map its errors.

Provider staff act for the organisation their token names and need `dwse_organisation_officer`
in context `training_database` (R-1); case handlers act for the department with
`case_handler@training_database`. A dossier of another organisation is refused and audited.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Request, delete, get, post, put
from litestar.params import Parameter
from pydantic import Field

from registration import service
from registration.domain import Conflict, DomainError, Forbidden, Invalid, NotFound
from registration.sections import OrganisationData
from service_runtime.auth import record_access_decision
from service_runtime.clock import local_today
from service_runtime.http import FieldProblem, Problem, Public, RightRequired, access
from wse_contracts import StrictModel

PROVIDER = access(RightRequired(role="dwse_organisation_officer", context="training_database"))
CASE_HANDLER = access(RightRequired(role="case_handler", context="training_database"))
PUBLIC = access(Public())

Reason = Annotated[str, Field(min_length=1, max_length=2000)]


def _now(request: Request) -> datetime:
    return request.app.state.runtime.clock.now()


def _person(request: Request) -> UUID:
    return request.state.principal.person_id


def _organisation(request: Request) -> UUID:
    return request.state.principal.organisation_id  # RightRequired: the token acts for an organisation


async def run(request: Request, use_case: Callable[..., Awaitable[Any]], **kwargs: Any) -> Any:
    """The use case in one transaction. A refusal is audited in a transaction of its own (the use
    case's is rolled back); domain errors become problem+json."""
    runtime = request.app.state.runtime
    async with runtime.pool.acquire() as connection:
        try:
            async with connection.transaction():
                return await use_case(connection, **kwargs)
        except Forbidden as denial:
            await record_access_decision(
                connection,
                principal=request.state.principal,
                organisation_id=kwargs.get("organisation_id"),
                action=f"{request.method} {request.scope['path']}",
                allowed=False,
                reason=denial.reason,
            )
            raise Problem(403, "Forbidden", denial.reason) from None
        except Invalid as error:
            raise Problem(
                422, "The request is not valid", errors=[FieldProblem(v.field, f"{v.reason} ({v.rule})" if v.rule else v.reason) for v in error.violations]
            ) from None
        except NotFound as error:
            raise Problem(404, "Not found", error.reason) from None
        except Conflict as error:
            raise Problem(409, "Conflict", error.reason) from None
        except DomainError as error:
            raise Problem(400, "Refused", error.reason) from None


# ------------------------------------------------------------------------------- bodies


class DraftIn(StrictModel):
    replaces_odb_number: Annotated[str, Field(min_length=4, max_length=30)] | None = None


class AnswerIn(StrictModel):
    answer: Annotated[str, Field(min_length=1, max_length=10_000)]
    document_ids: Annotated[list[UUID], Field(max_length=20)] = Field(default_factory=list)


class StopIn(StrictModel):
    stop_on: date
    reason: Reason


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


IdempotencyKey = Annotated[str, Parameter(header="Idempotency-Key", min_length=8, max_length=200)]


# ------------------------------------------------------------------------------- provider staff


class ProviderController(Controller):
    path = "/v1/provider"
    tags = ["provider"]

    @get("/organisation", opt=PROVIDER)
    async def organisation_data(self, request: Request) -> dict[str, Any]:
        return await run(request, service.organisation_data, organisation_id=_organisation(request))

    @put("/organisation", opt=PROVIDER)
    async def update_organisation_data(self, request: Request, data: OrganisationData) -> dict[str, Any]:
        """R-3 contact person, R-4 learning management system and follow-up document, R-25 contacts."""
        return await run(request, service.update_organisation_data, actor_id=_person(request), organisation_id=_organisation(request), data=data)

    @post("/organisation/contacts/confirm", opt=PROVIDER, status_code=200)
    async def confirm_contacts(self, request: Request) -> dict[str, Any]:
        """R-25: answer the yearly question: our contacts still work here."""
        return await run(request, service.confirm_contacts, organisation_id=_organisation(request), today=local_today(request.app.state.runtime.clock))

    @post("/applications", opt=PROVIDER, status_code=201)
    async def create_draft(self, request: Request, data: DraftIn | None = None) -> dict[str, Any]:
        """A new draft; with `replaces_odb_number`, an application to replace a registration (R-24)."""
        return await run(
            request,
            service.create_draft,
            actor_id=_person(request),
            organisation_id=_organisation(request),
            now=_now(request),
            replaces_odb_number=data.replaces_odb_number if data else None,
        )

    @get("/applications", opt=PROVIDER)
    async def open_dossiers(self, request: Request) -> list[dict[str, Any]]:
        """R-22: drafts and dossiers still being handled."""
        return await run(request, service.open_dossiers, organisation_id=_organisation(request))

    @get("/applications/{application_id:uuid}", opt=PROVIDER)
    async def application(self, request: Request, application_id: UUID) -> dict[str, Any]:
        return await run(request, service.application, application_id=application_id, organisation_id=_organisation(request))

    @put("/applications/{application_id:uuid}/sections/{section:str}", opt=PROVIDER)
    async def save_section(self, request: Request, application_id: UUID, section: str, data: dict[str, Any]) -> dict[str, Any]:
        """Steps 2 to 6: contact, training, self_analysis, deciding_body, documents. Every problem
        is listed per field; a section with problems is not saved."""
        return await run(
            request,
            service.save_section,
            actor_id=_person(request),
            organisation_id=_organisation(request),
            application_id=application_id,
            name=section,
            body=data,
            now=_now(request),
        )

    @delete("/applications/{application_id:uuid}", opt=PROVIDER, status_code=204)
    async def cancel_draft(self, request: Request, application_id: UUID) -> None:
        """R-18: cancelling discards the whole draft."""
        await run(request, service.cancel_draft, organisation_id=_organisation(request), application_id=application_id)

    @post("/applications/{application_id:uuid}/submit", opt=PROVIDER, status_code=200)
    async def submit(self, request: Request, application_id: UUID, idempotency_key: IdempotencyKey) -> dict[str, Any]:
        """R-17: the automatic admissibility rules run; the answer (and the contact person's email)
        says admissible, held (R-2) or inadmissible with the rule and the reason."""
        return await run(
            request,
            service.submit_application,
            actor_id=_person(request),
            organisation_id=_organisation(request),
            application_id=application_id,
            idempotency_key=idempotency_key,
            now=_now(request),
            decision_warning_days=request.app.state.runtime.settings.decision_warning_days,
        )

    @post("/applications/{application_id:uuid}/answer", opt=PROVIDER, status_code=200)
    async def answer(self, request: Request, application_id: UUID, data: AnswerIn) -> dict[str, Any]:
        """R-19: the answer to the back office's question, with documents."""
        return await run(
            request,
            service.answer_information_request,
            actor_id=_person(request),
            organisation_id=_organisation(request),
            application_id=application_id,
            answer=data.answer,
            document_ids=data.document_ids,
            now=_now(request),
        )

    @get("/trainings", opt=PROVIDER)
    async def trainings(self, request: Request) -> list[dict[str, Any]]:
        """R-22: the organisation's registered trainings."""
        return await run(request, service.registered_trainings, organisation_id=_organisation(request))

    @post("/trainings/{odb_number:str}/stop", opt=PROVIDER, status_code=200)
    async def stop(self, request: Request, odb_number: str, data: StopIn) -> dict[str, Any]:
        """R-23: from `stop_on` the training leaves the public register."""
        return await run(
            request,
            service.stop_training,
            actor_id=_person(request),
            organisation_id=_organisation(request),
            odb_number=odb_number,
            stop_on=data.stop_on,
            reason=data.reason,
            now=_now(request),
        )


# ------------------------------------------------------------------------------- back office


class BackOfficeController(Controller):
    path = "/v1/back-office"
    tags = ["back office"]

    @get("/queue", opt=CASE_HANDLER)
    async def queue(
        self,
        request: Request,
        status: Literal["held", "in_review", "awaiting_information", "forwarded"] | None = None,
        organisation_id: UUID | None = None,
        due_before: date | None = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
        offset: Annotated[int, Parameter(ge=0)] = 0,
    ) -> list[dict[str, Any]]:
        """Open dossiers with their deadline (the decision term, or an open question's term), nearest first."""
        return await run(request, service.work_queue, status=status, organisation_id=organisation_id, due_before=due_before, limit=limit, offset=offset)

    @get("/applications/{application_id:uuid}", opt=CASE_HANDLER)
    async def application(self, request: Request, application_id: UUID) -> dict[str, Any]:
        return await run(request, service.application, application_id=application_id, organisation_id=None)

    @post("/applications/{application_id:uuid}/information-requests", opt=CASE_HANDLER, status_code=201)
    async def request_information(self, request: Request, application_id: UUID, data: QuestionIn) -> dict[str, Any]:
        """R-19: the provider has one month; the contact person is emailed."""
        return await run(
            request, service.request_information, actor_id=_person(request), application_id=application_id, question=data.question, now=_now(request)
        )

    @put("/applications/{application_id:uuid}/sections/{section:str}", opt=CASE_HANDLER)
    async def amend(self, request: Request, application_id: UUID, section: str, data: AmendmentIn) -> dict[str, Any]:
        """R-17: amend a submitted dossier at the provider's request; kept in its history."""
        return await run(
            request,
            service.amend_application,
            actor_id=_person(request),
            application_id=application_id,
            name=section,
            body=data.section,
            reason=data.reason,
            now=_now(request),
        )

    @post("/applications/{application_id:uuid}/forward", opt=CASE_HANDLER, status_code=200)
    async def forward(self, request: Request, application_id: UUID, data: ForwardIn) -> dict[str, Any]:
        """R-15: to the commission (default) or a joint committee that volunteered."""
        return await run(
            request,
            service.forward_application,
            actor_id=_person(request),
            application_id=application_id,
            deciding_body=data.deciding_body,
            advice=data.advice,
            now=_now(request),
        )

    @post("/applications/{application_id:uuid}/decision", opt=CASE_HANDLER, status_code=200)
    async def decide(self, request: Request, application_id: UUID, data: DecisionIn) -> dict[str, Any]:
        """R-20, R-21: approval registers the training with its ODB number; the contact person is emailed either way (N-1)."""
        return await run(
            request,
            service.decide_application,
            actor_id=_person(request),
            application_id=application_id,
            outcome=data.outcome,
            reasons=data.reasons,
            holds_from=data.holds_from,
            now=_now(request),
        )

    @post("/trainings/{odb_number:str}/evaluations", opt=CASE_HANDLER, status_code=201)
    async def evaluate(self, request: Request, odb_number: str, data: EvaluationIn) -> dict[str, Any]:
        """R-26: the yearly evaluation; a negative one is emailed to the general contact."""
        return await run(
            request,
            service.record_evaluation,
            actor_id=_person(request),
            odb_number=odb_number,
            year=data.year,
            outcome=data.outcome,
            remarks=data.remarks,
            now=_now(request),
        )


@get("/v1/register/joint-committees", opt=PUBLIC, tags=["register"])
async def joint_committees(request: Request) -> list[dict[str, str]]:
    """R-15: the joint committees that volunteered to decide on applications."""
    async with request.app.state.runtime.pool.acquire() as connection:
        return [dict(r) for r in await connection.fetch("SELECT number, name FROM joint_committees ORDER BY number")]


ROUTES = [ProviderController, BackOfficeController, joint_committees]
