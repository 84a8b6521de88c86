"""HTTP of the department's case handlers (case_handler@platos): the work queue, the application
with its facts and history, admissibility, questions, advice, the minister's decisions, the
reconsideration and the reported changes. Parse, call, answer."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import Parameter

from recognition.use_cases import back_office, recognitions
from recognition.views.common import CASE_HANDLER, case_handler_access
from recognition.views.schemas import (
    AdmissibilityIn,
    AdviceIn,
    BackOfficeApplication,
    ChangeReportItem,
    DecisionIn,
    HearingIn,
    QuestionIn,
    QueueItem,
    RecognitionOut,
    ReviewIn,
)
from service_runtime import paging
from service_runtime.api import Page, page_of, pick
from service_runtime.http import Context, strict_json_body
from service_runtime.paging import Cursor, Limit

# Text, checked by the use case: typed as the enum, Litestar would read "null" as no filter at all.
QueueStatus = Annotated[
    str | None,
    Parameter(
        description="only applications in this state",
        schema_extra={"oneOf": None, "type": "string", "enum": [s.value for s in back_office.domain.QUEUE_STATUSES]},
    ),
]


def application_out(found: dict[str, Any]) -> BackOfficeApplication:
    return pick(BackOfficeApplication, found)


class BackOfficeController(Controller):
    path = "/v1/back-office"
    tags = ["back office"]
    before_request = staticmethod(strict_json_body)

    @get("/queue", opt=CASE_HANDLER)
    async def queue(
        self,
        ctx: Context,
        status: QueueStatus = None,
        organisation_id: UUID | None = None,
        overdue: bool = False,
        due_before: date | None = None,
        limit: Limit = paging.DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[QueueItem]:
        """Applications being handled, the nearest deadline first so the overdue ones lead (E-5's
        7 days, E-6's 45 days plus suspensions, E-10's 45 days after the hearing), those without a
        running term last. The deadlines are derived in SQL from the stored facts."""
        found = await ctx.run(
            back_office.work_queue,
            read_only=True,
            today=ctx.today,
            status=status,
            organisation_id=organisation_id,
            overdue=overdue,
            due_before=due_before,
            limit=limit,
            cursor=cursor,
        )
        return page_of(QueueItem, found)

    @get("/applications/{application_id:uuid}", opt=case_handler_access(404))
    async def application(self, ctx: Context, application_id: UUID) -> BackOfficeApplication:
        """The application with its parts, derived dates, questions, the WSE quality registration
        as a fact (E-2) and its history."""
        return application_out(await ctx.run(back_office.application, read_only=True, application_id=application_id))

    @post("/applications/{application_id:uuid}/admissibility", opt=case_handler_access(404, 409), status_code=200)
    async def admissibility(self, ctx: Context, application_id: UUID, data: AdmissibilityIn) -> BackOfficeApplication:
        """E-5: admissible, or inadmissible with the reasons; the applicant is emailed either way
        and the examination term (E-6) starts the day that email is delivered."""
        return application_out(
            await ctx.run(
                back_office.judge_admissibility,
                actor_id=ctx.principal.person_id,
                application_id=application_id,
                admissible=data.outcome == "admissible",
                reasons=data.reasons,
                now=ctx.clock.now(),
            )
        )

    @post("/applications/{application_id:uuid}/information-requests", opt=case_handler_access(404, 409), status_code=201)
    async def request_information(self, ctx: Context, application_id: UUID, data: QuestionIn) -> BackOfficeApplication:
        """E-6: ask for information; the examination term is suspended until it is received."""
        return application_out(
            await ctx.run(
                back_office.request_information, actor_id=ctx.principal.person_id, application_id=application_id, question=data.question, now=ctx.clock.now()
            )
        )

    @post("/applications/{application_id:uuid}/advice", opt=case_handler_access(404, 409), status_code=200)
    async def advise(self, ctx: Context, application_id: UUID, data: AdviceIn) -> BackOfficeApplication:
        """E-7: the department's motivated advice to the minister."""
        return application_out(
            await ctx.run(
                back_office.advise,
                actor_id=ctx.principal.person_id,
                application_id=application_id,
                advice=data.advice,
                motivation=data.motivation,
                now=ctx.clock.now(),
            )
        )

    @post("/applications/{application_id:uuid}/decision", opt=case_handler_access(404, 409), status_code=200)
    async def decide(self, ctx: Context, application_id: UUID, data: DecisionIn) -> BackOfficeApplication:
        """E-7, E-8: the minister's decision with its date; granted, the recognition holds 5 years
        from `recognition_starts_on`. The applicant is emailed (N-3)."""
        return application_out(
            await ctx.run(
                back_office.decide,
                actor_id=ctx.principal.person_id,
                application_id=application_id,
                outcome=data.outcome,
                decided_on=data.decided_on,
                recognition_starts_on=data.recognition_starts_on,
                reasons=data.reasons,
                now=ctx.clock.now(),
            )
        )

    @post("/applications/{application_id:uuid}/reconsideration/hearing", opt=case_handler_access(404, 409), status_code=200)
    async def hearing(self, ctx: Context, application_id: UUID, data: HearingIn) -> BackOfficeApplication:
        """E-10: the commission heard the applicant; its advice is due 45 days later."""
        return application_out(
            await ctx.run(
                back_office.record_hearing, actor_id=ctx.principal.person_id, application_id=application_id, heard_on=data.heard_on, now=ctx.clock.now()
            )
        )

    @post("/applications/{application_id:uuid}/reconsideration/advice", opt=case_handler_access(404, 409), status_code=200)
    async def commission_advice(self, ctx: Context, application_id: UUID, data: AdviceIn) -> BackOfficeApplication:
        """E-10: the commission's advice to the minister."""
        return application_out(
            await ctx.run(
                back_office.record_commission_advice,
                actor_id=ctx.principal.person_id,
                application_id=application_id,
                advice=data.advice,
                motivation=data.motivation,
                now=ctx.clock.now(),
            )
        )

    @post("/applications/{application_id:uuid}/reconsideration/decision", opt=case_handler_access(404, 409), status_code=200)
    async def reconsideration_decision(self, ctx: Context, application_id: UUID, data: DecisionIn) -> BackOfficeApplication:
        """E-10: the minister's new decision; the applicant is emailed the outcome (N-3)."""
        return application_out(
            await ctx.run(
                back_office.decide_reconsideration,
                actor_id=ctx.principal.person_id,
                application_id=application_id,
                outcome=data.outcome,
                decided_on=data.decided_on,
                recognition_starts_on=data.recognition_starts_on,
                reasons=data.reasons,
                now=ctx.clock.now(),
            )
        )

    @get("/change-reports", opt=CASE_HANDLER)
    async def change_reports(self, ctx: Context, limit: Limit = paging.DEFAULT_LIMIT, cursor: Cursor = None) -> Page[ChangeReportItem]:
        """E-12: changes reported by recognised providers, not reviewed yet, the oldest first."""
        return page_of(ChangeReportItem, await ctx.run(recognitions.open_change_reports, read_only=True, limit=limit, cursor=cursor))

    @post("/change-reports/{report_id:uuid}/review", opt=case_handler_access(404, 409), status_code=200)
    async def review_change(self, ctx: Context, report_id: UUID, data: ReviewIn) -> RecognitionOut:
        """E-12: noted, or the recognition withdrawn from today (the provider is emailed why)."""
        return pick(
            RecognitionOut,
            await ctx.run(
                recognitions.review_change, actor_id=ctx.principal.person_id, report_id=report_id, outcome=data.outcome, note=data.note, now=ctx.clock.now()
            ),
        )

    @get("/recognitions/{recognition_id:uuid}", opt=case_handler_access(404))
    async def recognition(self, ctx: Context, recognition_id: UUID) -> RecognitionOut:
        return pick(RecognitionOut, await ctx.run(recognitions.recognition_for_department, read_only=True, recognition_id=recognition_id, today=ctx.today))
