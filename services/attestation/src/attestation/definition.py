"""The attestation service's definition: what it stores, serves, consumes and publishes."""

from __future__ import annotations

from attestation import handlers
from attestation.views import ROUTES
from service_runtime.projections import OrganisationsProjection, RightsProjection
from service_runtime.service import Service
from service_runtime.settings import ServiceSettings
from wse_contracts.attestation import (
    AttendanceAttestedV1,
    AttestationCorrectedV1,
    AttestationWithdrawnV1,
    CompletionAttestedV1,
    EnrolmentAttestedV1,
    EntitlementReachedV1,
)


class Settings(ServiceSettings):
    http_port: int = 8004


service = Service(
    name="attestation",
    description="Enrolment and attendance attestations for Flemish training leave.",
    migrations_package="attestation.migrations",
    settings_class=Settings,
    route_handlers=ROUTES,
    projections=[RightsProjection(), OrganisationsProjection()],
    consumers=[handlers.trainings_consumer(), handlers.persons_consumer()],
    on_start=handlers.on_start,
    publishes=[EnrolmentAttestedV1, AttendanceAttestedV1, CompletionAttestedV1, AttestationCorrectedV1, AttestationWithdrawnV1, EntitlementReachedV1],
)
