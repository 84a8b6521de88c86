"""The one calendar of the platform: days in Brussels, statutory terms in months, school years.

Validity periods and statutory terms are dates in Flanders, not in UTC: a right valid until 31
March holds until midnight in Brussels, and "one month after 31 January" is the last day of
February. Every service, test and benchmark computes these here, from its runtime's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from service_runtime.clock import Clock

BRUSSELS = ZoneInfo("Europe/Brussels")

# A school year runs from 1 September to 31 August (the Flemish education calendar).
SCHOOL_YEAR_STARTS = (9, 1)


def today(clock: Clock) -> date:
    """Today's date in Brussels on this clock."""
    return brussels_date(clock.now())


def brussels_date(moment: datetime) -> date:
    """The date in Brussels at that moment (an aware datetime)."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is needed to know the day in Brussels")
    return moment.astimezone(BRUSSELS).date()


def start_of(day: date) -> datetime:
    """Midnight at the start of that day in Brussels, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=BRUSSELS)


def end_of(day: date) -> datetime:
    """The first moment after that day in Brussels (a term that ends "on" a day lasts all of it)."""
    return start_of(day + timedelta(days=1))


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), or that month's last day: 31 January + 1 month is
    28 or 29 February, 31 August + 3 months is 30 November."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, days_in_month(year, month)))


def add_years(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February in a common year."""
    return add_months(day, 12 * years)


def days_in_month(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


@dataclass(frozen=True, slots=True, order=True)
class SchoolYear:
    """1 September of `starts` to 31 August of the next year; written "2026-2027"."""

    starts: int

    @classmethod
    def of(cls, day: date) -> SchoolYear:
        month, first = SCHOOL_YEAR_STARTS
        return cls(day.year if (day.month, day.day) >= (month, first) else day.year - 1)

    @classmethod
    def parse(cls, text: str) -> SchoolYear:
        """ "2026-2027" (the form used on attestations and in the manuals)."""
        first, _, second = text.partition("-")
        if not (first.isdigit() and second.isdigit() and int(second) == int(first) + 1):
            raise ValueError(f"a school year is written like 2026-2027, not {text!r}")
        return cls(int(first))

    @property
    def first_day(self) -> date:
        month, first = SCHOOL_YEAR_STARTS
        return date(self.starts, month, first)

    @property
    def last_day(self) -> date:
        return date(self.starts + 1, 8, 31)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first_day <= day <= self.last_day

    def next(self) -> SchoolYear:
        return SchoolYear(self.starts + 1)

    def __str__(self) -> str:
        return f"{self.starts}-{self.starts + 1}"
