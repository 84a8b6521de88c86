"""The recognition service's definition: what it stores, serves, consumes and publishes."""

from service_runtime.projections import OrganisationsProjection, RightsProjection
from service_runtime.service import Service
from service_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    http_port: int = 8003


service = Service(
    name="recognition",
    description="Platos: recognition of external service providers that coach employees with a disability.",
    migrations_package="recognition.migrations",
    settings_class=Settings,
    projections=[RightsProjection(), OrganisationsProjection()],
)
