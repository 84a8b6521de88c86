"""HTTP of provider staff (R-1: dwse_organisation_officer@training_database, for the organisation
the token acts for): organisation data, drafts and sections, submitting, answers, the provider's
lists and stopping a registration. Parse, call the use case, answer."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, delete, get, post, put
from litestar.params import Parameter
from pydantic import Field

from registration.sections import OrganisationData
from registration.use_cases import back_office, common, provider, register
from registration.views.common import PROVIDER
from service_runtime.auth import Principal
from service_runtime.http import Context
from wse_contracts import StrictModel

Reason = Annotated[str, Field(min_length=1, max_length=2000)]
IdempotencyKey = Annotated[str, Parameter(header="Idempotency-Key", min_length=8, max_length=200)]


class DraftIn(StrictModel):
    replaces_odb_number: Annotated[str, Field(min_length=4, max_length=30)] | None = None


class AnswerIn(StrictModel):
    answer: Annotated[str, Field(min_length=1, max_length=10_000)]
    document_ids: Annotated[list[UUID], Field(max_length=20)] = Field(default_factory=list)


class StopIn(StrictModel):
    stop_on: date
    reason: Reason


def _organisation(principal: Principal) -> UUID:
    # RightRequired: the token acts for an organisation.
    assert principal.organisation_id is not None
    return principal.organisation_id


class ProviderController(Controller):
    path = "/v1/provider"
    tags = ["provider"]

    @get("/organisation", opt=PROVIDER)
    async def organisation_data(self, ctx: Context) -> dict[str, Any]:
        return await ctx.run(provider.organisation_data, read_only=True, organisation_id=_organisation(ctx.principal))

    @put("/organisation", opt=PROVIDER)
    async def update_organisation_data(self, ctx: Context, data: OrganisationData) -> dict[str, Any]:
        """R-3 contact person, R-4 learning management system and follow-up document, R-25 contacts."""
        return await ctx.run(provider.update_organisation_data, organisation_id=_organisation(ctx.principal), data=data)

    @post("/organisation/contacts/confirm", opt=PROVIDER, status_code=200)
    async def confirm_contacts(self, ctx: Context) -> dict[str, Any]:
        """R-25: answer the yearly question: our contacts still work here."""
        return await ctx.run(provider.confirm_contacts, organisation_id=_organisation(ctx.principal), today=ctx.today)

    @post("/applications", opt=PROVIDER, status_code=201)
    async def create_draft(self, ctx: Context, data: DraftIn | None = None) -> dict[str, Any]:
        """A new draft; with `replaces_odb_number`, an application to replace a registration (R-24)."""
        return await ctx.run(
            provider.create_draft,
            read_only=True,  # reads, then one statement writes the draft and its history
            actor_id=ctx.principal.person_id,
            organisation_id=_organisation(ctx.principal),
            now=ctx.clock.now(),
            replaces_odb_number=data.replaces_odb_number if data else None,
        )

    @get("/applications", opt=PROVIDER)
    async def open_dossiers(self, ctx: Context) -> list[dict[str, Any]]:
        """R-22: drafts and dossiers still being handled."""
        return await ctx.run(provider.open_dossiers, read_only=True, organisation_id=_organisation(ctx.principal))

    @get("/applications/{application_id:uuid}", opt=PROVIDER)
    async def application(self, ctx: Context, application_id: UUID) -> dict[str, Any]:
        return await ctx.run(common.application, read_only=True, application_id=application_id, organisation_id=_organisation(ctx.principal))

    @put("/applications/{application_id:uuid}/sections/{section:str}", opt=PROVIDER)
    async def save_section(self, ctx: Context, application_id: UUID, section: str, data: dict[str, Any]) -> dict[str, Any]:
        """Steps 2 to 6: contact, training, self_analysis, deciding_body, documents. Every problem
        is listed per field; a section with problems is not saved."""
        return await ctx.run(
            provider.save_section,
            read_only=True,  # read, decide, one conditional UPDATE
            organisation_id=_organisation(ctx.principal),
            application_id=application_id,
            name=section,
            body=data,
            now=ctx.clock.now(),
        )

    @delete("/applications/{application_id:uuid}", opt=PROVIDER, status_code=204)
    async def cancel_draft(self, ctx: Context, application_id: UUID) -> None:
        """R-18: cancelling discards the whole draft."""
        await ctx.run(provider.cancel_draft, organisation_id=_organisation(ctx.principal), application_id=application_id)

    @post("/applications/{application_id:uuid}/submit", opt=PROVIDER, status_code=200)
    async def submit(self, ctx: Context, application_id: UUID, idempotency_key: IdempotencyKey) -> dict[str, Any]:
        """R-17: the automatic admissibility rules run; the answer (and the contact person's email)
        says admissible, held (R-2) or inadmissible with the rule and the reason."""
        principal = ctx.principal
        return await ctx.run(
            provider.submit_application,
            read_only=True,  # one read, the decision in Python, then its own short transaction for the writes
            actor_id=principal.person_id,
            organisation_id=_organisation(principal),
            application_id=application_id,
            idempotency_key=idempotency_key,
            now=ctx.clock.now(),
            decision_warning_days=ctx.settings.decision_warning_days,
        )

    @post("/applications/{application_id:uuid}/answer", opt=PROVIDER, status_code=200)
    async def answer(self, ctx: Context, application_id: UUID, data: AnswerIn) -> dict[str, Any]:
        """R-19: the answer to the back office's question, with documents."""
        return await ctx.run(
            back_office.answer_information_request,
            actor_id=ctx.principal.person_id,
            organisation_id=_organisation(ctx.principal),
            application_id=application_id,
            answer=data.answer,
            document_ids=data.document_ids,
            now=ctx.clock.now(),
        )

    @get("/trainings", opt=PROVIDER)
    async def trainings(self, ctx: Context) -> list[dict[str, Any]]:
        """R-22: the organisation's registered trainings."""
        return await ctx.run(provider.registered_trainings, read_only=True, organisation_id=_organisation(ctx.principal))

    @post("/trainings/{odb_number:str}/stop", opt=PROVIDER, status_code=200)
    async def stop(self, ctx: Context, odb_number: str, data: StopIn) -> dict[str, Any]:
        """R-23: from `stop_on` the training leaves the public register."""
        return await ctx.run(
            register.stop_training,
            organisation_id=_organisation(ctx.principal),
            odb_number=odb_number,
            stop_on=data.stop_on,
            reason=data.reason,
            now=ctx.clock.now(),
        )
