"""How the portal writes dates for Flemish readers: one place, used by the pages and (as the Jinja
filter `datum`) by the templates."""

from __future__ import annotations

from datetime import date
from typing import Any


def day(value: Any) -> str:
    """'2026-05-04' (or a moment starting so) as '04/05/2026'; empty for nothing; other text as it is."""
    if not value:
        return ""
    text = str(value)
    try:
        return date.fromisoformat(text[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return text
