"""The notification service's definition: what it stores, serves, consumes and publishes."""

from service_runtime.rights_projection import rights_projection_consumer
from service_runtime.service import Service
from service_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    http_port: int = 8005
    database_url: str = "postgresql://notification:notification@127.0.0.1:5433/notification"


service = Service(
    name="notification",
    description="Dutch emails to contact persons over SMTP, with a delivery log.",
    migrations_package="notification.migrations",
    settings_class=Settings,
    consumers=[rights_projection_consumer()],
)
