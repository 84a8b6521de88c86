"""The notification API's contract at the edge: what each request may carry and what each answer
carries, exactly. A portal or back-office team generates its client from these models (through the
OpenAPI document), so a field that is not here is not in the answer either: the views build these
models from the use cases' rows, never pass a row through.

Requests refuse unknown fields (StrictModel) and state their limits (patterns, lengths, enums);
what JSON Schema cannot say (a personalisation must match its template's model, which depends on
the template in the path) the service checks, with a 422 naming each field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, Field

from notification.domain import Status
from wse_contracts import StrictModel
from wse_contracts.emails import ApplicationSubmitted

# Paging: a keyset cursor is base64url text this service gave out with the previous page.

# A template's id: the sending service and the email, in snake_case ("registration.application_submitted").
TEMPLATE_ID_PATTERN = r"^[a-z][a-z0-9_]{0,49}\.[a-z][a-z0-9_]{0,99}$"
# A recipient to look for: an address as the requesting service gave it (compared without case).
RECIPIENT_PATTERN = r"^[^@\s]{1,64}@[^@\s]{1,255}$"


class DeliveryLogEntryOut(BaseModel):
    """One line of a notification's delivery log: a status it reached, when, and what the server said."""

    at: datetime
    status: Status
    detail: str | None = Field(description="The SMTP server's answer, the attempt's number, or why it failed.")


class NotificationSummaryOut(BaseModel):
    """A notification in the delivery log: did the contact person get it?"""

    notification_id: UUID
    reference: str = Field(description="The dossier the email is about, as the requesting service named it.")
    template_id: str
    template_version: int
    recipient_email: str
    recipient_name: str | None
    requested_by: str = Field(description="The requesting service.")
    status: Status
    attempts: int = Field(ge=0, description="Attempts to send it so far.")
    last_answer: str | None = Field(description="The SMTP server's last answer, or why it could not be sent.")
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None


class NotificationOut(NotificationSummaryOut):
    """One notification with its personalisation, the email as rendered, and its delivery log."""

    idempotency_key: str
    correlation_id: str | None = Field(description="The requesting service's correlation id, carried on to the outcome event.")
    personalisation: dict[str, Any]
    subject: str | None = Field(description="As rendered; null when the request could not be rendered (technical-failure).")
    body_text: str | None
    body_html: str | None
    next_attempt_at: datetime | None = Field(description="When it is due (again), while it is not delivered or failed.")
    log: list[DeliveryLogEntryOut]


class TemplateOut(BaseModel):
    """A template version with the personalisation its model (wse_contracts.emails) names, and an example."""

    template_id: str
    version: int
    description: str
    required: list[str] = Field(description="Personalisation fields every request must give.")
    optional: list[str] = Field(description="Personalisation fields a request may give.")
    example: dict[str, Any] = Field(description="A complete personalisation, as a sender sends it.")


class PreviewIn(StrictModel):
    version: Annotated[int, Field(ge=1, le=1000, examples=[1])] = 1
    personalisation: dict[str, Any] = Field(
        default_factory=dict,
        description="As a request gives it; checked against the template version's model.",
        # registration.application_submitted v1's example, as a sender sends it.
        examples=[ApplicationSubmitted.example().model_dump(mode="json")],
    )


class PreviewOut(BaseModel):
    """The email as it would be sent: subject, plain text and HTML."""

    subject: str
    text: str
    html: str
