"""Events of the platform itself, not of one service."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from wse_contracts.events import TYPE_PREFIX, Event


class ClockOffsetSetV1(Event):
    """Outside production: every service's adjustable clock now runs `offset_seconds` ahead of the
    machine's (negative: behind; 0: back to the real time). The latest event on the topic is the
    environment's offset; `set_by` says who moved it (`./dev clock`, an operator's command)."""

    event_type: ClassVar[str] = TYPE_PREFIX + "platform.clock_offset_set.v1"
    topic: ClassVar[str] = "platform.clock"
    key_field: ClassVar[str] = "environment"

    environment: str = "default"
    offset_seconds: float = Field(ge=-10 * 365 * 86_400, le=10 * 365 * 86_400)
    set_by: str = Field(min_length=1, max_length=200)
