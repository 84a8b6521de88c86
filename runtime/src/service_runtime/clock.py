"""Time as a dependency: statutory terms are computed from stored facts and `clock.now()`, and
tests move time by setting a clock instead of sleeping."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo

# Validity periods and statutory terms are dates in Flanders, not in UTC.
BRUSSELS = ZoneInfo("Europe/Brussels")


class Clock(Protocol):
    def now(self) -> datetime: ...


def local_today(clock: "Clock") -> date:
    """Today's date in Brussels: a right valid until 31 March holds until midnight there."""
    return clock.now().astimezone(BRUSSELS).date()


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock:
    """A clock that stands still until told to move."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = at

    def now(self) -> datetime:
        return self._now

    def set(self, at: datetime) -> None:
        self._now = at

    def advance(self, by: timedelta) -> None:
        self._now += by
