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
        assert [m.name for m in migrations if m not in before_the_move][0] == "0003_audit_trail_into_audit_log.sql"
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

        assert (await apply_migrations(connection, migrations))[0] == "identity/0003_audit_trail_into_audit_log.sql"

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


async def test_id_13_themes_given_before_the_catalogue_join_it_and_no_grant_is_lost(stack):
    connection = await connect(await new_database(stack, "identity_theme_catalogue"))
    try:
        migrations = service.migrations()
        before = [m for m in migrations if not (m.component == "identity" and m.version >= 4)]
        await apply_migrations(connection, before)
        organisation, person = uuid4(), uuid4()
        await connection.execute("INSERT INTO organisations (organisation_id, name, kind) VALUES ($1, 'School', 'secondary_school')", organisation)
        await connection.execute(
            "INSERT INTO persons (person_id, national_register_number, last_name, first_name, gender, date_of_birth, email) "
            "VALUES ($1, '85073003328', 'A', 'B', 'x', '1985-07-30', 'a@b.example')",
            person,
        )
        await connection.execute("INSERT INTO memberships (organisation_id, person_id, role) VALUES ($1, $2, 'user')", organisation, person)
        await connection.execute(
            "INSERT INTO theme_grants (organisation_id, person_id, theme) VALUES ($1, $2, 'personeel'), ($1, $2, 'Oud Thema')", organisation, person
        )

        up_to_4 = [m for m in migrations if not (m.component == "identity" and m.version > 4)]
        assert await apply_migrations(connection, up_to_4) == ["identity/0004_theme_catalogue.sql"]

        assert await connection.fetchval("SELECT count(*) FROM theme_grants") == 2
        themes = {r["theme"]: r["description"] for r in await connection.fetch("SELECT theme, description FROM themes")}
        assert themes["personeel"] == "Personeel"  # the catalogue's own, not overwritten
        assert "na te kijken" in themes["Oud Thema"]  # kept, for the department to review
        assert "leerlingenbegeleiding" in themes
    finally:
        await connection.close()
