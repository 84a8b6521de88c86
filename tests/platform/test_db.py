"""The service's database sessions on the test stack's PostgreSQL: what the runtime sets on each."""

from __future__ import annotations

import pytest

from service_runtime.db import connect, create_pool
from tests.platform.helpers import new_database

pytestmark = pytest.mark.slow


async def test_postgresql_notices_a_vanished_replica_within_seconds_not_hours(stack):
    # A node lost leaves the relay's advisory lock (and any session's) held until PostgreSQL gives
    # the connection up: keepalives make that 10 + 3 x 5 s instead of the system's two hours.
    url = await new_database(stack, "keepalive")
    pool = await create_pool(url, service="probe", min_size=1, max_size=1)
    single = await connect(url, service="probe")
    try:
        async with pool.acquire() as pooled:
            for connection in (pooled, single):
                # In seconds (SHOW gives a time with or without its unit).
                names = ("tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count")
                settings = {name: (await connection.fetchval(f"SHOW {name}")).removesuffix("s") for name in names}
                assert settings == {"tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5", "tcp_keepalives_count": "3"}
                assert await connection.fetchval("SHOW application_name") == "probe"
    finally:
        await single.close()
        await pool.close()
