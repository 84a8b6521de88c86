"""HTTP entry points of the notification service: the delivery log and the templates, for the
department's back office (`operator@department`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import Parameter
from pydantic import Field

from notification import service, templates
from service_runtime.http import FieldProblem, Problem, RightRequired, access
from wse_contracts import StrictModel

BACK_OFFICE = access(RightRequired(role="operator", context="department"))

Status = Literal["created", "sending", "delivered", "temporary-failure", "permanent-failure", "technical-failure"]


class PreviewIn(StrictModel):
    version: Annotated[int, Field(ge=1, le=1000)] = 1
    personalisation: dict[str, Any] = Field(default_factory=dict)


class NotificationController(Controller):
    path = "/v1"
    tags = ["notifications"]

    @get("/notifications", opt=BACK_OFFICE)
    async def list_notifications(
        self,
        request: Request,
        reference: Annotated[str | None, Parameter(max_length=200)] = None,
        recipient: Annotated[str | None, Parameter(max_length=320)] = None,
        status: Status | None = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        """Did the contact person get it? By dossier reference, recipient or status, newest first."""
        async with request.app.state.runtime.pool.acquire() as connection:
            return await service.notifications(connection, reference=reference, recipient=recipient, status=status, limit=limit)

    @get("/notifications/{notification_id:uuid}", opt=BACK_OFFICE)
    async def one_notification(self, request: Request, notification_id: UUID) -> dict[str, Any]:
        """One notification with its rendered subject and parts, and its delivery log."""
        async with request.app.state.runtime.pool.acquire() as connection:
            found = await service.notification(connection, notification_id=notification_id)
        if found is None:
            raise Problem(404, "Not found", "no such notification")
        return found

    @get("/templates", opt=BACK_OFFICE)
    async def list_templates(self) -> list[dict[str, Any]]:
        """Every template version with the personalisation it needs and an example."""
        return [
            {
                "template_id": t.template_id,
                "version": t.version,
                "description": t.description,
                "required": sorted(t.required),
                "optional": sorted(t.optional),
                "example": dict(t.example),
            }
            for t in templates.catalogue()
        ]

    @post("/templates/{template_id:str}/preview", opt=BACK_OFFICE, status_code=200)
    async def preview(self, template_id: str, data: PreviewIn) -> dict[str, str]:
        """The template rendered with the given personalisation (every placeholder it needs)."""
        try:
            rendered = templates.render(template_id, data.version, data.personalisation)
        except templates.UnknownTemplate as error:
            raise Problem(404, "Not found", str(error)) from None
        except templates.MissingPersonalisation as error:
            raise Problem(422, "The request is not valid", errors=[FieldProblem(f"personalisation.{key}", "missing") for key in error.missing]) from None
        except templates.TemplateError as error:
            raise Problem(422, "The request is not valid", str(error)) from None
        return {"subject": rendered.subject, "text": rendered.text, "html": rendered.html}


ROUTES = [NotificationController]
