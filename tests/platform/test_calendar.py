"""The one calendar (service_runtime.calendar) and the clock offsets acceptance testers use: pure,
no stack needed (`./dev test --fast` runs these). The SQL twin of the term counting is held to
these answers in test_statutory_terms_sql.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from service_runtime import calendar
from service_runtime.calendar import (
    SchoolYear,
    add_months,
    add_years,
    belgian_public_holidays,
    brussels_date,
    easter_sunday,
    is_working_day,
    start_of,
    term_end,
)
from service_runtime.clock import AdjustableClock, FixedClock, format_offset, parse_offset
from service_runtime.settings import ServiceSettings


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2027, 1, 31), 1, date(2027, 2, 28)),  # a month after 31 January is the last day of February
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # a leap year
        (date(2026, 8, 31), 3, date(2026, 11, 30)),  # R-19's three months
        (date(2026, 11, 15), 3, date(2027, 2, 15)),  # across the year
        (date(2026, 3, 31), -1, date(2026, 2, 28)),  # R-24: three months' notice, counted back
        (date(2026, 12, 31), 12, date(2027, 12, 31)),
    ],
)
def test_adding_months_keeps_the_day_or_takes_the_months_last(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_five_years_from_29_february_ends_on_28_february() -> None:
    assert add_years(date(2028, 2, 29), 5) == date(2033, 2, 28)


def test_the_day_is_judged_in_brussels_not_in_utc() -> None:
    # 23:30 UTC on 31 March 2027 is already 1 April in Brussels (summer time, UTC+2).
    assert brussels_date(datetime(2027, 3, 31, 23, 30, tzinfo=UTC)) == date(2027, 4, 1)
    assert calendar.today(FixedClock(datetime(2027, 12, 31, 23, 30, tzinfo=UTC))) == date(2028, 1, 1)  # winter time, UTC+1
    with pytest.raises(ValueError):
        brussels_date(datetime(2027, 1, 1))  # a naive datetime has no day in Brussels


def test_a_day_starts_at_midnight_in_brussels_across_the_clock_change() -> None:
    assert start_of(date(2027, 3, 28)).astimezone(UTC) == datetime(2027, 3, 27, 23, 0, tzinfo=UTC)
    assert start_of(date(2027, 3, 29)).astimezone(UTC) == datetime(2027, 3, 28, 22, 0, tzinfo=UTC)
    # The short day lasts 23 real hours (in UTC: Python subtracts two Brussels times as wall-clock times).
    assert calendar.end_of(date(2027, 3, 28)).astimezone(UTC) - start_of(date(2027, 3, 28)).astimezone(UTC) == timedelta(hours=23)


def test_school_years_run_from_1_september_to_31_august() -> None:
    year = SchoolYear.of(date(2027, 8, 31))
    assert str(year) == "2026-2027" and year.first_day == date(2026, 9, 1) and year.last_day == date(2027, 8, 31)
    assert SchoolYear.of(date(2027, 9, 1)) == year.next() == SchoolYear.parse("2027-2028")
    assert date(2026, 9, 1) in year and date(2027, 9, 1) not in year
    with pytest.raises(ValueError):
        SchoolYear.parse("2026-2028")


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)), (2026, date(2026, 4, 5)), (2027, date(2027, 3, 28)), (2038, date(2038, 4, 25))],
)
def test_easter_sunday_by_the_gregorian_computus(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_the_ten_legal_public_holidays_of_2027() -> None:
    assert belgian_public_holidays(2027) == {
        date(2027, 1, 1): "Nieuwjaar",
        date(2027, 3, 29): "Paasmaandag",
        date(2027, 5, 1): "Dag van de Arbeid",
        date(2027, 5, 6): "O.L.H.-Hemelvaart",
        date(2027, 5, 17): "Pinkstermaandag",
        date(2027, 7, 21): "Nationale feestdag",
        date(2027, 8, 15): "O.L.V.-Hemelvaart",
        date(2027, 11, 1): "Allerheiligen",
        date(2027, 11, 11): "Wapenstilstand",
        date(2027, 12, 25): "Kerstmis",
    }
    assert belgian_public_holidays(2027) is belgian_public_holidays(2027)  # cached, hence read-only
    with pytest.raises(TypeError):
        belgian_public_holidays(2027)[date(2027, 7, 11)] = "Feest van de Vlaamse Gemeenschap"  # type: ignore[index]


def test_a_public_holiday_on_another_holiday_keeps_both_names() -> None:
    # Easter on 23 March 2008: Ascension fell on 1 May.
    assert belgian_public_holidays(2008)[date(2008, 5, 1)] == "Dag van de Arbeid, O.L.H.-Hemelvaart"
    assert len(belgian_public_holidays(2008)) == 9


def test_a_working_day_is_no_saturday_sunday_or_legal_public_holiday() -> None:
    assert is_working_day(date(2027, 3, 26))  # a Friday
    assert not is_working_day(date(2027, 3, 27)) and not is_working_day(date(2027, 3, 28))  # the weekend
    assert not is_working_day(date(2027, 3, 29))  # Easter Monday
    # 11 July, the Flemish community's holiday, is no legal public holiday (Ger.W. art. 53): Monday 11 July 2027 counts.
    assert is_working_day(date(2027, 7, 12)) and is_working_day(date(2022, 7, 11))


@pytest.mark.parametrize(
    ("act_day", "days", "last_day"),
    [
        (date(2027, 3, 5), 7, date(2027, 3, 12)),  # rule E-5: submitted on Friday 5 March, judged by Friday 12 March
        (date(2027, 3, 1), 30, date(2027, 3, 31)),  # rule E-10: informed on 1 March, a request until 31 March
        (date(2027, 2, 15), 45, date(2027, 4, 1)),  # rule E-6: the admissibility email on 15 February, examined by 1 April
    ],
)
def test_the_day_of_the_act_does_not_count_the_last_day_does(act_day: date, days: int, last_day: date) -> None:
    assert term_end(act_day, days) == last_day


@pytest.mark.parametrize(
    ("act_day", "days", "last_day"),
    [
        (date(2027, 3, 6), 7, date(2027, 3, 15)),  # rule E-5: the last day is Saturday 13 March: Monday 15 March
        (date(2027, 3, 7), 7, date(2027, 3, 15)),  # rule E-5: the last day is Sunday 14 March: Monday 15 March
        (date(2027, 3, 22), 7, date(2027, 3, 30)),  # rule E-5: the last day is Easter Monday 29 March: Tuesday 30 March
        (date(2027, 3, 20), 7, date(2027, 3, 30)),  # rule E-5: Saturday 27 March, then Sunday and Easter Monday: Tuesday
        (date(2024, 10, 25), 7, date(2024, 11, 4)),  # rule E-5: All Saints' Day on Friday 1 November 2024: Monday 4 November
        (date(2027, 6, 21), 30, date(2027, 7, 22)),  # rule E-10: a decision of 21 June, the last day the national holiday: 22 July
        (date(2027, 3, 22), 45, date(2027, 5, 7)),  # rule E-6: the last day is Ascension, Thursday 6 May 2027: Friday 7 May
        (date(2027, 4, 2), 45, date(2027, 5, 18)),  # rule E-6: the last day is Whit Monday 17 May: Tuesday 18 May
        (date(2027, 11, 25), 30, date(2027, 12, 27)),  # rule E-10: Christmas on Saturday 25 December 2027, then Sunday: Monday 27
        (date(2285, 4, 23), 7, date(2285, 5, 4)),  # the longest move: Ascension on 30 April, 1 May, the weekend: Monday 4 May
    ],
)
def test_a_last_day_on_a_saturday_sunday_or_public_holiday_moves_to_the_next_working_day(act_day: date, days: int, last_day: date) -> None:
    assert term_end(act_day, days) == last_day


def test_a_term_of_0_days_from_a_saturday_ends_on_the_next_working_day() -> None:
    assert term_end(date(2027, 3, 13), 0) == date(2027, 3, 15)
    assert term_end(date(2027, 3, 15), 0) == date(2027, 3, 15)
    with pytest.raises(ValueError):
        term_end(date(2027, 3, 15), -1)  # a term counts forward from the act


def test_no_more_than_four_days_in_a_row_are_not_working_days() -> None:
    # What the SQL term_end relies on to look at five days at most, for every year from 1583 (the
    # first whole Gregorian year) to 2999: four only when Ascension falls on 30 April (1818, 2285).
    longest: dict[int, list[date]] = {}
    day, run = date(1583, 1, 1), 0
    while day.year < 3000:
        run = 0 if is_working_day(day) else run + 1
        if run >= 4:
            longest.setdefault(run, []).append(day)
        day += timedelta(days=1)
    assert set(longest) == {4}
    assert all((d.month, d.day) == (5, 3) and easter_sunday(d.year) == date(d.year, 3, 22) for d in longest[4])
    assert date(1818, 5, 3) in longest[4] and date(2285, 5, 3) in longest[4]


def test_offsets_are_read_and_shown_as_testers_write_them() -> None:
    assert parse_offset("40d") == timedelta(days=40)
    assert parse_offset("8d12h") == timedelta(days=8, hours=12)
    assert parse_offset("-90m") == timedelta(minutes=-90)
    assert format_offset(timedelta(days=8, hours=2)) == "+8d2h" and format_offset(timedelta(0)) == "+0s"
    with pytest.raises(ValueError):
        parse_offset("next week")


def test_an_adjustable_clock_runs_its_offset_ahead_of_the_machine() -> None:
    base = FixedClock(datetime(2027, 1, 1, 9, 0, tzinfo=UTC))
    clock = AdjustableClock(base)
    clock.set_offset(timedelta(days=40))
    assert clock.now() == datetime(2027, 2, 10, 9, 0, tzinfo=UTC)
    base.advance(timedelta(hours=1))
    assert clock.now() == datetime(2027, 2, 10, 10, 0, tzinfo=UTC)  # time goes on from the moved point


def test_the_adjustable_clock_is_refused_in_production() -> None:
    with pytest.raises(ValueError, match="refused in production"):
        ServiceSettings(adjustable_clock=True)  # the environment is production unless it says otherwise
    with pytest.raises(ValueError, match="refused in production"):
        ServiceSettings(adjustable_clock=True, platform_environment="production")
    assert ServiceSettings(adjustable_clock=True, platform_environment="acceptance").adjustable_clock
    assert not ServiceSettings().adjustable_clock  # off by default
