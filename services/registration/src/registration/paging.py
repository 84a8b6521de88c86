"""Keyset paging of the service's lists (the public register's search keeps its own cursor, which
also knows the search it belongs to: `registration.register`).

A cursor is opaque to the client: the base64url of the last row's sort key, as JSON. The next
page starts after that key, so a page costs the same at any depth and rows written meanwhile
neither repeat nor go missing. A cursor this service did not give out is refused as a field
error on `cursor` (422), never a server error.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

from service_runtime.errors import Invalid

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def encode_cursor(*key: Any) -> str:
    raw = json.dumps([_plain(value) for value in key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode("ascii").rstrip("=")


def decode_cursor(cursor: str | None, *parsers: Callable[[Any], Any]) -> tuple[Any, ...] | None:
    """The sort key of the row a page continues after, each part read by its parser; None for the first page."""
    if cursor is None:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(parsers):
            raise ValueError("not a key of this list")
        return tuple(parse(value) for parse, value in zip(parsers, raw, strict=True))
    except (ValueError, TypeError, AttributeError, binascii.Error, OverflowError):
        raise Invalid("not a cursor this service gave out for this list; start again without one", field="cursor") from None


def timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise TypeError("a timestamp is text")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("a timestamp has its offset")
    return parsed


def day(value: Any) -> date:
    if not isinstance(value, str):
        raise TypeError("a date is text")
    return date.fromisoformat(value)


def uuid(value: Any) -> UUID:
    if not isinstance(value, str):
        raise TypeError("an id is text")
    return UUID(value)


def text(value: Any) -> str:
    if not isinstance(value, str) or "\x00" in value or len(value) > 1000:
        raise TypeError("text")
    return value


def integer(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not -(2**63) <= value < 2**63:
        raise TypeError("an integer")
    return value


def page(rows: Sequence[T], *, limit: int, key: Callable[[T], tuple[Any, ...]]) -> dict[str, Any]:
    """`rows` fetched with LIMIT limit + 1: the page, and a cursor when there is a next one."""
    items = list(rows[:limit])
    more = len(rows) > limit and bool(items)
    return {"items": items, "next_cursor": encode_cursor(*key(items[-1])) if more else None}
