"""The portal's pages, one module per area; each area's templates are in templates/<area>/."""

from __future__ import annotations

from typing import Any

from portal.pages import sign_in

ROUTES: list[Any] = [*sign_in.ROUTES]
