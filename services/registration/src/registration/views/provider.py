"""HTTP of provider staff (R-1: dwse_organisation_officer@training_database, for the organisation
the token acts for): organisation data, drafts and sections, submitting, answers, the provider's
lists and stopping a registration. Parse, call the use case, answer."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, delete, get, post, put
from litestar.params import Parameter
from pydantic import Field

from registration.sections import OrganisationData
from registration.use_cases import back_office, common, provider, register
from registration.views.common import PROVIDER
from service_runtime.auth import Principal
from service_runtime.clock import Clock
from service_runtime.http import UseCases
from service_runtime.service import ServiceRuntime
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
    async def organisation_data(self, run: UseCases, principal: Principal) -> dict[str, Any]:
        return await run(provider.organisation_data, read_only=True, organisation_id=_organisation(principal))

    @put("/organisation", opt=PROVIDER)
    async def update_organisation_data(self, run: UseCases, principal: Principal, data: OrganisationData) -> dict[str, Any]:
        """R-3 contact person, R-4 learning management system and follow-up document, R-25 contacts."""
        return await run(provider.update_organisation_data, organisation_id=_organisation(principal), data=data)

    @post("/organisation/contacts/confirm", opt=PROVIDER, status_code=200)
    async def confirm_contacts(self, run: UseCases, principal: Principal, today: date) -> dict[str, Any]:
        """R-25: answer the yearly question: our contacts still work here."""
        return await run(provider.confirm_contacts, organisation_id=_organisation(principal), today=today)

    @post("/applications", opt=PROVIDER, status_code=201)
    async def create_draft(self, run: UseCases, principal: Principal, clock: Clock, data: DraftIn | None = None) -> dict[str, Any]:
        """A new draft; with `replaces_odb_number`, an application to replace a registration (R-24)."""
        return await run(
            provider.create_draft,
            read_only=True,  # reads, then one statement writes the draft and its history
            actor_id=principal.person_id,
            organisation_id=_organisation(principal),
            now=clock.now(),
            replaces_odb_number=data.replaces_odb_number if data else None,
        )

    @get("/applications", opt=PROVIDER)
    async def open_dossiers(self, run: UseCases, principal: Principal) -> list[dict[str, Any]]:
        """R-22: drafts and dossiers still being handled."""
        return await run(provider.open_dossiers, read_only=True, organisation_id=_organisation(principal))

    @get("/applications/{application_id:uuid}", opt=PROVIDER)
    async def application(self, run: UseCases, principal: Principal, application_id: UUID) -> dict[str, Any]:
        return await run(common.application, read_only=True, application_id=application_id, organisation_id=_organisation(principal))

    @put("/applications/{application_id:uuid}/sections/{section:str}", opt=PROVIDER)
    async def save_section(self, run: UseCases, principal: Principal, clock: Clock, application_id: UUID, section: str, data: dict[str, Any]) -> dict[str, Any]:
        """Steps 2 to 6: contact, training, self_analysis, deciding_body, documents. Every problem
        is listed per field; a section with problems is not saved."""
        return await run(
            provider.save_section,
            read_only=True,  # read, decide, one conditional UPDATE
            organisation_id=_organisation(principal),
            application_id=application_id,
            name=section,
            body=data,
            now=clock.now(),
        )

    @delete("/applications/{application_id:uuid}", opt=PROVIDER, status_code=204)
    async def cancel_draft(self, run: UseCases, principal: Principal, application_id: UUID) -> None:
        """R-18: cancelling discards the whole draft."""
        await run(provider.cancel_draft, organisation_id=_organisation(principal), application_id=application_id)

    @post("/applications/{application_id:uuid}/submit", opt=PROVIDER, status_code=200)
    async def submit(self, request: Request[Any, Any, Any], runtime: ServiceRuntime, application_id: UUID, idempotency_key: IdempotencyKey) -> dict[str, Any]:
        """R-17: the automatic admissibility rules run; the answer (and the contact person's email)
        says admissible, held (R-2) or inadmissible with the rule and the reason.

        The busiest write (bench/registration --submissions): it asks for ONE injected value and
        makes `run`, the caller, the clock and the settings from it, as the runtime's providers
        do; Litestar resolves two or more dependencies in an anyio task group, which costs CPU on
        every request."""
        run, principal = UseCases(request, runtime), request.state.principal
        return await run(
            provider.submit_application,
            read_only=True,  # one read, the decision in Python, then its own short transaction for the writes
            actor_id=principal.person_id,
            organisation_id=_organisation(principal),
            application_id=application_id,
            idempotency_key=idempotency_key,
            now=runtime.clock.now(),
            decision_warning_days=runtime.settings.decision_warning_days,  # type: ignore[attr-defined]  # registration.definition.Settings (it imports these views)
        )

    @post("/applications/{application_id:uuid}/answer", opt=PROVIDER, status_code=200)
    async def answer(self, run: UseCases, principal: Principal, clock: Clock, application_id: UUID, data: AnswerIn) -> dict[str, Any]:
        """R-19: the answer to the back office's question, with documents."""
        return await run(
            back_office.answer_information_request,
            actor_id=principal.person_id,
            organisation_id=_organisation(principal),
            application_id=application_id,
            answer=data.answer,
            document_ids=data.document_ids,
            now=clock.now(),
        )

    @get("/trainings", opt=PROVIDER)
    async def trainings(self, run: UseCases, principal: Principal) -> list[dict[str, Any]]:
        """R-22: the organisation's registered trainings."""
        return await run(provider.registered_trainings, read_only=True, organisation_id=_organisation(principal))

    @post("/trainings/{odb_number:str}/stop", opt=PROVIDER, status_code=200)
    async def stop(self, run: UseCases, principal: Principal, clock: Clock, odb_number: str, data: StopIn) -> dict[str, Any]:
        """R-23: from `stop_on` the training leaves the public register."""
        return await run(
            register.stop_training,
            organisation_id=_organisation(principal),
            odb_number=odb_number,
            stop_on=data.stop_on,
            reason=data.reason,
            now=clock.now(),
        )
