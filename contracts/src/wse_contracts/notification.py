"""The command every service sends to have a contact person emailed (the notification service
owns templates, SMTP delivery, retries and the delivery log)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import EmailStr, Field

from wse_contracts.events import TYPE_PREFIX, Event
from wse_contracts.models import StrictModel


class Recipient(StrictModel):
    email: EmailStr
    name: str | None = None


class NotificationRequestedV1(Event):
    """Email `recipients` with template `template_id` (at `template_version`), personalised.

    `idempotency_key` makes a repeated request a no-op; `reference` names the dossier it is about
    (and is the Kafka key, so one dossier's emails stay in order).
    """

    event_type: ClassVar[str] = TYPE_PREFIX + "notification.requested.v1"
    topic: ClassVar[str] = "notification.requests"
    key_field: ClassVar[str] = "reference"

    template_id: str
    template_version: int = 1
    recipients: list[Recipient] = Field(min_length=1)
    personalisation: dict[str, Any] = Field(default_factory=dict)
    reference: str
    idempotency_key: str
    requested_by: str


class _DeliveryOutcome(Event):
    topic: ClassVar[str] = "notification.deliveries"
    key_field: ClassVar[str] = "reference"

    notification_id: str
    reference: str
    template_id: str
    requested_by: str
    idempotency_key: str
    # When it happened, on the notification service's clock (which follows an acceptance
    # environment's moved clock): the day a statutory term starts from (E-6, E-10). None only in
    # events published before the field existed; a consumer then falls back to the envelope's time.
    at: datetime | None = None


class NotificationDeliveredV1(_DeliveryOutcome):
    """The SMTP server accepted the email for this recipient."""

    event_type: ClassVar[str] = TYPE_PREFIX + "notification.delivered.v1"


class NotificationFailedV1(_DeliveryOutcome):
    """No email went out, for good: permanent-failure (the server refused), technical-failure
    (retries exhausted, or the request could not be rendered)."""

    event_type: ClassVar[str] = TYPE_PREFIX + "notification.failed.v1"
    status: str
    reason: str
