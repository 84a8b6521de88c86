from __future__ import annotations

import json

import asyncpg


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


async def create_pool(database_url: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        database_url, min_size=min_size, max_size=max_size, init=configure_connection, command_timeout=60, reset=_reset_on_release
    )
