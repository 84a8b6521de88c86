"""The one calendar (service_runtime.calendar) and the clock offsets acceptance testers use: pure,
no stack needed (`./dev test --fast` runs these)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from service_runtime import calendar
from service_runtime.calendar import SchoolYear, add_months, add_years, brussels_date, start_of
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
