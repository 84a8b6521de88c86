"""The public register of trainings (R-20 to R-23) in a real browser, signed out: the search (a GET
form, so its URL holds the search), a result's training page with its modules, hours, dates and
provider. The training is registered first through registration's API, as a provider and a case
handler would (R-17, R-15, R-20)."""

from __future__ import annotations

import random
import string
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import Page, expect

from tests.portal.conftest import World, accessible, screenshot
from tests.portal.department_helpers import registered_training

pytestmark = pytest.mark.slow


def _word() -> str:
    """A word no other training has, so the search finds exactly this one."""
    return "lasrobot" + "".join(random.choices(string.ascii_lowercase, k=8))


async def test_r20_r23_the_register_finds_a_registered_training_and_opens_its_page_signed_out(page: Page, world: World) -> None:
    word = _word()
    decided = await registered_training(world, training_name=f"Lasrobots programmeren {word}")
    odb_number = decided["odb_number"]
    assert odb_number and decided["status"] == "approved"

    await page.goto("/register")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Publiek opleidingsregister")
    await expect(page.get_by_role("button", name="Afmelden")).to_have_count(0)  # nobody signed in
    await accessible(page)
    # By keyboard: type the words in the search box and press Enter.
    box = page.get_by_label("Zoek op woorden")
    await box.focus()
    await page.keyboard.type(word)
    await page.keyboard.press("Enter")
    result = page.get_by_role("link", name=f"Lasrobots programmeren {word}")
    await expect(result).to_be_visible()
    await expect(page.get_by_role("heading", name="Gevonden opleidingen")).to_be_visible()
    # The URL holds the search: it can be bookmarked.
    assert parse_qs(urlsplit(page.url).query)["q"] == [word]
    results = page.locator(".register-result")
    await expect(results).to_have_count(1)
    await expect(results.first).to_contain_text(odb_number)
    await expect(results.first).to_contain_text("Beroepsspecifieke competenties")
    await accessible(page)
    await screenshot(page, "register-search")

    await result.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Lasrobots programmeren {word}")
    assert page.url.endswith(f"/register/{odb_number}")
    await expect(page.locator(".lead")).to_contain_text(odb_number)
    modules = page.get_by_role("table", name="Modules")
    await expect(modules.get_by_role("rowheader", name="Lassen basis")).to_be_visible()
    await expect(modules).to_contain_text("40")
    await expect(page.locator(".summary-list")).to_contain_text("40 uur")
    await accessible(page)
    await screenshot(page, "register-training")


async def test_the_filters_narrow_the_search_and_a_bookmarked_search_opens_again(page: Page, world: World) -> None:
    word = _word()
    decided = await registered_training(world, training_name=f"Laslabo {word}")
    odb_number = decided["odb_number"]
    # The ODB number, any case, and the hours: a bookmarked URL of the filters.
    await page.goto(f"/register?odb_number={odb_number.lower()}&min_hours=32&max_hours=40")
    await expect(page.get_by_role("link", name=f"Laslabo {word}")).to_be_visible()
    await expect(page.get_by_label("ODB-nummer")).to_have_value(odb_number.lower())
    # A filter that excludes it: blended only.
    await page.get_by_role("group", name="Blended leren (deels afstandsleren)").get_by_label("Alleen blended").check()
    await page.get_by_role("button", name="Zoeken met deze filters").click()
    await expect(page.get_by_role("heading", name="Geen opleidingen gevonden")).to_be_visible()
    assert parse_qs(urlsplit(page.url).query)["blended"] == ["true"]
    await accessible(page)


async def test_a_search_the_register_refuses_is_named_next_to_its_field(page: Page) -> None:
    await page.goto("/register?provider=ab")
    await expect(page.get_by_role("alert").filter(has_text="Er is een probleem")).to_be_visible()
    await expect(page.locator("#provider-fout")).to_contain_text("minstens 3 tekens")
    await accessible(page)


async def test_an_unknown_odb_number_is_not_found(page: Page) -> None:
    answer = await page.goto("/register/ODB-999999999")
    assert answer is not None and answer.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("Niet gevonden")
