"""The one calendar of the platform: days in Brussels, statutory terms in months and in days,
Belgian public holidays, school years.

Validity periods and statutory terms are dates in Flanders, not in UTC: a right valid until 31
March holds until midnight in Brussels, and "one month after 31 January" is the last day of
February. Every service, test and benchmark computes these here, from its runtime's clock. Terms
in days are counted as the Judicial Code counts them (`term_end`); the runtime's migration
0004_statutory_terms.sql has the same functions in SQL, for generated columns and indexes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
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


def easter_sunday(year: int) -> date:
    """Easter Sunday of the Gregorian calendar (the "anonymous" computus of Meeus, Jones and
    Butcher): three of Belgium's public holidays are counted from it."""
    a, (b, c) = year % 19, divmod(year, 100)
    d, e = divmod(b, 4)
    g = (b - (b + 8) // 25 + 1) // 3
    h = (19 * a + b - d - g + 15) % 30  # days from 21 March to the paschal full moon, roughly
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741  # the algorithm's own letters
    m = (a + 11 * h + 22 * l) // 451
    return date(year, 3, 22) + timedelta(days=h + l - 7 * m)


@lru_cache(maxsize=256)
def belgian_public_holidays(year: int) -> Mapping[date, str]:
    """The ten legal public holidays of Belgium (wettelijke feestdagen: the law of 4 January 1974
    and its royal decree of 18 April 1974), by their Dutch names; read-only, since it is cached.
    When Ascension falls on 1 May (Easter on 23 March: 2008, 2160) the day carries both names.

    Regional and community holidays (11 July of the Flemish community, 27 September, 15 November,
    ...) are not legal public holidays: art. 53 of the Judicial Code moves a term only past a
    "wettelijke feestdag", so they are not here."""
    easter = easter_sunday(year)
    holidays: dict[date, str] = {}
    for day, name in (
        (date(year, 1, 1), "Nieuwjaar"),
        (easter + timedelta(days=1), "Paasmaandag"),
        (date(year, 5, 1), "Dag van de Arbeid"),
        (easter + timedelta(days=39), "O.L.H.-Hemelvaart"),
        (easter + timedelta(days=50), "Pinkstermaandag"),
        (date(year, 7, 21), "Nationale feestdag"),
        (date(year, 8, 15), "O.L.V.-Hemelvaart"),
        (date(year, 11, 1), "Allerheiligen"),
        (date(year, 11, 11), "Wapenstilstand"),
        (date(year, 12, 25), "Kerstmis"),
    ):
        holidays[day] = f"{holidays[day]}, {name}" if day in holidays else name
    return MappingProxyType(dict(sorted(holidays.items())))


def is_working_day(day: date) -> bool:
    """Neither a Saturday, a Sunday nor a legal public holiday (Ger.W. art. 53)."""
    return day.weekday() < 5 and day not in belgian_public_holidays(day.year)


def term_end(act_day: date, days: int) -> date:
    """The last day of a term of `days` days from the act on `act_day` (a submission, an email, a
    decision, a hearing), as the Judicial Code counts (Ger.W. art. 52, 53): the day of the act does
    not count, the last day does, and a last day on a Saturday, a Sunday or a legal public holiday
    moves to the next working day. 7 days from Friday 5 March 2027 end on Friday 12 March; 0 days
    from a Saturday end on the next working day.

    The move is at most four days: the longest run of days that are not working days is four
    (Ascension on Thursday 30 April, 1 May, the weekend; Easter on 22 March: 1818, 2285), otherwise
    three (a weekend with Easter or Whit Monday). The SQL term_end relies on it."""
    if days < 0:
        raise ValueError(f"a term counts forward from the act: {days} days")
    last = act_day + timedelta(days=days)
    while not is_working_day(last):
        last += timedelta(days=1)
    return last


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
