"""Versioned SQL migrations: files named NNNN_description.sql in a package's `migrations` folder,
applied in order, each in its own transaction, recorded in `schema_migrations`. Re-running is
harmless; two replicas starting at once are serialised by an advisory lock."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg
import structlog

log = structlog.get_logger(__name__)

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_LOCK_KEY = 7_341_001  # arbitrary, constant: one advisory lock for migrations per database


@dataclass(frozen=True, slots=True)
class Migration:
    component: str
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(component: str, package: str) -> list[Migration]:
    """Migrations shipped in `package` (a dotted package with the .sql files in it)."""
    found = []
    for entry in resources.files(package).iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(component, int(match.group(1)), entry.name, entry.read_text()))
        elif entry.name.endswith(".sql"):
            raise ValueError(f"migration file {entry.name} in {package} is not named NNNN_description.sql")
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(versions) != len(set(versions)):
        raise ValueError(f"two migrations of {component} share a version: {versions}")
    return found


class MigrationChanged(RuntimeError):
    pass


async def apply_migrations(connection: asyncpg.Connection, migrations: list[Migration]) -> list[str]:
    """Apply what is not applied yet; returns the names applied now."""
    await connection.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)  # before anything, also the table
    try:
        return await _apply(connection, migrations)
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


async def _apply(connection: asyncpg.Connection, migrations: list[Migration]) -> list[str]:
    applied_now: list[str] = []
    await connection.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            component text NOT NULL,
            version integer NOT NULL,
            name text NOT NULL,
            checksum text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (component, version)
        )
        """
    )
    rows = await connection.fetch("SELECT component, version, checksum FROM schema_migrations")
    done = {(r["component"], r["version"]): r["checksum"] for r in rows}
    for migration in migrations:
        key = (migration.component, migration.version)
        if key in done:
            if done[key] != migration.checksum:
                # An applied migration was edited: a new file is the way to change a schema.
                raise MigrationChanged(f"{migration.component}/{migration.name} changed after it was applied")
            continue
        async with connection.transaction():
            await connection.execute(migration.sql)
            await connection.execute(
                "INSERT INTO schema_migrations (component, version, name, checksum) VALUES ($1, $2, $3, $4)",
                migration.component,
                migration.version,
                migration.name,
                migration.checksum,
            )
        applied_now.append(f"{migration.component}/{migration.name}")
        log.info("migration applied", migration=f"{migration.component}/{migration.name}")
    return applied_now
