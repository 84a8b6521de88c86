"""What an operator does with dead letters: list them, and replay one once the cause is fixed.

Replaying runs the consumer's handler on the stored record, once, in a transaction with the
inbox row (so a replay of something already handled changes nothing) and marks the dead letter
replayed. If the handler fails again, the dead letter stays, with the new error.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from service_runtime.consumer import ConsumerRunner, _Record


class _StoredRecord(_Record):
    def __init__(self, row: asyncpg.Record) -> None:
        self.topic, self.partition, self.offset = row["topic"], row["partition"], row["offset"]
        self.key, self.value = row["key"], row["value"]
        self.headers = [(name, value.encode()) for name, value in row["headers"]]


async def list_dead_letters(connection: asyncpg.Connection, *, include_replayed: bool = False, limit: int = 100) -> list[dict[str, Any]]:
    rows = await connection.fetch(
        """
        SELECT id, consumer, topic, partition, "offset", event_id, event_type, error, attempts, failed_at, replayed_at
        FROM dead_letters WHERE $1 OR replayed_at IS NULL ORDER BY id LIMIT $2
        """,
        include_replayed,
        limit,
    )
    return [dict(row) for row in rows]


class ReplayFailed(Exception):
    pass


async def replay_dead_letter(connection: asyncpg.Connection, *, dead_letter_id: int, runners: list[ConsumerRunner]) -> str:
    async with connection.transaction():
        row = await connection.fetchrow("SELECT * FROM dead_letters WHERE id = $1 FOR UPDATE", dead_letter_id)
        if row is None:
            raise LookupError(f"no dead letter {dead_letter_id}")
        if row["replayed_at"] is not None:
            return "already replayed"
        runner = next((r for r in runners if r.group_id == row["consumer"]), None)
        if runner is None:
            raise LookupError(f"this service has no consumer {row['consumer']}")
        error = await runner.replay(connection, _StoredRecord(row))
        if error is not None:
            await connection.execute("UPDATE dead_letters SET error = $2, attempts = attempts + 1 WHERE id = $1", dead_letter_id, error)
            return f"failed again: {error}"
        await connection.execute("UPDATE dead_letters SET replayed_at = now() WHERE id = $1", dead_letter_id)
        return "replayed"
