"""The attestation service's definition: what it stores, serves, consumes and publishes."""

from service_runtime.projections import OrganisationsProjection, RightsProjection
from service_runtime.service import Service
from service_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    http_port: int = 8004


service = Service(
    name="attestation",
    description="Enrolment and attendance attestations for Flemish training leave.",
    migrations_package="attestation.migrations",
    settings_class=Settings,
    projections=[RightsProjection(), OrganisationsProjection()],
)
