from __future__ import annotations

import json

import asyncpg


async def configure_connection(connection: asyncpg.Connection) -> None:
    # jsonb columns in and out as Python objects.
    await connection.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(database_url: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        database_url, min_size=min_size, max_size=max_size, init=configure_connection, command_timeout=60
    )
