"""ID-12: identity's own audit trail, from before the one audit log, survives the move into it."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from identity.definition import service
from service_runtime.migrations import apply_migrations
from tests.platform.helpers import connect, new_database

pytestmark = pytest.mark.slow


async def test_id_12_the_old_audit_trail_moves_into_the_audit_log_without_inventing_whom_the_actor_acted_for(stack):
    connection = await connect(await new_database(stack, "identity_audit_move"))
    try:
        migrations = service.migrations()
        before_the_move = [m for m in migrations if not (m.component == "identity" and m.version >= 3)]
        assert len(before_the_move) == len(migrations) - 1
        await apply_migrations(connection, before_the_move)
        actor, organisation = uuid4(), uuid4()
        at = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
        await connection.execute(
            "INSERT INTO audit_trail (at, actor_id, action, subject, organisation_id, outcome, details, correlation_id) VALUES "
            "($1, $2, 'right.granted', 'someone', $3, 'done', $4, 'c-1'), "
            "($1, $2, 'POST /v1/organisations/x/members', NULL, $3, 'denied', $5, 'c-2')",
            at,
            actor,
            organisation,
            {"role": "user"},
            {"reason": "You act for another organisation"},
        )

        assert await apply_migrations(connection, migrations) == ["identity/0003_audit_trail_into_audit_log.sql"]

        rows = await connection.fetch(
            "SELECT at, actor_id, acting_for, organisation_id, action, subject, outcome, reason, details, correlation_id FROM audit_log ORDER BY id"
        )
        assert [dict(r) for r in rows] == [
            {
                "at": at,
                "actor_id": actor,
                "acting_for": None,  # never recorded: not guessed from the organisation concerned
                "organisation_id": organisation,
                "action": "right.granted",
                "subject": "someone",
                "outcome": "done",
                "reason": None,
                "details": {"role": "user"},
                "correlation_id": "c-1",
            },
            {
                "at": at,
                "actor_id": actor,
                "acting_for": None,
                "organisation_id": organisation,
                "action": "POST /v1/organisations/x/members",
                "subject": None,
                "outcome": "denied",
                "reason": "You act for another organisation",
                "details": {"reason": "You act for another organisation"},
                "correlation_id": "c-2",
            },
        ]
        assert await connection.fetchval("SELECT to_regclass('audit_trail')") is None
    finally:
        await connection.close()
