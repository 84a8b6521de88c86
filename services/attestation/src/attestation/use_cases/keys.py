"""Rotating the key that encrypts national register numbers: after PII_ACTIVE_KEY names a new
key (and PII_KEYS still holds the old one), every stored number is re-encrypted under it, in
batches, each its own transaction, so the command can be stopped and run again. The blind index
and the pseudonyms do not change (their keys are separate)."""

from __future__ import annotations

import asyncpg

from service_runtime import pii

BATCH = 1_000


async def reencrypt_students(connection: asyncpg.Connection, *, keys: pii.PiiKeys, batch: int = BATCH) -> int:
    """Every student whose number is under another key than the active one; returns how many moved."""
    moved = 0
    while True:
        async with connection.transaction():
            rows = await connection.fetch(
                "SELECT student_id, nrn_encrypted FROM students WHERE key_id <> $1 ORDER BY student_id LIMIT $2 FOR UPDATE SKIP LOCKED",
                keys.active_key_id,
                batch,
            )
            if not rows:
                return moved
            updates = []
            for row in rows:
                value = pii.reencrypt(keys, bytes(row["nrn_encrypted"]))
                if value is not None:
                    updates.append((row["student_id"], value, keys.active_key_id))
            await connection.executemany("UPDATE students SET nrn_encrypted = $2, key_id = $3 WHERE student_id = $1", updates)
            moved += len(updates)
