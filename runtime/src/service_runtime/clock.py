"""Time as a dependency: statutory terms are computed from stored facts and `clock.now()`, and
tests move time by setting a clock instead of sleeping."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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


# The runtime's clock while one of its consumers handles events: an event handler takes the
# connection and the event only, and judges "today" by this, so tests that move a runtime's
# clock move its consumers too.
_handler_clock: ContextVar["Clock | None"] = ContextVar("handler_clock", default=None)


def current_clock() -> Clock:
    """The clock of the runtime whose consumer is running (the system clock elsewhere)."""
    return _handler_clock.get() or SystemClock()


@contextmanager
def handlers_on(clock: Clock) -> Iterator[None]:
    """Event handlers run inside this judge time by `clock` (current_clock())."""
    token = _handler_clock.set(clock)
    try:
        yield
    finally:
        _handler_clock.reset(token)
