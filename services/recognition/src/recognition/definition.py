"""The recognition service's definition: what it stores, serves, consumes and publishes."""

from service_runtime.rights_projection import rights_projection_consumer
from service_runtime.service import Service
from service_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    http_port: int = 8003
    database_url: str = "postgresql://recognition:recognition@127.0.0.1:5433/recognition"


service = Service(
    name="recognition",
    description="Platos: recognition of external service providers that coach employees with a disability.",
    migrations_package="recognition.migrations",
    settings_class=Settings,
    consumers=[rights_projection_consumer()],
)
