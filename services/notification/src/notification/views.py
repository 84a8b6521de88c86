"""HTTP entry points of the notification service: the delivery log and the templates, for the
department's back office (`operator@department`).

Every route declares its access rule and the errors its use case can answer beyond those the
runtime derives (`problems=`). Answers are the models of `notification.schemas`, built here from
the use cases' rows, so that an answer carries exactly the fields its document names; every list
is a `Page` with `limit` and a keyset `cursor`.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import Parameter
from pydantic import BaseModel

from notification import use_cases
from notification.domain import Status
from notification.schemas import (
    RECIPIENT_PATTERN,
    TEMPLATE_ID_PATTERN,
    NotificationOut,
    NotificationSummaryOut,
    PreviewIn,
    PreviewOut,
    TemplateOut,
)
from service_runtime.api import Page
from service_runtime.errors import DomainError
from service_runtime.http import Context, RightRequired, access, problem_for
from service_runtime.paging import DEFAULT_LIMIT, Cursor, Limit

M = TypeVar("M", bound=BaseModel)


def back_office(*problems: int) -> dict[str, Any]:
    return access(RightRequired(role="operator", context="department"), problems=problems)


# Every list is a page: `limit` items after `cursor` (the `next_cursor` of the page before).


def _page(model: type[M], result: tuple[list[dict[str, Any]], str | None]) -> Page[M]:
    rows, next_cursor = result
    return Page[model](items=[model.model_validate(row) for row in rows], next_cursor=next_cursor)  # type: ignore[valid-type]


class NotificationController(Controller):
    path = "/v1"
    tags = ["notifications"]

    @get("/notifications", opt=back_office())
    async def list_notifications(
        self,
        ctx: Context,
        reference: Annotated[str | None, Parameter(min_length=1, max_length=200, description="The dossier reference, exactly.")] = None,
        recipient: Annotated[
            str | None, Parameter(pattern=RECIPIENT_PATTERN, max_length=320, description="The recipient's email address (case does not matter).")
        ] = None,
        status: Status | None = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> Page[NotificationSummaryOut]:
        """Did the contact person get it? By dossier reference, recipient or status, newest first."""
        result = await ctx.run(use_cases.notifications, read_only=True, reference=reference, recipient=recipient, status=status, limit=limit, cursor=cursor)
        return _page(NotificationSummaryOut, result)

    @get("/notifications/{notification_id:uuid}", opt=back_office(404))
    async def one_notification(self, ctx: Context, notification_id: UUID) -> NotificationOut:
        """One notification with its rendered subject and parts, and its delivery log."""
        return NotificationOut.model_validate(await ctx.run(use_cases.notification, read_only=True, notification_id=notification_id))

    @get("/templates", opt=back_office())
    async def list_templates(self, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page[TemplateOut]:
        """Every template version with the personalisation it needs and an example, by id and version."""
        try:
            return _page(TemplateOut, use_cases.template_list(limit=limit, cursor=cursor))
        except DomainError as error:  # no database involved, so not through `ctx.run`: the same mapping
            raise problem_for(error) from None

    @post("/templates/{template_id:str}/preview", opt=back_office(404), status_code=200)
    async def preview(
        self,
        template_id: Annotated[str, Parameter(pattern=TEMPLATE_ID_PATTERN, max_length=151, description="e.g. registration.application_submitted")],
        data: PreviewIn,
    ) -> PreviewOut:
        """The template rendered with the given personalisation, checked against the template's model."""
        try:
            rendered = use_cases.preview(template_id=template_id, version=data.version, personalisation=data.personalisation)
        except DomainError as error:  # no database involved, so not through `ctx.run`: the same mapping
            raise problem_for(error) from None
        return PreviewOut(subject=rendered.subject, text=rendered.text, html=rendered.html)


ROUTES = [NotificationController]
