"""Database connections of a service: jsonb as Python objects, a cheap reset, and the service's
name on every connection (events written through it name their source from it; PostgreSQL
shows it in pg_stat_activity)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import asyncpg

# PostgreSQL notices a client that vanished without closing its connection (a node lost, a pod
# on a partitioned network) within 25 s instead of the system's two hours: until then it holds
# what that session held (the outbox relay's advisory lock, the migration lock, a claimed row's
# transaction) and that service's outbox, say, stands still. SIGKILL on a live machine needs none
# of this: the kernel closes the socket at once.
KEEPALIVE_SETTINGS = {"tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5", "tcp_keepalives_count": "3"}


def server_settings(service: str | None) -> dict[str, str]:
    return {**KEEPALIVE_SETTINGS, **({"application_name": service} if service else {})}


class ServiceConnection(asyncpg.Connection):
    """A connection that knows which service's database it is: `service_name`."""

    service_name: str | None = None


def service_of(connection: Any) -> str | None:
    """The service a connection (or a pool's proxy of one) belongs to, if it was opened by `connect`/`create_pool`."""
    return getattr(connection, "service_name", None)


async def configure_connection(connection: asyncpg.Connection) -> None:
    # jsonb columns in and out as Python objects.
    await connection.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _reset_on_release(connection: asyncpg.Connection) -> None:
    """What a connection needs before the next borrower: no transaction left open.

    asyncpg's default reset (UNLISTEN, CLOSE ALL, RESET ALL, unlock advisory locks) costs a round
    trip on every release, a third of a short request's database time. Pool connections here
    keep no session state: listeners live on the relay's own connection, and advisory locks are
    taken per transaction (pg_advisory_xact_lock) or on dedicated connections. Keep it so.
    """
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


async def create_pool(database_url: str, *, service: str | None = None, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    async def init(connection: asyncpg.Connection) -> None:
        connection.service_name = service
        await configure_connection(connection)

    return await asyncpg.create_pool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        init=init,
        command_timeout=60,
        reset=_reset_on_release,
        connection_class=ServiceConnection,
        server_settings=server_settings(service),
    )


async def connect(database_url: str, *, service: str | None = None) -> ServiceConnection:
    """One connection outside the pool (a command, a listener, the relay's leader lock)."""
    connection = await asyncpg.connect(database_url, connection_class=ServiceConnection, server_settings=server_settings(service))
    connection.service_name = service
    await configure_connection(connection)
    return connection


def sql_list(words: Iterable[str]) -> str:
    """Status words (a service's own constants, never input) as an SQL list literal. Literal, not a
    parameter, on purpose: a partial index (`WHERE status IN (...)`) is only used when the query's
    predicate spells out the same list."""
    return ", ".join(f"'{word}'" for word in words)
