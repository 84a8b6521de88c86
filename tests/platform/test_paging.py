"""Keyset paging (service_runtime.paging), shared by every service's lists: pure, no stack."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from service_runtime.errors import Invalid
from service_runtime.paging import MOMENT, TEXT, UUID_, decode_cursor, encode_cursor, page


def test_a_cursor_carries_its_key_and_a_forged_one_is_a_422_on_cursor() -> None:
    moment, row_id = datetime(2027, 1, 1, 9, 0, tzinfo=UTC), uuid.uuid4()
    assert decode_cursor(encode_cursor([moment, row_id, "Zoë"]), [MOMENT, UUID_, TEXT]) == (moment, row_id, "Zoë")
    assert decode_cursor(None, [MOMENT]) is None
    for forged in ("not base64!", encode_cursor(["x"]), encode_cursor([moment]) + "x", encode_cursor(["2027-01-01T09:00:00"]), encode_cursor(["a\x00b"])):
        with pytest.raises(Invalid) as refused:
            decode_cursor(forged, [MOMENT])
        assert refused.value.violations[0].field == "cursor"
    rows = list(range(11))
    assert page(rows, 10, key=lambda r: [r]) == (rows[:10], encode_cursor([9]))
    assert page(rows[:10], 10, key=lambda r: [r]) == (rows[:10], None)  # the last page has no cursor


def test_a_moment_at_the_calendars_edge_is_not_a_cursor() -> None:
    # a time that has no UTC equivalent: "not a cursor" (422), never a 500 from the driver
    for edge in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        with pytest.raises(Invalid):
            decode_cursor(encode_cursor([edge, "1"]), [MOMENT, TEXT])
