"""A student's training leave per school year (A-6): what counts, from which providers, and
whether the 32 hours are reached. Shared by the department's view (audited) and the citizen's own."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import asyncpg

from attestation import domain
from attestation.use_cases.attest import COUNTED_HOURS


async def school_years(connection: asyncpg.Connection, *, student_id: str) -> list[dict[str, Any]]:
    """Per school year: the hours that count (A-5: blended modules once completed), the minimum and
    whether it is reached (A-6: across providers from 2021-2022, per training before)."""
    counted = await connection.fetch(f"{COUNTED_HOURS} AND a.student_id = $1 GROUP BY 1, 2, 3 ORDER BY 2, 3", student_id)
    years: dict[str, dict[str, Any]] = {}
    for row in counted:
        year = years.setdefault(row["school_year"], {"school_year": row["school_year"], "counted_hours": Decimal(0), "reached": False, "per_training": []})
        year["counted_hours"] += row["hours"]
        if row["odb_number"]:
            year["per_training"].append({"odb_number": row["odb_number"], "hours": row["hours"], "reached": domain.reached(row["hours"])})
            year["reached"] = year["reached"] or domain.reached(row["hours"])
        else:
            year["reached"] = domain.reached(row["hours"])
    for year in years.values():
        year["minimum_hours"] = domain.MINIMUM_HOURS
        year["combined_across_providers"] = domain.counts_from_combined(year["school_year"])
    return list(years.values())


async def attestations_of(connection: asyncpg.Connection, *, student_id: str) -> list[dict[str, Any]]:
    """Every enrolment and attendance of the student, with the provider's name, newest first."""
    rows = await connection.fetch(
        """
        SELECT 'enrolment' AS kind, e.enrolment_id AS attestation_id, e.odb_number, e.module, o.name AS provider_name, e.starts_on, e.ends_on,
               NULL::date AS period_from, NULL::date AS period_to, NULL::numeric AS hours, e.completed, e.school_year, e.status, e.updated_at
        FROM enrolments e LEFT JOIN organisations_projection o USING (organisation_id) WHERE e.student_id = $1
        UNION ALL
        SELECT 'attendance', a.attendance_id, a.odb_number, a.module, o.name, NULL, NULL, a.period_from, a.period_to, a.hours, a.completed, a.school_year,
               a.status, a.updated_at
        FROM attendances a LEFT JOIN organisations_projection o USING (organisation_id) WHERE a.student_id = $1
        ORDER BY updated_at DESC
        LIMIT 1000
        """,
        student_id,
    )
    return [dict(r) for r in rows]
