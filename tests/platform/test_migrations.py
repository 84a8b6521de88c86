"""Versioned migrations: applied at start or by command, harmless when re-run."""

from __future__ import annotations

import json

import pytest

from service_runtime.migrations import Migration, MigrationChanged, apply_migrations
from tests.platform.helpers import Probe, connect, new_database

pytestmark = pytest.mark.slow


async def test_migrate_command_applies_once_and_a_rerun_changes_nothing(stack, tmp_path):
    probe = Probe(stack, database_url=await new_database(stack, "migrate"), topic="unused", roles="producer", log_dir=tmp_path, name="m")
    first = probe.cli("migrate")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout.splitlines()[-1])["applied"] == [
        "runtime/0001_runtime.sql",
        "runtime/0002_audit_log.sql",
        "runtime/0003_organisations_projection.sql",
        "runtime/0004_statutory_terms.sql",
        "probe/0001_probe.sql",
    ]
    again = probe.cli("migrate")
    assert json.loads(again.stdout.splitlines()[-1])["applied"] == []


async def test_an_applied_migration_that_was_edited_is_refused(stack):
    connection = await connect(await new_database(stack, "edited"))
    try:
        await apply_migrations(connection, [Migration("x", 1, "0001_a.sql", "CREATE TABLE a (id int);")])
        with pytest.raises(MigrationChanged):
            await apply_migrations(connection, [Migration("x", 1, "0001_a.sql", "CREATE TABLE a (id bigint);")])
    finally:
        await connection.close()
