"""The notification service's definition: what it stores, serves, consumes and publishes."""

from __future__ import annotations

from notification import handlers
from notification.views import ROUTES
from service_runtime.projections import RightsProjection
from service_runtime.service import Service
from service_runtime.settings import ServiceSettings
from wse_contracts.notification import NotificationDeliveredV1, NotificationFailedV1


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


service = Service(
    name="notification",
    description="Dutch emails to contact persons over SMTP, with a delivery log.",
    migrations_package="notification.migrations",
    settings_class=Settings,
    route_handlers=ROUTES,
    projections=[RightsProjection()],
    consumers=[handlers.requests_consumer()],
    publishes=[NotificationDeliveredV1, NotificationFailedV1],
    on_start=handlers.start,
    on_stop=handlers.stop,
)
