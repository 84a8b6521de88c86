"""The helpdesk in the browser: an operator registers an organisation and appoints its head local
administrator (ID-1), who can then sign in and act for it (ID-10). And the menu shows a person only
the areas their rights open."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.portal.conftest import OPERATOR_NUMBER, World, accessible, enterprise_number, national_register_number, screenshot, sign_in

pytestmark = pytest.mark.slow


async def test_id1_the_helpdesk_registers_an_organisation_and_appoints_its_head(page: Page, world: World) -> None:
    await sign_in(page, OPERATOR_NUMBER, tile="Departement Werk en Sociale Economie")
    await page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Helpdesk").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Helpdesk: organisaties")
    await accessible(page)
    await page.get_by_role("link", name="Organisatie registreren").click()
    name = f"Opleidingshuis {national_register_number()[-5:]}"
    await page.get_by_label("Naam", exact=True).fill(name)
    await page.get_by_label("Ondernemingsnummer").fill("0123456789")  # a wrong check number
    await page.get_by_label("E-mailadres voor contact").fill("info@opleidingshuis.example")
    await page.get_by_role("button", name="Registreren").click()
    await expect(page.get_by_role("alert").filter(has_text="Er is een probleem")).to_contain_text("Ondernemingsnummer")
    await expect(page.locator("#enterprise_number-fout")).to_be_visible()
    await expect(page.get_by_label("Naam", exact=True)).to_have_value(name)  # what was typed stays
    await accessible(page)
    await page.get_by_label("Ondernemingsnummer").fill(enterprise_number())
    await page.get_by_role("button", name="Registreren").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(name)
    await expect(page.get_by_role("status")).to_contain_text("is geregistreerd")

    head = world.new_person("Wout", "Wouters")
    await page.get_by_label("Rijksregisternummer").fill(head.national_register_number)
    await page.get_by_label("Voornaam").fill(head.first_name)
    await page.get_by_label("Naam", exact=True).fill(head.last_name)
    await page.get_by_label("Man", exact=True).check()
    number = head.national_register_number
    await page.get_by_label("Geboortedatum").fill(f"19{number[:2]}-{number[2:4]}-{number[4:6]}")
    await page.get_by_label("E-mailadres").fill(head.email)
    await page.get_by_role("button", name="Aanduiden").click()
    await expect(page.get_by_role("status")).to_contain_text("hoofd lokale beheerder")
    await expect(page.get_by_role("listitem").filter(has_text="Wout Wouters")).to_contain_text("hoofd lokale beheerder")
    await accessible(page)
    await screenshot(page, "helpdesk-organisation")

    # rule ID-10: the new head signs in and acts for the organisation
    await page.context.clear_cookies()
    await sign_in(page, number, tile=name)
    await expect(page.get_by_role("heading", level=1)).to_have_text(name)
    menu = page.get_by_role("navigation", name="Hoofdmenu")
    await expect(menu.get_by_role("link", name="Gebruikersbeheer")).to_be_visible()
    await expect(menu.get_by_role("link", name="Helpdesk")).to_have_count(0)


async def test_the_menu_shows_only_what_the_rights_open(page: Page, world: World) -> None:
    organisation = await world.organisation()
    member = await world.member(organisation, rights=[("dwse_organisation_officer", "platos")])
    await sign_in(page, member.national_register_number, tile=organisation.name)
    menu = page.get_by_role("navigation", name="Hoofdmenu")
    await expect(menu.get_by_role("link")).to_have_text(["Start", "Platos", "Mijn gebruikersrechten"])
    await accessible(page)
    # Not in the menu is not the only guard: the helpdesk's page itself is refused by identity.
    answer = await page.goto("/helpdesk?naam=x")
    assert answer is not None and answer.status == 403


async def test_the_demo_people_of_dev_up_can_each_do_their_journeys(page: Page, browser_stack) -> None:
    """`./dev up` makes demo people (devstack.demo) through identity's API; twice changes nothing."""
    from devstack import demo
    from devstack import stack as devstack

    for _ in range(2):
        demo.seed(browser_stack, devstack.DEVELOPMENT_OPERATOR["national_register_number"])
    await sign_in(page, demo.OFFICER["national_register_number"], tile=demo.ORGANISATION["name"])
    menu = page.get_by_role("navigation", name="Hoofdmenu")
    await expect(menu.get_by_role("link")).to_have_text(["Start", "Opleidingen (ODB)", "Platos", "Attesten opleidingsverlof", "Mijn gebruikersrechten"])
    await page.context.clear_cookies()
    await sign_in(page, demo.CASE_HANDLER["national_register_number"], tile="Departement Werk en Sociale Economie")
    await expect(menu.get_by_role("link", name="Werkbakken")).to_be_visible()
    await page.context.clear_cookies()
    await sign_in(page, demo.STUDENT["national_register_number"])
    await expect(page.get_by_role("heading", level=1)).to_have_text("Welkom, Lotte Leerling")


async def test_a_test_person_signs_in_with_one_click(page: Page) -> None:
    await page.goto("/aanmelden")
    await page.get_by_role("button", name="Hanne Helpdesk: helpdesk van het departement").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Kies hoe je verder gaat")
