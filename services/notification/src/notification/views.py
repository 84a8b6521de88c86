"""HTTP entry points of the notification service: the delivery log and the templates, for the
department's back office (`operator@department`)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import Parameter
from pydantic import Field

from notification import use_cases
from notification.domain import Status
from service_runtime.errors import DomainError
from service_runtime.http import Context, RightRequired, access, problem_for
from wse_contracts import StrictModel

BACK_OFFICE = access(RightRequired(role="operator", context="department"))


class PreviewIn(StrictModel):
    version: Annotated[int, Field(ge=1, le=1000)] = 1
    personalisation: dict[str, Any] = Field(default_factory=dict)


class NotificationController(Controller):
    path = "/v1"
    tags = ["notifications"]

    @get("/notifications", opt=BACK_OFFICE)
    async def list_notifications(
        self,
        ctx: Context,
        reference: Annotated[str | None, Parameter(max_length=200)] = None,
        recipient: Annotated[str | None, Parameter(max_length=320)] = None,
        status: Status | None = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        """Did the contact person get it? By dossier reference, recipient or status, newest first."""
        return await ctx.run(use_cases.notifications, read_only=True, reference=reference, recipient=recipient, status=status, limit=limit)

    @get("/notifications/{notification_id:uuid}", opt=BACK_OFFICE)
    async def one_notification(self, ctx: Context, notification_id: UUID) -> dict[str, Any]:
        """One notification with its rendered subject and parts, and its delivery log."""
        return await ctx.run(use_cases.notification, read_only=True, notification_id=notification_id)

    @get("/templates", opt=BACK_OFFICE)
    async def list_templates(self) -> list[dict[str, Any]]:
        """Every template version with the personalisation it needs and an example."""
        return use_cases.template_list()

    @post("/templates/{template_id:str}/preview", opt=BACK_OFFICE, status_code=200)
    async def preview(self, template_id: str, data: PreviewIn) -> dict[str, str]:
        """The template rendered with the given personalisation, checked against the template's model."""
        try:
            rendered = use_cases.preview(template_id=template_id, version=data.version, personalisation=data.personalisation)
        except DomainError as error:  # no database involved, so not through `ctx.run`: the same mapping
            raise problem_for(error) from None
        return {"subject": rendered.subject, "text": rendered.text, "html": rendered.html}


ROUTES = [NotificationController]
