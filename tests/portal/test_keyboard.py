"""One whole journey by keyboard alone (WCAG 2.1.1): a staff member signs in, chooses the
organisation, finds "Mijn gebruikersrechten" in the menu and requests a right, never touching the
mouse; each control is reached with Tab in the page's order and used with Enter, the arrow keys
or typing."""

from __future__ import annotations

import pytest
from playwright.async_api import Locator, Page, expect

from tests.portal.conftest import World, accessible

pytestmark = pytest.mark.slow


async def tab_to(page: Page, target: Locator, *, presses: int = 40) -> None:
    """Tab forward until `target` has the focus (it must be reachable by Tab, in order)."""
    for _ in range(presses):
        await page.keyboard.press("Tab")
        if await target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{target} was not reached with Tab in {presses} presses")


async def test_a_right_requested_by_keyboard_alone(page: Page, world: World) -> None:
    organisation = await world.organisation()
    member = await world.member(organisation, first_name="Kris")
    await page.goto("/")
    await tab_to(page, page.get_by_role("link", name="Aanmelden").first)
    await page.keyboard.press("Enter")
    await tab_to(page, page.get_by_label("Rijksregisternummer van de testpersoon"))
    await page.keyboard.type(member.national_register_number)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Kies hoe je verder gaat")
    await tab_to(page, page.get_by_role("button", name=organisation.name))
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text(organisation.name)

    await tab_to(page, page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Mijn gebruikersrechten"))
    await page.keyboard.press("Enter")
    await tab_to(page, page.get_by_role("link", name="Gebruikersrecht aanvragen"))
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Gebruikersrecht aanvragen")

    # Sent without a reason first: the error summary takes the focus, its link leads to the field.
    choice = page.get_by_label("Gebruikersrecht")
    await tab_to(page, choice)
    await page.keyboard.press("ArrowDown")
    chosen = await choice.input_value()
    assert chosen, "the arrow key chose a right"
    await tab_to(page, page.get_by_role("button", name="Aanvragen"))
    await page.keyboard.press("Enter")
    summary = page.get_by_role("alert").filter(has_text="Er is een probleem")
    await expect(summary).to_be_focused()
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")  # the summary's link to the reason
    await expect(page.get_by_label("Reden")).to_be_focused()
    await page.keyboard.type("Ik help bij de attesten voor opleidingsverlof.")
    await tab_to(page, page.get_by_role("button", name="Aanvragen"))
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status").filter(has_text="Je aanvraag is verstuurd")).to_be_visible()
    await accessible(page)
