"""The identity service's definition: what it stores, serves, consumes and publishes."""

from service_runtime.service import Service
from service_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    http_port: int = 8001
    database_url: str = "postgresql://identity:identity@127.0.0.1:5433/identity"


service = Service(
    name="identity",
    description="Who may act for an organisation: organisations, local administrators, persons, rights, sign-in, audit trail.",
    migrations_package="identity.migrations",
    settings_class=Settings,
    consumers=[],
)
