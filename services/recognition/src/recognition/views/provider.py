"""HTTP of provider staff (E-1: dwse_organisation_officer@platos, for the organisation the token
acts for): the application and its five parts, submitting, answering, reconsideration, the
organisation's recognitions, coaching assignments and reported changes. Parse, call, answer."""

from __future__ import annotations

import re
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, get, post, put
from litestar.handlers import HTTPRouteHandler
from litestar.params import Parameter

from recognition.parts import PART_MODELS
from recognition.use_cases import provider, recognitions
from recognition.views.common import PROVIDER, organisation_of, provider_access
from recognition.views.schemas import (
    AnswerIn,
    ApplicationSummary,
    AssignmentEndIn,
    AssignmentIn,
    ChangeReportIn,
    ProviderApplication,
    RecognitionOut,
    ReconsiderationIn,
)
from service_runtime import paging
from service_runtime.api import Page, page_of, pick
from service_runtime.errors import Invalid
from service_runtime.http import Context, problem_for, strict_json_body
from service_runtime.paging import Cursor, Limit
from wse_contracts import StrictModel

IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{8,200}$"
IdempotencyKey = Annotated[
    str | None,
    Parameter(
        header="Idempotency-Key",
        required=False,
        description="Any 8 to 200 visible ASCII characters, new for each application (a UUID): the same key again answers the same application, never two",
        schema_extra={"oneOf": None, "type": "string", "minLength": 8, "maxLength": 200, "pattern": IDEMPOTENCY_KEY_PATTERN},
    ),
]


def _idempotency_key(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, value):
        raise problem_for(Invalid("8 to 200 visible ASCII characters", field="idempotency-key", rule="E-13"))
    return value


def application_out(found: dict[str, Any]) -> ProviderApplication:
    return pick(ProviderApplication, found)


