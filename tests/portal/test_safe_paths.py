"""Where the portal goes after sign-in is a path of its own, never another site (no open redirect).
No stack needed."""

from __future__ import annotations

import pytest

from portal.pages.sign_in import _safe_next


@pytest.mark.parametrize(
    "given",
    ["https://evil.example/", "//evil.example", "/\\evil.example", "\\\\evil.example", "/\t/evil.example", "/\n/evil.example", "javascript:alert(1)", "", None],
)
def test_another_site_or_a_trick_becomes_the_start_page(given: str | None) -> None:
    assert _safe_next(given) == "/"


@pytest.mark.parametrize("given", ["/", "/opleidingen/aanvragen/1", "/organisatie/mijn-rechten/aanvragen?rol=x&context=y", "/register?q=lassen%20mig"])
def test_a_path_of_the_portal_is_kept(given: str) -> None:
    assert _safe_next(given) == given
