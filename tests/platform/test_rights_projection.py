"""The rights projection every service keeps, fed events in an order a dead-letter replay can cause."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from service_runtime.auth import holds_right
from service_runtime.calendar import today as brussels_today  # the Brussels date, as the services judge validity
from service_runtime.clock import SystemClock
from service_runtime.migrations import apply_migrations, discover
from service_runtime.projections import RightsProjection
from tests.platform.helpers import connect, new_database
from wse_contracts.identity import RightGrantedV1, RightRevokedV1


async def test_a_revocation_seen_before_its_grant_wins_when_the_grant_is_replayed_later(stack):
    connection = await connect(await new_database(stack, "projection"))
    try:
        await apply_migrations(connection, discover("runtime", "service_runtime.sql"))
        handlers = RightsProjection().consumer().handlers
        grant = RightGrantedV1(
            right_id=uuid4(),
            person_id=uuid4(),
            organisation_id=uuid4(),
            role="dwse_organisation_officer",
            context="platos",
            valid_from=brussels_today(SystemClock()) - timedelta(days=1),
        )
        revoke = RightRevokedV1(**grant.model_dump(include={"right_id", "person_id", "organisation_id", "role", "context"}))
        for event in (revoke, grant):  # the grant was dead-lettered, then replayed after the revocation
            envelope = event.to_envelope(source="/wse/identity", correlation_id="t")
            async with connection.transaction():
                await handlers[envelope.type](connection, envelope)
        assert not await holds_right(
            connection,
            person_id=grant.person_id,
            organisation_id=grant.organisation_id,
            role=grant.role,
            context=grant.context,
            on=brussels_today(SystemClock()),
        )
    finally:
        await connection.close()
