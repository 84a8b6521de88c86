"""Gebruikersbeheer in a real browser over the real stack: a head local administrator adds a
person and grants, changes and revokes rights (ID-3, ID-4, ID-6, ID-14), gives themes (ID-13),
appoints local administrators (ID-2), decides right requests (ID-8), downloads the rights report
and reads the audit trail (ID-12); a member sees and requests their own rights (ID-8); anyone
finds who an organisation's local administrators are (ID-9)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.async_api import Browser, Page, expect

from tests.portal.administration_helpers import appoint_local_administrator, email_to, page_of
from tests.portal.conftest import World, accessible, screenshot, sign_in

pytestmark = pytest.mark.slow

ODB = "DWSE organisatieverantwoordelijke: opleidingsdatabank (ODB)"


def flash(page: Page):  # the message the next page shows after a form was sent
    return page.locator(".notice[role=status]").first


async def test_id4_id6_a_head_adds_a_person_grants_a_right_with_its_validity_and_the_member_sees_it(
    page: Page, world: World, browser: Browser, portal_url: str
) -> None:
    organisation = await world.organisation()
    await world.member(organisation, first_name="Ann")  # someone already there, for the list
    await sign_in(page, organisation.head.national_register_number, tile=organisation.name)
    await page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Gebruikersbeheer").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Gebruikersbeheer")
    await expect(page.get_by_role("table", name="Gebruikers")).to_contain_text(organisation.head.last_name)
    await accessible(page)
    await screenshot(page, "gebruikersbeheer")

    # ID-4: a wrong number is refused next to the field and in the summary, before anything is sent.
    newcomer = world.new_person("Noor")
    await page.get_by_role("link", name="Persoon toevoegen").click()
    await accessible(page)
    await page.get_by_label("Rijksregisternummer").fill(newcomer.national_register_number[:9] + "00")
    await page.get_by_label("Voornaam").fill(newcomer.first_name)
    await page.get_by_label("Achternaam").fill(newcomer.last_name)
    await page.get_by_label("Vrouw").check()
    await page.get_by_label("E-mailadres").fill(newcomer.email)
    await page.get_by_role("button", name="Toevoegen").click()
    await expect(page.get_by_role("alert").filter(has_text="Er is een probleem")).to_contain_text("Rijksregisternummer")
    await expect(page.locator("#national_register_number-fout")).to_contain_text("regel ID-4")
    await accessible(page)
    assert newcomer.national_register_number[:9] not in page.url  # the number never travels in a URL
    await page.get_by_label("Rijksregisternummer").fill(newcomer.national_register_number)
    await page.get_by_role("button", name="Toevoegen").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(newcomer.name)
    await expect(flash(page)).to_contain_text("is toegevoegd")
    assert newcomer.national_register_number not in await page.content()
    await accessible(page)

    # ID-6, ID-14: a right with a validity period.
    until = date.today() + timedelta(days=365)
    await page.get_by_role("link", name="Gebruikersrecht toekennen").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Gebruikersrecht toekennen")
    await page.get_by_label("Gebruikersrecht").select_option(label=ODB)
    await page.get_by_label("Geldig tot en met").fill((date.today() - timedelta(days=3)).strftime("%d/%m/%Y"))
    await accessible(page)
    await screenshot(page, "gebruikersrecht-toekennen")
    await page.get_by_role("button", name="Toekennen").click()
    # A period that ended already would grant nothing: the service refuses it, named at the field.
    await expect(page.locator("#valid_until-fout")).to_contain_text("ID-14")
    await page.get_by_label("Geldig tot en met").fill(until.strftime("%d/%m/%Y"))
    await page.get_by_role("button", name="Toekennen").click()
    await expect(flash(page)).to_contain_text(f"{newcomer.name} heeft nu het recht {ODB}")
    rights = page.get_by_role("table", name=f"Gebruikersrechten van {newcomer.name}")
    await expect(rights).to_contain_text(until.strftime("%d/%m/%Y"))

    # The right's validity changes.
    later = until + timedelta(days=31)
    await rights.get_by_role("row").filter(has_text=ODB).get_by_role("link", name="Geldigheid wijzigen").click()
    await accessible(page)
    await page.get_by_label("Geldig tot en met").fill(later.strftime("%d/%m/%Y"))
    await page.get_by_role("button", name="Bewaren").click()
    await expect(flash(page)).to_contain_text(f"tot en met {later.strftime('%d/%m/%Y')}")

    # ID-13: a theme given and shown.
    await page.get_by_label("Thema geven").select_option(label="Personeel")
    await page.get_by_role("button", name="Thema geven").click()
    await expect(flash(page)).to_contain_text("Het thema is gegeven")
    await expect(page.locator(".admin-themes")).to_contain_text("Personeel")

    # The member signs in and sees the right, for this organisation and as a citizen across organisations.
    member_page = await page_of(browser, portal_url, newcomer.national_register_number, organisation.name)
    await member_page.goto("/organisatie/mijn-rechten")
    await expect(member_page.get_by_role("heading", level=1)).to_have_text("Mijn gebruikersrechten")
    mine = member_page.get_by_role("table", name="Mijn gebruikersrechten")
    await expect(mine).to_contain_text(ODB)
    await expect(mine).to_contain_text(later.strftime("%d/%m/%Y"))
    await accessible(member_page)
    await member_page.goto("/kies")
    await member_page.get_by_role("button", name="Als burger").click()
    await member_page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Mijn gebruikersrechten").click()
    await expect(member_page.get_by_role("table", name="Mijn gebruikersrechten")).to_contain_text(organisation.name)
    await accessible(member_page)
    await member_page.context.close()

    # The rights report, streamed from identity.
    await page.goto("/organisatie/gebruikers")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Rapport gebruikersrechten (CSV)").click()
    download = await download_info.value
    report = (await download.path()).read_text(encoding="utf-8")
    assert report.splitlines()[0].startswith("last_name;first_name;membership;context;role")
    assert any(line.startswith(f"{newcomer.last_name};{newcomer.first_name};user;training_database;dwse_organisation_officer") for line in report.splitlines())

    # ID-12: the audit trail shows the grant and who it was for; then the right is revoked.
    await page.get_by_role("link", name="Audittrail").click()
    trail = page.get_by_role("table", name="Wat er gebeurde")
    await expect(trail).to_contain_text(f"Gebruikersrecht toegekend: {ODB}")
    await expect(trail.get_by_role("row").filter(has_text="Gebruikersrecht toegekend").first).to_contain_text(newcomer.name)
    await accessible(page)
    await page.goto("/organisatie/gebruikers")
    await page.get_by_role("link", name=newcomer.name).click()
    await page.get_by_role("row").filter(has_text=ODB).get_by_role("button", name="Intrekken").click()
    await expect(flash(page)).to_contain_text("ingetrokken")
    await expect(page.get_by_text("Nog geen gebruikersrechten.")).to_be_visible()
    # ID-5: the person leaves the organisation.
    await page.get_by_role("button", name="Verwijderen uit de organisatie").click()
    await expect(flash(page)).to_contain_text("verwijderd uit je organisatie")
    await expect(page.get_by_role("table", name="Gebruikers")).not_to_contain_text(newcomer.last_name)


async def test_id4_a_known_person_is_added_only_with_their_own_name(page: Page, world: World) -> None:
    elsewhere = await world.organisation()
    known = await world.member(elsewhere, first_name="Jonas")
    organisation = await world.organisation()
    await sign_in(page, organisation.head.national_register_number, tile=organisation.name)
    await page.goto("/organisatie/gebruikers/toevoegen")
    await page.get_by_label("Rijksregisternummer").fill(known.national_register_number)
    await page.get_by_label("Voornaam").fill("Piet")
    await page.get_by_label("Achternaam").fill("Verkeerd")
    await page.get_by_label("Man").check()
    await page.get_by_label("E-mailadres").fill("piet@example.org")
    await page.get_by_role("button", name="Toevoegen").click()
    await expect(page.locator("#last_name-fout")).to_contain_text("hoort niet bij dit rijksregisternummer")
    await accessible(page)
    # With the right name the person is found (not registered twice) and added.
    await page.get_by_label("Voornaam").fill(known.first_name)
    await page.get_by_label("Achternaam").fill(known.last_name)
    await page.get_by_role("button", name="Toevoegen").click()
    await expect(flash(page)).to_contain_text(f"{known.name} is toegevoegd")
    assert known.person_id in page.url


async def test_id8_a_member_requests_a_right_the_head_decides_and_the_member_sees_the_outcome_and_gets_the_email(
    page: Page, world: World, browser: Browser, portal_url: str
) -> None:
    organisation = await world.organisation()
    member = await world.member(organisation, first_name="Mira")
    await sign_in(page, member.national_register_number, tile=organisation.name)
    # As the refusal page of a service links it (required_right: dwse_organisation_officer in training_database).
    await page.goto("/organisatie/mijn-rechten/aanvragen?rol=dwse_organisation_officer&context=training_database&terug=/opleidingen")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Gebruikersrecht aanvragen")
    await expect(page.get_by_label("Gebruikersrecht")).to_have_value("dwse_organisation_officer@training_database")
    await page.get_by_role("button", name="Aanvragen").click()
    await expect(page.locator("#reason-fout")).to_contain_text("Zeg waarvoor")
    await accessible(page)
    await page.get_by_label("Reden").fill("Ik registreer de opleidingen van ons centrum.")
    await accessible(page)
    await screenshot(page, "gebruikersrecht-aanvragen")
    await page.get_by_role("button", name="Aanvragen").click()
    await expect(flash(page)).to_contain_text("Je aanvraag is verstuurd")
    requests = page.get_by_role("table", name="Mijn aanvragen voor gebruikersrechten")
    await expect(requests.get_by_role("row").filter(has_text=ODB)).to_contain_text("In behandeling")
    await expect(page.get_by_role("link", name="Terug naar de pagina waar je was")).to_have_attribute("href", "/opleidingen")
    await accessible(page)
    # Asking twice is refused with the reason and the rule.
    await page.goto("/organisatie/mijn-rechten/aanvragen?rol=dwse_organisation_officer&context=training_database")
    await page.get_by_label("Reden").fill("Nog eens.")
    await page.get_by_role("button", name="Aanvragen").click()
    await expect(page.get_by_role("alert")).to_contain_text("je aanvraag wacht op een beslissing")
    await expect(page.get_by_role("alert")).to_contain_text("(regel ID-8)")

    # ID-8: the organisation's local administrators are emailed.
    await email_to(world, organisation.head.email, member.last_name)

    head = await page_of(browser, portal_url, organisation.head.national_register_number, organisation.name)
    await head.goto("/organisatie/gebruikers")
    await head.get_by_role("link", name="1 aanvraag wacht op je beslissing").click()
    await expect(head.get_by_role("heading", level=2, name=f"{member.name}: {ODB}")).to_be_visible()
    await accessible(head)
    await screenshot(head, "aanvragen-beslissen")
    # Refusing needs a reason (it is emailed to the requester).
    await head.get_by_label("Weigeren", exact=True).check()
    await head.get_by_role("button", name="Beslissen").click()
    await expect(head.get_by_role("alert").filter(has_text="Er is een probleem")).to_contain_text("Reden")
    await accessible(head)
    await head.get_by_label("Goedkeuren: het recht geldt vanaf vandaag").check()
    await head.get_by_role("button", name="Beslissen").click()
    await expect(flash(head)).to_contain_text("goedgekeurd")
    await expect(head.get_by_text("Er wachten geen aanvragen op een beslissing.")).to_be_visible()
    await head.context.close()

    await page.goto("/organisatie/mijn-rechten")
    await expect(requests.get_by_role("row").filter(has_text=ODB)).to_contain_text("Goedgekeurd")
    await expect(page.get_by_role("table", name="Mijn gebruikersrechten")).to_contain_text(ODB)
    decided = await email_to(world, member.email, "goedgekeurd")
    assert organisation.name in decided["text"]


async def test_id8_a_member_withdraws_a_pending_request(page: Page, world: World) -> None:
    organisation = await world.organisation()
    member = await world.member(organisation, first_name="Wout")
    await sign_in(page, member.national_register_number, tile=organisation.name)
    await page.goto("/organisatie/mijn-rechten")
    await page.get_by_role("link", name="Gebruikersrecht aanvragen").click()
    await page.get_by_label("Gebruikersrecht").select_option(label="DWSE organisatieverantwoordelijke: Platos")
    await page.get_by_label("Reden").fill("Voor onze aanvraag tot erkenning.")
    await page.get_by_role("button", name="Aanvragen").click()
    await page.get_by_role("row").filter(has_text="Platos").get_by_role("button", name="Intrekken").click()
    await expect(flash(page)).to_contain_text("Je aanvraag is ingetrokken")
    row = page.get_by_role("table", name="Mijn aanvragen voor gebruikersrechten").get_by_role("row").filter(has_text="Platos")
    await expect(row).to_contain_text("Ingetrokken")
    await expect(row.get_by_role("button")).to_have_count(0)


async def test_id2_the_head_appoints_a_local_administrator_who_cannot_appoint_another_and_id3_a_member_is_refused(
    page: Page, world: World, browser: Browser, portal_url: str
) -> None:
    organisation = await world.organisation()
    lars = await world.member(organisation, first_name="Lars")
    mia = await world.member(organisation, first_name="Mia")
    await sign_in(page, organisation.head.national_register_number, tile=organisation.name)
    await page.goto("/organisatie/gebruikers")
    await page.get_by_role("link", name=lars.name).click()
    await page.get_by_role("button", name="Aanstellen als lokale beheerder").click()
    await expect(flash(page)).to_contain_text("Aangesteld als lokale beheerder")
    await expect(page.locator(".summary-list")).to_contain_text("Lokale beheerder")

    # Lars manages users now, but only the head appoints administrators (ID-2).
    local = await page_of(browser, portal_url, lars.national_register_number, organisation.name)
    await local.goto("/organisatie/gebruikers")
    await local.get_by_role("link", name=mia.name).click()
    await local.get_by_role("button", name="Aanstellen als lokale beheerder").click()
    await expect(local.get_by_role("heading", level=1)).to_have_text("Niet toegestaan")
    await expect(local.get_by_role("alert")).to_contain_text("Alleen een hoofd lokale beheerder kan lokale beheerders aanstellen of verwijderen. (regel ID-2)")
    await accessible(local)
    await local.context.close()

    # Mia is no administrator: Gebruikersbeheer is refused with a page, not an error (ID-3).
    plain = await page_of(browser, portal_url, mia.national_register_number, organisation.name)
    answer = await plain.goto("/organisatie/gebruikers")
    assert answer is not None and answer.status == 403
    await expect(plain.get_by_role("heading", level=1)).to_have_text("Geen toegang tot gebruikersbeheer")
    await expect(plain.get_by_role("link", name="Mijn gebruikersrechten bekijken of een recht aanvragen")).to_be_visible()
    await accessible(plain)
    await plain.context.close()

    # The head removes Lars as administrator again (ID-2: both can change at any time).
    await page.reload()
    await page.goto("/organisatie/gebruikers")
    await page.get_by_role("link", name=lars.name).click()
    await page.get_by_role("button", name="Niet langer lokale beheerder").click()
    await expect(flash(page)).to_contain_text("Is geen lokale beheerder meer")


async def test_id2_a_local_administrator_appointed_through_the_api_sees_gebruikersbeheer(page: Page, world: World) -> None:
    organisation = await world.organisation()
    ruth = await world.member(organisation, first_name="Ruth")
    await appoint_local_administrator(world, organisation, ruth)
    await sign_in(page, ruth.national_register_number, tile=organisation.name)
    await page.goto("/organisatie/gebruikers")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Gebruikersbeheer")
    await expect(page.get_by_role("table", name="Gebruikers")).to_contain_text(ruth.last_name)


async def test_id9_who_is_my_local_administrator_without_signing_in(page: Page, world: World) -> None:
    organisation = await world.organisation()
    number = organisation.enterprise_number
    await page.goto("/")
    await page.get_by_role("link", name="Wie is mijn lokale beheerder?").first.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Wie is mijn lokale beheerder?")
    await accessible(page)
    await page.get_by_label("Ondernemingsnummer of naam").fill(f"{number[:4]}.{number[4:7]}.{number[7:]}")
    await page.get_by_role("button", name="Zoeken").click()
    result = page.get_by_role("region", name=organisation.name)
    await expect(result).to_contain_text(organisation.head.name)
    await expect(result).to_contain_text(organisation.head.email)
    content = await page.content()
    assert organisation.head.national_register_number not in content  # ID-9: never the number
    await accessible(page)
    await screenshot(page, "wie-is-mijn-lokale-beheerder")
    # By a part of the name, any case.
    await page.get_by_label("Ondernemingsnummer of naam").fill(organisation.name.split()[-1].upper())
    await page.get_by_role("button", name="Zoeken").click()
    await expect(page.get_by_role("region", name=organisation.name)).to_contain_text(organisation.head.name)
    # A number whose check digits are wrong is named at the field.
    await page.get_by_label("Ondernemingsnummer of naam").fill(number[:8] + ("00" if number[8:] != "00" else "01"))
    await page.get_by_role("button", name="Zoeken").click()
    await expect(page.locator("#zoek-fout")).to_contain_text("controlegetal")
    await accessible(page)


async def test_id8_from_a_services_refusal_page_to_the_request_form_and_back(page: Page, world: World) -> None:
    """Attestation refuses a member without dwse_organisation_officer (A-1) and names the right
    (required_right); the refusal page's button opens the request form with that right chosen."""
    organisation = await world.organisation()
    member = await world.member(organisation, first_name="Sien")
    await sign_in(page, member.national_register_number, tile=organisation.name)
    answer = await page.goto("/attesten")
    assert answer is not None and answer.status == 403
    await expect(page.get_by_role("heading", level=1)).to_have_text("Geen toegang")
    await page.get_by_role("link", name="Gebruikersrecht aanvragen").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Gebruikersrecht aanvragen")
    chosen = await page.get_by_label("Gebruikersrecht").input_value()
    assert chosen.startswith("dwse_organisation_officer@"), chosen
    await page.get_by_label("Reden").fill("Ik attesteer de inschrijvingen van onze cursisten.")
    await page.get_by_role("button", name="Aanvragen").click()
    await expect(flash(page)).to_contain_text("Je aanvraag is verstuurd")
    await expect(page.get_by_role("link", name="Terug naar de pagina waar je was")).to_have_attribute("href", "/attesten")
    await accessible(page)
