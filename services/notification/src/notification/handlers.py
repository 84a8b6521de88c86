"""What the notification service does besides answering HTTP: accept the requests that arrive on
Kafka (a thin call into the use case), and run the delivery loop from start to stop."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, cast

import asyncpg

from notification import templates, use_cases
from notification.delivery import Deliverer, DeliverySettings
from notification.domain import RetryPolicy
from notification.smtp import SmtpSender
from service_runtime.clock import current_clock
from service_runtime.consumer import Consumer, trace_context_of_event
from service_runtime.service import ServiceRuntime
from wse_contracts import Envelope
from wse_contracts.notification import NotificationRequestedV1

if TYPE_CHECKING:  # the definition imports this module
    from notification.definition import Settings


async def requested(connection: asyncpg.Connection, envelopes: list[Envelope]) -> None:
    requests = [
        use_cases.Accepted(
            NotificationRequestedV1.model_validate(envelope.data), correlation_id=envelope.correlationid, traceparent=trace_context_of_event(envelope)
        )
        for envelope in envelopes
    ]
    await use_cases.accept_requests(connection, requests=requests, now=current_clock().now())


def requests_consumer() -> Consumer:
    return Consumer(
        name="requests",
        topics=[NotificationRequestedV1.topic],
        description="Checks each requested email against its template's contract and renders it (or fails it with the reason), and makes it due for delivery.",
        batch_handlers={NotificationRequestedV1.event_type: requested},
    )


async def start(runtime: ServiceRuntime) -> None:
    """The SMTP sender and the delivery loop (runtime.extensions["smtp"], ["deliverer"])."""
    templates.catalogue()  # a broken template (or one without its model) fails the start, not the first email that needs it
    settings = cast("Settings", runtime.settings)
    sender = SmtpSender(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        use_tls=settings.smtp_tls,
        timeout=settings.smtp_timeout_seconds,
        rate_per_second=settings.smtp_rate_per_second,
        connections=settings.smtp_connections,
        ca_file=settings.smtp_ca_file,
    )
    deliverer = Deliverer(
        pool=runtime.db(),
        connect=runtime.connect,
        sender=sender,
        clock=runtime.clock,
        poll_seconds=settings.delivery_poll_seconds,
        settings=DeliverySettings(
            mail_from=settings.mail_from,
            reply_to=settings.reply_to,
            retry=RetryPolicy(
                max_attempts=settings.delivery_max_attempts,
                backoff_initial=settings.delivery_backoff_initial_seconds,
                backoff_max=settings.delivery_backoff_max_seconds,
                give_up_after=timedelta(hours=settings.delivery_give_up_after_hours),
            ),
            batch_size=settings.delivery_batch_size,
            lease_seconds=settings.delivery_lease_seconds,
        ),
    )
    runtime.extensions["smtp"], runtime.extensions["deliverer"] = sender, deliverer
    await deliverer.start()


async def stop(runtime: ServiceRuntime) -> None:
    if (deliverer := runtime.extensions.get("deliverer")) is not None:
        await deliverer.stop()
    if (sender := runtime.extensions.get("smtp")) is not None:
        await sender.close()
