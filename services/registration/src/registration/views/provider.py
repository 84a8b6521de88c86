"""HTTP of provider staff (R-1: dwse_organisation_officer@training_database, for the organisation
the token acts for): organisation data, drafts and sections, submitting, answers, the provider's
lists and stopping a registration. Parse, call the use case, answer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, delete, get, post, put
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import Operation, Reference
from litestar.params import Parameter
from pydantic import Field

from registration.sections import SECTION_MODELS_BY_NAME, OrganisationData
from registration.use_cases import back_office, common, provider, register
from registration.views.common import PROVIDER, OdbNumber, provider_access
from registration.views.schemas import ApplicationSummary, OrganisationDataOut, ProviderApplication, ProviderTraining
from service_runtime import paging
from service_runtime.api import Page, page_of, pick
from service_runtime.auth import Principal
from service_runtime.errors import Invalid
from service_runtime.http import Context, problem_for
from service_runtime.paging import Cursor, Limit
from wse_contracts import StrictModel

Reason = Annotated[str, Field(min_length=1, max_length=2000)]

IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{8,200}$"
# The header is read and checked here rather than by Litestar, so that a missing one and a
# malformed one are the same field error ("idempotency-key"); the document still says required.
IdempotencyKey = Annotated[
    str | None,
    Parameter(
        header="Idempotency-Key",
        required=True,
        description="Any 8 to 200 visible ASCII characters, new for each submission (a UUID): the same key gives the same answer, never two dossiers",
        schema_extra={"oneOf": None, "type": "string", "minLength": 8, "maxLength": 200, "pattern": IDEMPOTENCY_KEY_PATTERN},
    ),
]


class DraftIn(StrictModel):
    replaces_odb_number: str | None = Field(
        default=None,
        min_length=4,
        max_length=30,
        pattern=r"^[Oo][Dd][Bb]-[A-Za-z]?[0-9]{1,20}$",
        description="R-24: the ODB number of the organisation's registration this application replaces",
    )


class AnswerIn(StrictModel):
    answer: Annotated[str, Field(min_length=1, max_length=10_000)]
    document_ids: Annotated[list[UUID], Field(max_length=20)] = Field(default_factory=list, description="the organisation's documents (answer)")


class StopIn(StrictModel):
    stop_on: date = Field(description="R-23: today or later, not before the registration holds")
    reason: Reason


@dataclass
class OptionalBodyOperation(Operation):
    """An operation whose JSON body may be left out (Litestar documents every body as required)."""

    def __post_init__(self) -> None:
        if self.request_body is not None and not isinstance(self.request_body, Reference):
            self.request_body.required = False


def _organisation(principal: Principal) -> UUID:
    # RightRequired: the token acts for an organisation.
    assert principal.organisation_id is not None
    return principal.organisation_id


def _idempotency_key(value: str | None) -> str:
    if value is None or not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, value):
        reason = "required: a key of your own for this submission, e.g. a UUID" if value is None else "8 to 200 visible ASCII characters"
        raise problem_for(Invalid(reason, field="idempotency-key", rule="R-17"))
    return value


def provider_application(found: dict[str, Any]) -> ProviderApplication:
    return pick(ProviderApplication, found)


class ProviderController(Controller):
    path = "/v1/provider"
    tags = ["provider"]

    @get("/organisation", opt=PROVIDER)
    async def organisation_data(self, ctx: Context) -> OrganisationDataOut:
        """R-3, R-4, R-25: the organisation's data; fields never entered are null."""
        return pick(OrganisationDataOut, await ctx.run(provider.organisation_data, read_only=True, organisation_id=_organisation(ctx.principal)))

    @put("/organisation", opt=provider_access(404))
    async def update_organisation_data(self, ctx: Context, data: OrganisationData) -> OrganisationDataOut:
        """R-3 contact person, R-4 learning management system and follow-up document, R-25 contacts.
        404 while identity's event about the organisation has not arrived."""
        return pick(OrganisationDataOut, await ctx.run(provider.update_organisation_data, organisation_id=_organisation(ctx.principal), data=data))

    @post("/organisation/contacts/confirm", opt=provider_access(422), status_code=200)
    async def confirm_contacts(self, ctx: Context) -> OrganisationDataOut:
        """R-25: answer the yearly question: our contacts still work here. 422 without a general contact."""
        return pick(OrganisationDataOut, await ctx.run(provider.confirm_contacts, organisation_id=_organisation(ctx.principal), today=ctx.today))

    @post("/applications", opt=provider_access(404, 409), status_code=201, operation_class=OptionalBodyOperation)
    async def create_draft(self, ctx: Context, data: DraftIn | None = None) -> ProviderApplication:
        """A new draft. The body is optional: without one (or `{}`) a new application; with
        `replaces_odb_number`, an application to replace a registration (R-24), starting from what
        is registered. The organisation's contact person is proposed (R-3). 404 while the
        organisation is not known yet; 409 when that registration is already replaced or stopped."""
        return provider_application(
            await ctx.run(
                provider.create_draft,
                read_only=True,  # reads, then one statement writes the draft and its history
                actor_id=ctx.principal.person_id,
                organisation_id=_organisation(ctx.principal),
                now=ctx.clock.now(),
                replaces_odb_number=data.replaces_odb_number if data else None,
            )
        )

    @get("/applications", opt=PROVIDER)
    async def open_dossiers(self, ctx: Context, limit: Limit = paging.DEFAULT_LIMIT, cursor: Cursor = None) -> Page[ApplicationSummary]:
        """R-22: drafts and dossiers still being handled, the last changed first."""
        found = await ctx.run(provider.open_dossiers, read_only=True, organisation_id=_organisation(ctx.principal), limit=limit, cursor=cursor)
        return page_of(ApplicationSummary, found)

    @get("/applications/{application_id:uuid}", opt=provider_access(404))
    async def application(self, ctx: Context, application_id: UUID) -> ProviderApplication:
        """One of the organisation's dossiers, with its questions; another organisation's is a 403 (audited)."""
        return provider_application(
            await ctx.run(common.application, read_only=True, application_id=application_id, organisation_id=_organisation(ctx.principal))
        )

    @delete("/applications/{application_id:uuid}", opt=provider_access(404, 409), status_code=204)
    async def cancel_draft(self, ctx: Context, application_id: UUID) -> None:
        """R-18: cancelling discards the whole draft; 409 once submitted."""
        await ctx.run(provider.cancel_draft, organisation_id=_organisation(ctx.principal), application_id=application_id)

    @post("/applications/{application_id:uuid}/submit", opt=provider_access(404, 409), status_code=200)
    async def submit(self, ctx: Context, application_id: UUID, idempotency_key: IdempotencyKey = None) -> ProviderApplication:
        """R-17: the automatic admissibility rules run; the answer (and the contact person's email)
        says admissible, held (R-2) or inadmissible with the rule and the reason. The same
        Idempotency-Key again gives the same answer; 422 names the sections still missing; 409
        when already submitted with another key."""
        key = _idempotency_key(idempotency_key)
        principal = ctx.principal
        return provider_application(
            await ctx.run(
                provider.submit_application,
                read_only=True,  # one read, the decision in Python, then its own short transaction for the writes
                actor_id=principal.person_id,
                organisation_id=_organisation(principal),
                application_id=application_id,
                idempotency_key=key,
                now=ctx.clock.now(),
                decision_warning_days=ctx.settings.decision_warning_days,
            )
        )

    @post("/applications/{application_id:uuid}/answer", opt=provider_access(404, 409), status_code=200)
    async def answer(self, ctx: Context, application_id: UUID, data: AnswerIn) -> ProviderApplication:
        """R-19: the answer to the back office's question, with documents; 409 without an open question."""
        return provider_application(
            await ctx.run(
                back_office.answer_information_request,
                actor_id=ctx.principal.person_id,
                organisation_id=_organisation(ctx.principal),
                application_id=application_id,
                answer=data.answer,
                document_ids=data.document_ids,
                now=ctx.clock.now(),
            )
        )

    @get("/trainings", opt=PROVIDER)
    async def trainings(self, ctx: Context, limit: Limit = paging.DEFAULT_LIMIT, cursor: Cursor = None) -> Page[ProviderTraining]:
        """R-22: the organisation's registered trainings, the last registered first."""
        found = await ctx.run(provider.registered_trainings, read_only=True, organisation_id=_organisation(ctx.principal), limit=limit, cursor=cursor)
        return page_of(ProviderTraining, found)

    @get("/trainings/{odb_number:str}", opt=provider_access(404))
    async def training(self, ctx: Context, odb_number: OdbNumber) -> ProviderTraining:
        """R-22: one of the organisation's registered trainings, also once stopped or replaced
        (any case of the number); another organisation's is a 403 (audited)."""
        return pick(
            ProviderTraining,
            await ctx.run(provider.registered_training, read_only=True, organisation_id=_organisation(ctx.principal), odb_number=odb_number),
        )

    @post("/trainings/{odb_number:str}/stop", opt=provider_access(404, 409), status_code=200)
    async def stop(self, ctx: Context, odb_number: OdbNumber, data: StopIn) -> ProviderTraining:
        """R-23: from `stop_on` the training leaves the public register; another organisation's
        training is a 403 (audited), one already stopped a 409."""
        return pick(
            ProviderTraining,
            await ctx.run(
                register.stop_training,
                organisation_id=_organisation(ctx.principal),
                odb_number=odb_number,
                stop_on=data.stop_on,
                reason=data.reason,
                now=ctx.clock.now(),
            ),
        )


