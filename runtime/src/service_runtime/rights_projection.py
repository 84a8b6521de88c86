"""The local copy of identity's rights that every service keeps (architecture: no synchronous call
to identity on the request path). A service adds `rights_projection_consumer()` to its consumers."""

from __future__ import annotations

import asyncpg

from service_runtime.consumer import Consumer
from wse_contracts import Envelope
from wse_contracts.identity import RightGrantedV1, RightRevokedV1, RightValidityChangedV1


async def _granted(connection: asyncpg.Connection, envelope: Envelope) -> None:
    right = RightGrantedV1.model_validate(envelope.data)
    await connection.execute(
        """
        INSERT INTO rights_projection (right_id, person_id, organisation_id, role, context, valid_from, valid_until)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (right_id) DO UPDATE SET valid_from = EXCLUDED.valid_from, valid_until = EXCLUDED.valid_until, updated_at = now()
        WHERE rights_projection.revoked_at IS NULL  -- a revocation seen first (a replayed grant) wins
        """,
        right.right_id,
        right.person_id,
        right.organisation_id,
        right.role,
        right.context,
        right.valid_from,
        right.valid_until,
    )


async def _validity_changed(connection: asyncpg.Connection, envelope: Envelope) -> None:
    right = RightValidityChangedV1.model_validate(envelope.data)
    await connection.execute(
        "UPDATE rights_projection SET valid_from = $2, valid_until = $3, updated_at = now() WHERE right_id = $1",
        right.right_id,
        right.valid_from,
        right.valid_until,
    )


async def _revoked(connection: asyncpg.Connection, envelope: Envelope) -> None:
    right = RightRevokedV1.model_validate(envelope.data)
    # A tombstone if the grant has not been seen (it may come later, from a dead-letter replay).
    await connection.execute(
        """
        INSERT INTO rights_projection (right_id, person_id, organisation_id, role, context, valid_from, revoked_at)
        VALUES ($1, $2, $3, $4, $5, '-infinity', now())
        ON CONFLICT (right_id) DO UPDATE SET revoked_at = now(), updated_at = now()
        """,
        right.right_id,
        right.person_id,
        right.organisation_id,
        right.role,
        right.context,
    )


def rights_projection_consumer() -> Consumer:
    return Consumer(
        name="rights-projection",
        topics=[RightGrantedV1.topic],
        description="Keeps identity's rights locally, so authorization never calls identity.",
        handlers={
            RightGrantedV1.event_type: _granted,
            RightValidityChangedV1.event_type: _validity_changed,
            RightRevokedV1.event_type: _revoked,
        },
    )