class ProviderController(Controller):
    path = "/v1/provider"
    tags = ["provider"]
    before_request = staticmethod(strict_json_body)

    @post("/applications", opt=provider_access(404, 409), status_code=201)
    async def start_application(self, ctx: Context, idempotency_key: IdempotencyKey = None) -> ProviderApplication:
        """E-13: start an application at any time. One open application per organisation (409,
        E-5); the same Idempotency-Key again answers the application it created. 404 while the
        organisation is not known to Platos yet."""
        return application_out(
            await ctx.run(
                provider.start_application,
                actor_id=ctx.principal.person_id,
                organisation_id=organisation_of(ctx.principal),
                idempotency_key=_idempotency_key(idempotency_key),
                now=ctx.clock.now(),
            )
        )

    @get("/applications", opt=PROVIDER)
    async def applications(self, ctx: Context, limit: Limit = paging.DEFAULT_LIMIT, cursor: Cursor = None) -> Page[ApplicationSummary]:
        """The organisation's applications, open and past, the last changed first."""
        found = await ctx.run(provider.open_and_past, read_only=True, organisation_id=organisation_of(ctx.principal), limit=limit, cursor=cursor)
        return page_of(ApplicationSummary, found)

    @get("/applications/{application_id:uuid}", opt=provider_access(404))
    async def application(self, ctx: Context, application_id: UUID) -> ProviderApplication:
        """One of the organisation's applications with its derived dates; another organisation's is a 403 (audited)."""
        return application_out(
            await ctx.run(provider.application, read_only=True, organisation_id=organisation_of(ctx.principal), application_id=application_id)
        )

    @post("/applications/{application_id:uuid}/submit", opt=provider_access(404, 409), status_code=200)
    async def submit(self, ctx: Context, application_id: UUID) -> ProviderApplication:
        """E-4: submit; the answer is the confirmation, and the contact person is emailed (N-3).
        422 lists every missing part (E-3) and every subcontractor that is not recognised (E-11);
        409 once submitted."""
        return application_out(
            await ctx.run(
                provider.submit_application,
                actor_id=ctx.principal.person_id,
                organisation_id=organisation_of(ctx.principal),
                application_id=application_id,
                now=ctx.clock.now(),
            )
        )

    @post("/applications/{application_id:uuid}/information-requests/{request_id:uuid}/answer", opt=provider_access(404, 409), status_code=200)
    async def answer(self, ctx: Context, application_id: UUID, request_id: UUID, data: AnswerIn) -> ProviderApplication:
        """E-6: the information asked for (text and documents); the examination term runs again
        with the suspended days added. 409 when already answered."""
        return application_out(
            await ctx.run(
                provider.answer_information_request,
                actor_id=ctx.principal.person_id,
                organisation_id=organisation_of(ctx.principal),
                application_id=application_id,
                request_id=request_id,
                answer=data.answer,
                documents=[d.model_dump() for d in data.documents],
                now=ctx.clock.now(),
            )
        )

    @post("/applications/{application_id:uuid}/reconsideration", opt=provider_access(404, 409), status_code=200)
    async def request_reconsideration(self, ctx: Context, application_id: UUID, data: ReconsiderationIn) -> ProviderApplication:
        """E-10: a motivated request against a refusal within 30 days of being informed of it (the
        decision email's delivery); later is a 422 naming the last allowed day."""
        return application_out(
            await ctx.run(
                provider.request_reconsideration,
                actor_id=ctx.principal.person_id,
                organisation_id=organisation_of(ctx.principal),
                application_id=application_id,
                motivation=data.motivation,
                now=ctx.clock.now(),
            )
        )

    @get("/recognitions", opt=PROVIDER)
    async def recognitions(self, ctx: Context) -> list[RecognitionOut]:
        """The organisation's recognitions with their dates, assignments and reported changes."""
        found = await ctx.run(recognitions.own_recognitions, read_only=True, organisation_id=organisation_of(ctx.principal), today=ctx.today)
        return [pick(RecognitionOut, r) for r in found]

    @get("/recognitions/{recognition_id:uuid}", opt=provider_access(404))
    async def recognition(self, ctx: Context, recognition_id: UUID) -> RecognitionOut:
        return pick(
            RecognitionOut,
            await ctx.run(
                recognitions.own_recognition, read_only=True, organisation_id=organisation_of(ctx.principal), recognition_id=recognition_id, today=ctx.today
            ),
        )

    @post("/recognitions/{recognition_id:uuid}/assignments", opt=provider_access(404, 409), status_code=201)
    async def record_assignment(self, ctx: Context, recognition_id: UUID, data: AssignmentIn) -> RecognitionOut:
        """E-9: a coaching assignment (employer and dates, no employee); the day the recognition
        would end for want of coaching moves with it. 409 when the recognition no longer holds."""
        return pick(
            RecognitionOut,
            await ctx.run(
                recognitions.record_assignment,
                actor_id=ctx.principal.person_id,
                organisation_id=organisation_of(ctx.principal),
                recognition_id=recognition_id,
                employer_name=data.employer_name,
                employer_enterprise_number=data.employer_enterprise_number,
                starts_on=data.starts_on,
                ends_on=data.ends_on,
                now=ctx.clock.now(),
            ),
        )

    @post("/recognitions/{recognition_id:uuid}/assignments/{assignment_id:uuid}/end", opt=provider_access(404), status_code=200)
    async def end_assignment(self, ctx: Context, recognition_id: UUID, assignment_id: UUID, data: AssignmentEndIn) -> RecognitionOut:
        """E-9: the end of an assignment, once known."""
        return pick(
            RecognitionOut,
            await ctx.run(
                recognitions.end_assignment,
                organisation_id=organisation_of(ctx.principal),
                recognition_id=recognition_id,
                assignment_id=assignment_id,
                ends_on=data.ends_on,
                now=ctx.clock.now(),
            ),
        )

    @post("/recognitions/{recognition_id:uuid}/change-reports", opt=provider_access(404, 409), status_code=201)
    async def report_change(self, ctx: Context, recognition_id: UUID, data: ChangeReportIn) -> RecognitionOut:
        """E-12: report a change that affects (or may affect) the conditions; the department reviews it."""
        return pick(
            RecognitionOut,
            await ctx.run(
                recognitions.report_change,
                actor_id=ctx.principal.person_id,
                organisation_id=organisation_of(ctx.principal),
                recognition_id=recognition_id,
                description=data.description,
                now=ctx.clock.now(),
            ),
        )


PART_NUMBERS = {name: i + 1 for i, name in enumerate(PART_MODELS)}


def _save_part_handler(name: str, model: type[StrictModel]) -> HTTPRouteHandler:
    """PUT .../parts/<name>, its body the part's own model (one operation per part, so the
    document says exactly what each part takes)."""

    async def save_part(ctx: Any, application_id: UUID, data: Any) -> ProviderApplication:
        return application_out(
            await ctx.run(
                provider.save_part,
                organisation_id=organisation_of(ctx.principal),
                application_id=application_id,
                name=name,
                body=data.model_dump(mode="json"),
                now=ctx.clock.now(),
            )
        )

    # The annotations as objects: this module's are text (postponed), and `model` is this call's.
    save_part.__annotations__ = {"ctx": Context, "application_id": UUID, "data": model, "return": ProviderApplication}
    save_part.__name__ = save_part.__qualname__ = f"save_{name}_part"
    return put(
        f"/v1/provider/applications/{{application_id:uuid}}/parts/{name}",
        opt=provider_access(404, 409),
        tags=["provider"],
        before_request=strict_json_body,
        summary=f"Save part {PART_NUMBERS[name]} ({name})",
        description=(
            f"E-3, part {PART_NUMBERS[name]}: {(model.__doc__ or '').strip()} Every problem is listed per field with its rule (422); "
            "a part with problems is not saved, saved parts stay. 409 once submitted."
        ),
    )(save_part)


PART_ROUTES = [_save_part_handler(name, model) for name, model in PART_MODELS.items()]
