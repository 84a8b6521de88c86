"""The attestation service's definition: what it stores, serves, consumes and publishes."""

from __future__ import annotations

from pydantic import Field

from attestation import handlers
from attestation.use_cases import keys
from attestation.views import ROUTES
from service_runtime import pii
from service_runtime.projections import OrganisationsProjection, RightsProjection
from service_runtime.service import Service, ServiceRuntime
from service_runtime.settings import ServiceSettings
from wse_contracts.attestation import (
    AttendanceAttestedV1,
    AttestationCorrectedV1,
    AttestationWithdrawnV1,
    CompletionAttestedV1,
    EnrolmentAttestedV1,
    EntitlementReachedV1,
)
from wse_contracts.notification import NotificationRequestedV1


class Settings(ServiceSettings):
    http_port: int = 8004
    # Bulk files (POST /v1/provider/bulk): larger ones get a 413; rows are stored in batches of this
    # many, each batch in its own transaction; the upload waits on disk (encrypted under a key of
    # its own, in memory only) until it is judged whole. Empty: the system's temporary directory.
    bulk_max_bytes: int = Field(default=250_000_000, description="A bulk file larger than this gets a 413.")
    bulk_batch_rows: int = Field(default=5_000, ge=1)
    bulk_spool_dir: str = ""


async def _rotate_pii_key(runtime: ServiceRuntime, argv: list[str]) -> int:
    """Re-encrypt every stored national register number under PII_ACTIVE_KEY."""
    connection = await runtime.connect()
    try:
        moved = await keys.reencrypt_students(connection, keys=pii.keys_for(runtime.settings))
    finally:
        await connection.close()
    print(f"{moved} national register numbers re-encrypted under key {pii.keys_for(runtime.settings).active_key_id}")
    return 0


service = Service(
    name="attestation",
    description="Enrolment and attendance attestations for Flemish training leave.",
    migrations_package="attestation.migrations",
    settings_class=Settings,
    route_handlers=ROUTES,
    projections=[RightsProjection(), OrganisationsProjection()],
    consumers=[handlers.trainings_consumer(), handlers.persons_consumer()],
    on_start=handlers.on_start,
    commands={"rotate-pii-key": ("re-encrypt every stored national register number under PII_ACTIVE_KEY (after adding a new key)", _rotate_pii_key)},
    publishes=[
        EnrolmentAttestedV1,
        AttendanceAttestedV1,
        CompletionAttestedV1,
        AttestationCorrectedV1,
        AttestationWithdrawnV1,
        EntitlementReachedV1,
        NotificationRequestedV1,
    ],
)
