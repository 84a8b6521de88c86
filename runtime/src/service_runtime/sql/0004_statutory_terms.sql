-- Statutory terms in days, counted as the Judicial Code counts them (Ger.W. art. 52, 53): the day
-- of the act (submission, email, decision, hearing) does not count, the last day does, and a last
-- day on a Saturday, a Sunday or a legal public holiday moves to the next working day. The same
-- rule as service_runtime.calendar (term_end, is_working_day, belgian_public_holidays), here so
-- that a table derives its deadlines itself, in a generated column or an index:
--     admissibility_due_on date GENERATED ALWAYS AS (term_end(submitted_on, 7)) STORED
-- hence IMMUTABLE. tests/platform/test_statutory_terms_sql.py holds both to the same answers.
--
-- The SQL functions have SQL-standard bodies (RETURN ...): parsed here, once, so the functions they
-- call are bound now and not looked up on the search_path of whoever evaluates them later (a
-- reindex, a restore), and they are inlined into the query or generated column that calls them.
-- Regional and community holidays (11 July of the Flemish community, ...) are not legal public
-- holidays (wettelijke feestdagen) and do not move a term.

-- Easter Sunday of the Gregorian calendar, the "anonymous" computus (Meeus, Jones, Butcher).
-- PL/pgSQL because the algorithm names its intermediate values: written as one inlined SQL
-- expression, it computes the year and h again some twenty times a call (measured 3x slower).
CREATE FUNCTION easter_sunday(year integer) RETURNS date
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
    a integer := year % 19;
    b integer := year / 100;
    c integer := year % 100;
    h integer;
    l integer;
    m integer;
BEGIN
    h := (19 * a + b - b / 4 - (b - (b + 8) / 25 + 1) / 3 + 15) % 30;
    l := (32 + 2 * (b % 4) + 2 * (c / 4) - h - c % 4) % 7;
    m := (a + 11 * h + 22 * l) / 451;
    RETURN make_date(year, 3, 22) + (h + l - 7 * m);
END
$$;

-- The ten legal public holidays: 1/1, Easter Monday, 1/5, Ascension (Easter + 39), Whit Monday
-- (Easter + 50), 21/7, 15/8, 1/11, 11/11, 25/12. Easter Monday and Whit Monday are Mondays and
-- Ascension a Thursday, so Easter is computed for Mondays and Thursdays only.
-- (Not STRICT: a strict function is inlined only if its body is strict, and OR is not; a NULL day
-- gives NULL all the same.)
CREATE FUNCTION belgian_public_holiday(day date) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (extract(month FROM day) * 100 + extract(day FROM day)) IN (101, 501, 721, 815, 1101, 1111, 1225)
    OR (extract(isodow FROM day) IN (1, 4) AND day - easter_sunday(extract(year FROM day)::integer) IN (1, 39, 50));

-- Neither a Saturday, a Sunday nor a legal public holiday (art. 53).
CREATE FUNCTION is_working_day(day date) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN extract(isodow FROM day) < 6 AND NOT belgian_public_holiday(day);

-- The last day of a term of `days` days from the act on `act_day`: act_day + days, moved to the
-- next working day. NULL when either is NULL, and for negative days (a term counts forward).
-- At most four days in a row are not working days: Ascension on Thursday 30 April, 1 May, the
-- weekend (Easter on 22 March: 1818, 2285); otherwise at most three (a weekend with Easter or Whit
-- Monday). No two legal holidays are one or three days apart except Ascension and 1 May, so a
-- weekend never grows longer than that (checked for every year from 1583 to 4999). Hence five
-- candidates, no loop: the fifth day is always a working day.
CREATE FUNCTION term_end(act_day date, days integer) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
    WHEN days < 0 THEN NULL
    WHEN is_working_day(act_day + days) THEN act_day + days
    WHEN is_working_day(act_day + days + 1) THEN act_day + days + 1
    WHEN is_working_day(act_day + days + 2) THEN act_day + days + 2
    WHEN is_working_day(act_day + days + 3) THEN act_day + days + 3
    ELSE act_day + days + 4
END;
