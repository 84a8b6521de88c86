"""Keyset paging for every list a service serves (`service_runtime.api.Page`): a page is the rows
after the cursor in the list's order, and the cursor is the sort key of the page's last row,
base64url of JSON. Opaque to the client, stable while rows are added (no offset that shifts), the
same cost at any depth; a cursor the service did not make is a 422 on `cursor`, never a server error.

    key = decode_cursor(cursor, [MOMENT, UUID_])          # None on the first page
    rows = await connection.fetch(... WHERE (at, id) < ($1, $2) ... LIMIT limit + 1)
    items, next_cursor = page(rows, limit, key=lambda r: (r["at"], r["id"]))
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

from litestar.params import Parameter

from service_runtime.errors import Invalid

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
# base64url of JSON, without padding (encode_cursor); a bound keeps a forged one from costing work.
CURSOR_PATTERN = r"^[A-Za-z0-9_\-]{1,400}={0,2}$"

# The query parameters of every list: `limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None`.
Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT, description=f"How many items, 1 to {MAX_LIMIT}.")]
Cursor = Annotated[str | None, Parameter(pattern=CURSOR_PATTERN, max_length=402, description="The next_cursor of the previous page; none for the first.")]

# How each kind of sort-key value is read back from a cursor (every value is written as text).
Reader = Callable[[str], Any]


def _text(value: str) -> str:
    if "\x00" in value or len(value) > 1000:  # PostgreSQL cannot compare with a NUL; no key is that long
        raise ValueError("not a key")
    return value


def _bigint(value: str) -> int:
    number = int(value)
    if not -(2**63) <= number < 2**63:
        raise ValueError("out of range")
    return number


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:  # every moment a service writes has its zone
        raise ValueError("no time zone")
    # In UTC, as PostgreSQL compares it: a moment at the calendar's edge (0001-01-01T00:00+14:00)
    # does not exist there, and is "not a cursor" (OverflowError), never a 500 from the driver.
    return moment.astimezone(UTC)


TEXT: Reader = _text
INTEGER: Reader = _bigint
UUID_: Reader = UUID
DATE: Reader = date.fromisoformat
MOMENT: Reader = _moment


def encode_cursor(key: Sequence[Any]) -> str:
    text = json.dumps([value.isoformat() if isinstance(value, (date, datetime)) else str(value) for value in key], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode("ascii").rstrip("=")


def decode_cursor(cursor: str | None, readers: Sequence[Reader]) -> tuple[Any, ...] | None:
    """The sort key a cursor carries, each value read by its reader; None without a cursor."""
    if cursor is None:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(readers) or not all(isinstance(v, str) for v in values):
            raise ValueError("not a key of this list")
        return tuple(read(value) for read, value in zip(readers, values, strict=True))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise Invalid("not a cursor of this list: pass the next_cursor of the previous page, or none for the first", field="cursor") from None


def page(rows: Sequence[T], limit: int, key: Callable[[T], Sequence[Any]]) -> tuple[list[T], str | None]:
    """The first `limit` rows and the cursor after them; the query fetched `limit + 1` rows, so
    that a next page is known to exist without a count."""
    items = list(rows[:limit])
    return items, (encode_cursor(key(items[-1])) if len(rows) > limit and items else None)