def _save_section_handler(name: str, model: type[StrictModel]) -> HTTPRouteHandler:
    """PUT .../sections/<name>, its body the section's own model (one operation per section, so
    the document says exactly what each section takes)."""

    async def save_section(ctx: Any, application_id: UUID, data: Any) -> ProviderApplication:
        return provider_application(
            await ctx.run(
                provider.save_section,
                read_only=True,  # read, decide, one conditional UPDATE
                organisation_id=_organisation(ctx.principal),
                application_id=application_id,
                name=name,
                body=data.model_dump(mode="json"),
                now=ctx.clock.now(),
            )
        )

    # The annotations as objects: this module's are text (postponed), and `model` is this call's.
    save_section.__annotations__ = {"ctx": Context, "application_id": UUID, "data": model, "return": ProviderApplication}
    save_section.__name__ = save_section.__qualname__ = f"save_{name}_section"
    return put(
        f"/v1/provider/applications/{{application_id:uuid}}/sections/{name}",
        opt=provider_access(404, 409),
        tags=["provider"],
        summary=f"Save the {name} section",
        description=(
            f"The manual's step {list(SECTION_MODELS_BY_NAME).index(name) + 2}: {(model.__doc__ or '').strip()} Every problem is listed per "
            "field with its rule (422); a section with problems is not saved, saved sections stay (R-18). 409 once submitted."
        ),
    )(save_section)


SECTION_ROUTES = [_save_section_handler(name, model) for name, model in SECTION_MODELS_BY_NAME.items()]
