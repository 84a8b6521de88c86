"""The attestation service's definition: what it stores, serves, consumes and publishes."""

from service_runtime.rights_projection import rights_projection_consumer
from service_runtime.service import Service
from service_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    http_port: int = 8004
    database_url: str = "postgresql://attestation:attestation@127.0.0.1:5433/attestation"


service = Service(
    name="attestation",
    description="Enrolment and attendance attestations for Flemish training leave.",
    migrations_package="attestation.migrations",
    settings_class=Settings,
    consumers=[rights_projection_consumer()],
)
