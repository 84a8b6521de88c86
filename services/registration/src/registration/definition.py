"""The registration service's definition: what it stores, serves, consumes and publishes."""

from service_runtime.rights_projection import rights_projection_consumer
from service_runtime.service import Service
from service_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    http_port: int = 8002
    database_url: str = "postgresql://registration:registration@127.0.0.1:5433/registration"


service = Service(
    name="registration",
    description="The ODB register: applications for trainings that give right to the Flemish training incentives.",
    migrations_package="registration.migrations",
    settings_class=Settings,
    consumers=[rights_projection_consumer()],
)
