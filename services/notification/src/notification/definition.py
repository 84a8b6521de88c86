"""The notification service's definition: what it stores, serves, consumes and publishes."""

from __future__ import annotations

import asyncpg

from notification import service as use_cases
from notification import templates
from notification.smtp import SmtpSender
from notification.views import ROUTES
from service_runtime.clock import current_clock
from service_runtime.consumer import Consumer
from service_runtime.projections import RightsProjection
from service_runtime.service import Service, ServiceRuntime
from service_runtime.settings import ServiceSettings
from wse_contracts import Envelope
from wse_contracts.notification import NotificationDeliveredV1, NotificationFailedV1, NotificationRequestedV1


class Settings(ServiceSettings):
    http_port: int = 8005
    # Accepted requests wake the delivery loop (LISTEN/NOTIFY) and it sleeps until the next retry
    # is due; this is only the safety net for a wake-up missed while reconnecting.
    delivery_poll_seconds: float = 5.0
    delivery_batch_size: int = 100
    delivery_lease_seconds: float = 300.0  # a `sending` notification after this: its process died, send again
    delivery_give_up_after_hours: float = 72.0  # while the SMTP server cannot be reached, an email waits this long
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_tls: bool = False
    smtp_timeout_seconds: float = 10.0
    smtp_rate_per_second: float = 0.0  # 0: unlimited; a relay's limit goes here
    smtp_connections: int = 4  # sessions sending at once, each reused
    smtp_ca_file: str | None = None  # a CA to trust for the server's certificate, beside the system's
    mail_from: str = "Departement Werk en Sociale Economie <noreply@wse.vlaanderen.be>"
    reply_to: str | None = "opleidingsdatabank@vlaanderen.be"
    delivery_max_attempts: int = 8
    delivery_backoff_initial_seconds: float = 2.0
    delivery_backoff_max_seconds: float = 600.0


async def _requested(connection: asyncpg.Connection, envelopes: list[Envelope]) -> None:
    requests = [use_cases.Accepted(NotificationRequestedV1.model_validate(envelope.data), correlation_id=envelope.correlationid) for envelope in envelopes]
    await use_cases.accept_requests(connection, requests=requests, now=current_clock().now())


def requests_consumer() -> Consumer:
    return Consumer(
        name="requests",
        topics=[NotificationRequestedV1.topic],
        description="Renders each requested email (or fails it with the reason) and makes it due for delivery.",
        batch_handlers={NotificationRequestedV1.event_type: _requested},
    )


async def _start(runtime: ServiceRuntime) -> None:
    templates.catalogue()  # a broken template fails the start, not the first email that needs it
    settings = runtime.settings
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
    deliverer = use_cases.Deliverer(
        pool=runtime.pool,
        database_url=settings.database_url,
        sender=sender,
        clock=runtime.clock,
        poll_seconds=settings.delivery_poll_seconds,
        settings=use_cases.DeliverySettings(
            mail_from=settings.mail_from,
            reply_to=settings.reply_to,
            max_attempts=settings.delivery_max_attempts,
            backoff_initial=settings.delivery_backoff_initial_seconds,
            backoff_max=settings.delivery_backoff_max_seconds,
            batch_size=settings.delivery_batch_size,
            lease_seconds=settings.delivery_lease_seconds,
            give_up_after_hours=settings.delivery_give_up_after_hours,
        ),
    )
    runtime.extensions["smtp"], runtime.extensions["deliverer"] = sender, deliverer
    await deliverer.start()


async def _stop(runtime: ServiceRuntime) -> None:
    if (deliverer := runtime.extensions.get("deliverer")) is not None:
        await deliverer.stop()
    if (sender := runtime.extensions.get("smtp")) is not None:
        await sender.close()


service = Service(
    name="notification",
    description="Dutch emails to contact persons over SMTP, with a delivery log.",
    migrations_package="notification.migrations",
    settings_class=Settings,
    route_handlers=ROUTES,
    projections=[RightsProjection()],
    consumers=[requests_consumer()],
    publishes=[NotificationDeliveredV1, NotificationFailedV1],
    on_start=_start,
    on_stop=_stop,
)
