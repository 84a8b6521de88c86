"""The student's own view, signed in as a citizen (ID-10): their enrolments and attendance and
whether the 32 hours are reached per school year (A-6), and nothing of anyone else."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from attestation.use_cases import students


async def my_training_leave(connection: asyncpg.Connection, *, person_id: UUID) -> dict[str, Any]:
    student_id = await connection.fetchval("SELECT student_id FROM persons_projection WHERE person_id = $1", person_id)
    if student_id is None:
        return {"school_years": [], "attestations": []}
    return {
        "school_years": await students.school_years(connection, student_id=student_id),
        "attestations": await students.attestations_of(connection, student_id=student_id),
    }
