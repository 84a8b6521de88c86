"""Keyset paging for the lists this service serves: a page is the rows after the cursor in the
list's order, and the cursor is the sort key of the page's last row, base64url of JSON. Opaque to
the client, stable while rows are added (no offset that shifts), and a cursor this service did not
make is a 422 on `cursor`, never a server error."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from service_runtime.errors import Invalid

T = TypeVar("T")
Reader = Callable[[str], Any]


def _integer(text: str) -> int:
    value = int(text)
    if not -(2**31) <= value < 2**31:
        raise ValueError("out of range")
    return value


def _moment(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:  # every moment this service writes has its zone
        raise ValueError("no time zone")
    return value


TEXT: Reader = str
INTEGER: Reader = _integer
UUID_: Reader = UUID
MOMENT: Reader = _moment


def encode_cursor(key: Sequence[Any]) -> str:
    text = json.dumps([value.isoformat() if isinstance(value, datetime) else str(value) for value in key], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, readers: Sequence[Reader]) -> tuple[Any, ...] | None:
    """The sort key a cursor carries, each value read by its reader; None without a cursor."""
    if cursor is None:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(readers) or not all(isinstance(v, str) for v in values):
            raise ValueError("not a key of this list")
        return tuple(read(value) for read, value in zip(readers, values, strict=True))
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise Invalid("not a cursor of this list: pass the next_cursor of the previous page", field="cursor") from None


def page(rows: Sequence[T], limit: int, key: Callable[[T], Sequence[Any]]) -> tuple[list[T], str | None]:
    """The first `limit` rows and the cursor after them; the query fetched `limit + 1` rows, so
    that a next page is known to exist without a count."""
    items = list(rows[:limit])
    return items, (encode_cursor(key(items[-1])) if len(rows) > limit and items else None)
