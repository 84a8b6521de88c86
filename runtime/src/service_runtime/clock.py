"""Time as a dependency: statutory terms are computed from stored facts and `clock.now()`, and
tests move time by setting a clock instead of sleeping. Days, months and school years are in
`service_runtime.calendar`.

Outside production, an environment's clock can be moved for acceptance testers (Stripe's test
clocks are the model): every service runs on an `AdjustableClock`, the machine's time plus an
offset that `service_runtime.clock_control` follows from Kafka, so `./dev clock advance 40d`
moves every running service together, without a restart.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


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


class AdjustableClock:
    """The machine's time plus an offset an operator sets (never in production: the settings refuse it).

    Only forward offsets make sense for statutory terms, but a reset (offset 0) must also work,
    so any offset is accepted; jobs that already ran stay run.
    """

    def __init__(self, base: Clock | None = None) -> None:
        self._base = base or SystemClock()
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return self._base.now() + self._offset

    @property
    def offset(self) -> timedelta:
        return self._offset

    def set_offset(self, offset: timedelta) -> None:
        self._offset = offset
        _process_offset[0] = offset


# The offset of this process's adjustable clock, for its log lines (None: the clock is not adjustable).
_process_offset: list[timedelta | None] = [None]


def process_clock_offset() -> timedelta | None:
    return _process_offset[0]


def enable_offset_in_logs() -> None:
    if _process_offset[0] is None:
        _process_offset[0] = timedelta(0)


def format_offset(offset: timedelta) -> str:
    """+40d, +8d2h, -1h, +0s: how an offset is shown in logs, health and `./dev clock show`."""
    seconds = int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    parts = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return sign + ("".join(parts) or "0s")


def parse_offset(text: str) -> timedelta:
    """ "40d", "8d12h", "90m", "-1d", "3600s": days, hours, minutes, seconds."""
    match = re.fullmatch(r"([+-]?)((?:\d+[dhms])+)", text.strip())
    if not match:
        raise ValueError(f"a duration is written like 40d, 8d12h, 90m or 3600s, not {text!r}")
    sizes = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
    seconds = sum(int(number) * sizes[unit] for number, unit in re.findall(r"(\d+)([dhms])", match.group(2)))
    return timedelta(seconds=-seconds if match.group(1) == "-" else seconds)


# The runtime's clock while one of its consumers handles events: an event handler takes the
# connection and the event only, and judges "today" by this, so tests that move a runtime's
# clock move its consumers too.
_handler_clock: ContextVar[Clock | None] = ContextVar("handler_clock", default=None)


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
