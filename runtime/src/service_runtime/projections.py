"""Local copies of identity's data that services keep (architecture: no synchronous call to
identity on the request path). A service mounts what it needs in its definition:

    Service(..., projections=[RightsProjection(), OrganisationsProjection(on_change=release_held)])

- `RightsProjection`: who holds which role@context for which organisation, from when to when;
  `RightRequired` routes are answered from it (ID-6, ID-14). A service that declares a
  `RightRequired` route without mounting it fails at start instead of answering 403 forever.
- `OrganisationsProjection`: name, enterprise or institution number, kind, contact and the WSE
  quality registration with its dates (R-2, E-2), read with `organisation(connection, id)`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar
from uuid import UUID

import asyncpg

from service_runtime.consumer import Consumer
from wse_contracts import Envelope
from wse_contracts.identity import (
    OrganisationChangedV1,
    OrganisationRegisteredV1,
    RightGrantedV1,
    RightRevokedV1,
    RightValidityChangedV1,
)

# ------------------------------------------------------------------------------- rights


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


@dataclass(frozen=True)
class RightsProjection:
    """identity.rights -> rights_projection."""

    name: ClassVar[str] = "rights"

    def consumer(self) -> Consumer:
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


# ------------------------------------------------------------------------------- organisations


@dataclass(frozen=True, slots=True)
class Organisation:
    """An organisation as identity last described it."""

    organisation_id: UUID
    name: str
    kind: str
    enterprise_number: str | None
    institution_number: str | None
    contact_email: str | None
    quality_status: str
    quality_valid_from: date | None
    quality_valid_until: date | None

    def quality_registered_on(self, day: date) -> bool:
        """R-2, E-2: the WSE quality registration is 'registered' and holds on that day."""
        return quality_registered(self.quality_status, self.quality_valid_from, self.quality_valid_until, day)


def quality_registered(status: str, valid_from: date | None, valid_until: date | None, on: date) -> bool:
    """R-2, E-2: a quality registration counts when its status is 'registered' and `on` lies within its dates."""
    if status != "registered":
        return False
    return (valid_from is None or valid_from <= on) and (valid_until is None or on <= valid_until)


_COLUMNS = "organisation_id, name, kind, enterprise_number, institution_number, contact_email, quality_status, quality_valid_from, quality_valid_until"


async def organisation(connection: asyncpg.Connection, organisation_id: UUID) -> Organisation | None:
    """The organisation as the projection knows it; None before identity's event has arrived."""
    row = await connection.fetchrow(f"SELECT {_COLUMNS} FROM organisations_projection WHERE organisation_id = $1", organisation_id)
    return Organisation(**dict(row)) if row else None


OnOrganisationChange = Callable[[asyncpg.Connection, Organisation], Awaitable[Any]]


@dataclass(frozen=True)
class OrganisationsProjection:
    """identity.organisations -> organisations_projection; `on_change` runs in the same transaction
    after each registered or changed organisation is stored (registration releases held
    applications there, R-2)."""

    name: ClassVar[str] = "organisations"
    on_change: OnOrganisationChange | None = None
    description: str = "Keeps identity's organisations (kind, numbers, contact, WSE quality registration) locally."

    def consumer(self) -> Consumer:
        on_change = self.on_change

        async def apply(connection: asyncpg.Connection, envelope: Envelope) -> None:
            # Registered and changed carry the organisation's whole state: one handler for both.
            event = OrganisationChangedV1.model_validate(envelope.data)
            quality = event.quality_registration
            stored = Organisation(
                event.organisation_id,
                event.name,
                event.kind,
                event.enterprise_number,
                event.institution_number,
                event.contact_email,
                quality.status,
                quality.valid_from,
                quality.valid_until,
            )
            await connection.execute(
                f"""
                INSERT INTO organisations_projection ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                ON CONFLICT (organisation_id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind,
                    enterprise_number = EXCLUDED.enterprise_number, institution_number = EXCLUDED.institution_number,
                    contact_email = EXCLUDED.contact_email, quality_status = EXCLUDED.quality_status,
                    quality_valid_from = EXCLUDED.quality_valid_from, quality_valid_until = EXCLUDED.quality_valid_until,
                    updated_at = now()
                """,
                stored.organisation_id,
                stored.name,
                stored.kind,
                stored.enterprise_number,
                stored.institution_number,
                stored.contact_email,
                stored.quality_status,
                stored.quality_valid_from,
                stored.quality_valid_until,
            )
            if on_change is not None:
                await on_change(connection, stored)

        return Consumer(
            name="organisations",
            topics=[OrganisationRegisteredV1.topic],
            description=self.description,
            handlers={OrganisationRegisteredV1.event_type: apply, OrganisationChangedV1.event_type: apply},
        )


Projection = RightsProjection | OrganisationsProjection
