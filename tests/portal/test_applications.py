"""The provider's side of the ODB registration in a real browser over the real stack (seed 003):
the application as the manual's steps 2 to 7 (R-3, R-17, R-18), its outcome (R-2, R-8), a
dossier's question answered (R-19), registered trainings stopped (R-23) and replaced (R-24); one
journey with JavaScript off. Every page checked with axe-core."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.portal.applications_helpers import (
    PDF,
    case_handler,
    client,
    contact_address,
    draft,
    emails_about,
    provider,
    registered,
    submitted,
    training,
)
from tests.portal.conftest import World, accessible, screenshot, sign_in

pytestmark = pytest.mark.slow


async def _fill_training(page: Page, *, web_page: str, reference: str) -> None:
    await page.get_by_label("Naam van de opleiding").fill("Heftruck veilig besturen")
    await page.get_by_label("Eigen unieke referentie").fill(reference)
    await page.get_by_label("Doelgroep").fill("Magazijnmedewerkers zonder ervaring met heftrucks")
    await page.get_by_role("group", name="Integrale of modulaire opleiding").get_by_label("Integrale opleiding").check()
    await page.get_by_role("group", name="Competentiegroep").get_by_label("Beroepsspecifieke competenties").check()
    for question, answer in (
        ("Wordt er binnen de opleiding werkplekleren voorzien?", "Nee"),
        ("Wordt de opleiding ingericht via blended leren?", "Nee"),
        ("Bevat de opleiding onderdelen waarvoor men apart kan inschrijven?", "Nee"),
        ("Ontvangt de cursist na de opleiding een (deel)kwalificatie?", "Ja"),
        ("Hoort er bij de opleiding een eindbeoordeling?", "Ja"),
    ):
        await page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()
    await page.get_by_label("Webpagina van de opleiding").fill(web_page)
    await page.get_by_label("Inhoud en leerdoelstellingen").fill("Veilig rijden, laden en lossen; VCA-regels; dagelijkse controle.")
    starts = date.today() + timedelta(days=120)
    await page.get_by_label("Naam van module 1").fill("Heftruck basis")
    await page.get_by_label("Contacturen").fill("35")
    await page.get_by_label("Begindatum").fill(starts.isoformat())
    await page.get_by_label("Einddatum").fill((starts + timedelta(days=30)).isoformat())


async def test_r17_the_whole_application_in_steps_with_an_error_going_back_and_the_confirmation_email(page: Page, world: World) -> None:
    provider_ = await provider(world)
    contact = contact_address()
    await sign_in(page, provider_.officer.national_register_number, tile=provider_.organisation.name)
    await page.goto("/opleidingen")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Opleidingen in de opleidingsdatabank")
    await accessible(page)
    await page.get_by_role("button", name="Nieuwe aanvraag").click()

    # The task list: the manual's steps 2 to 7.
    await expect(page.get_by_role("heading", level=1)).to_have_text("Aanvraag registratie in de opleidingsdatabank")
    await expect(page.locator(".task-list__item")).to_have_count(6)
    await accessible(page)
    await screenshot(page, "odb-task-list")
    await page.get_by_role("link", name="Stap 2. Contactgegevens invullen").click()

    # Step 2: the contact person, entered once for the organisation.
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Contactgegevens invullen")
    await expect(page.get_by_text("eenmalige actie")).to_be_visible()
    await page.get_by_label("Naam contactpersoon").fill("Dienst Opleidingen")
    await page.get_by_label("E-mailadres").fill(contact)
    await page.get_by_label("Telefoonnummer").fill("+32 9 123 45 67")
    await accessible(page)
    await page.get_by_role("button", name="Volgende stap").click()

    # Step 3 with a mistake: named next to the field and in the summary, which links to it.
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Gegevens opleiding invullen")
    await _fill_training(page, web_page="heftruck-opleiding", reference="HEF-" + provider_.organisation.organisation_id[:8])
    await page.get_by_role("button", name="Volgende stap").click()
    summary = page.get_by_role("alert").filter(has_text="Er is een probleem")
    await expect(summary).to_contain_text("Webpagina van de opleiding: Geef een geldig webadres")
    await expect(page.locator("#web_page-fout")).to_contain_text("Geef een geldig webadres")
    assert (await page.title()).startswith("Fout:")
    await expect(page.get_by_label("Naam van de opleiding")).to_have_value("Heftruck veilig besturen")  # what was typed stays
    await accessible(page)
    await screenshot(page, "odb-step-errors")
    await summary.get_by_role("link", name="Webpagina van de opleiding").click()
    await expect(page.locator("#web_page")).to_be_focused()
    await page.locator("#web_page").fill("https://vormingscentrum.example/heftruck")
    await page.get_by_role("button", name="Volgende stap").click()

    # Step 4, then "Vorige stap": both steps keep what was entered.
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Zelfanalyse arbeidsmarktgerichtheid")
    await page.get_by_label("Knelpuntberoep").check()
    await accessible(page)
    await page.get_by_role("button", name="Vorige stap").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Gegevens opleiding invullen")
    await expect(page.get_by_label("Webpagina van de opleiding")).to_have_value("https://vormingscentrum.example/heftruck")
    await expect(page.get_by_label("Contacturen")).to_have_value("35")
    await page.get_by_role("button", name="Volgende stap").click()
    await expect(page.get_by_label("Knelpuntberoep")).to_be_checked()
    await page.get_by_role("button", name="Volgende stap").click()

    # Step 5: the deciding body.
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Beslissingsinstantie bepalen")
    await page.get_by_label("Vaardigheden aanleren die nuttig zijn voor meerdere beroepen").check()
    await accessible(page)
    await page.get_by_role("button", name="Volgende stap").click()

    # Step 6: an extra document, streamed to the service.
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Extra documenten opladen")
    await page.get_by_label("Document toevoegen").set_input_files({"name": "programma.pdf", "mimeType": "application/pdf", "buffer": PDF})
    await page.get_by_role("button", name="Opladen").click()
    await expect(page.get_by_role("status")).to_contain_text("programma.pdf is opgeladen")
    await expect(page.locator(".odb-documents")).to_contain_text("programma.pdf")
    await accessible(page)
    await page.get_by_role("button", name="Volgende stap").click()

    # Step 7: the overview, then "Bewaren".
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Aanvraag bevestigen")
    await expect(page.locator("main")).to_contain_text(contact)
    await expect(page.locator("main")).to_contain_text("Heftruck veilig besturen")
    await expect(page.locator("main")).to_contain_text("programma.pdf")
    await accessible(page)
    await screenshot(page, "odb-overview")
    await page.get_by_role("button", name="Bewaren").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Je aanvraag is ingediend")
    await expect(page.locator(".notice--success")).to_contain_text("In behandeling")
    dossier_number = (await page.locator(".notice--success strong").first.inner_text()).strip()
    assert dossier_number.isdigit()
    await accessible(page)
    await screenshot(page, "odb-confirmation")

    # N-1: the contact person's confirmation in the mail sink.
    confirmation = await emails_about(world, contact, f"dossiernummer {dossier_number}")
    assert confirmation[0]["subject"].startswith("Ontvangstbevestiging")
    # the contact is now the organisation's, and proposed for the next application.
    async with client(world, "registration", provider_.token) as registration:
        assert (await registration.get("/v1/provider/organisation")).json()["contact"]["email"] == contact
    # The dossier is on the start page, with its deadline.
    await page.get_by_role("link", name="Naar je lopende dossiers").click()
    row = page.get_by_role("row").filter(has_text=f"Dossier {dossier_number}")
    await expect(row).to_contain_text("In behandeling")
    await row.get_by_role("link").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(f"Dossier {dossier_number}")
    await expect(page.get_by_role("table")).to_contain_text("Aanvraag ingediend")
    await accessible(page)


async def test_r17_a_double_click_on_bewaren_submits_once(page: Page, world: World, portal_url: str) -> None:
    provider_ = await provider(world)
    application = await draft(world, provider_, contact=contact_address())
    await sign_in(page, provider_.officer.national_register_number, tile=provider_.organisation.name)
    await page.goto(f"/opleidingen/aanvragen/{application['application_id']}/overzicht")
    token = await page.locator("input[name=csrf_token]").first.input_value()
    cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
    path = f"/opleidingen/aanvragen/{application['application_id']}/overzicht"
    async with httpx.AsyncClient(base_url=portal_url, cookies=cookies) as browser_like:
        first, second = [await browser_like.post(path, data={"csrf_token": token, "actie": "bewaren"}) for _ in range(2)]
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"] == f"/opleidingen/aanvragen/{application['application_id']}/bevestiging"
    async with client(world, "registration", provider_.token) as registration:
        open_dossiers = (await registration.get("/v1/provider/applications")).json()["items"]
    assert [d["status"] for d in open_dossiers] == ["in_review"]


async def test_r18_a_cancelled_draft_is_gone(page: Page, world: World) -> None:
    provider_ = await provider(world, quality_registered=False)
    await sign_in(page, provider_.officer.national_register_number, tile=provider_.organisation.name)
    await page.goto("/opleidingen")
    await page.get_by_role("button", name="Nieuwe aanvraag").click()
    draft_url = page.url
    await page.get_by_role("link", name="Stap 2. Contactgegevens invullen").click()
    # without a quality registration the manual's yellow box.
    await expect(page.locator(".notice--warning")).to_contain_text("kwaliteitsregistratie")
    await page.get_by_role("link", name="Annuleren").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Aanvraag annuleren?")
    await accessible(page)
    await page.get_by_role("button", name="Ja, aanvraag annuleren").click()
    await expect(page.get_by_role("status")).to_contain_text("De aanvraag is geannuleerd")
    await expect(page.locator("#lopende-dossiers ~ p").first).to_have_text("Geen lopende dossiers.")
    await page.goto(draft_url)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Niet gevonden")


async def test_r8_an_inadmissible_application_shows_its_rule(page: Page, world: World) -> None:
    provider_ = await provider(world)
    contact = contact_address()
    short = training(mentor_training=False, modules=[{**training()["modules"][0], "contact_hours": "20"}])
    application = await draft(world, provider_, contact=contact, training_section=short)
    await sign_in(page, provider_.officer.national_register_number, tile=provider_.organisation.name)
    await page.goto(f"/opleidingen/aanvragen/{application['application_id']}/overzicht")
    await page.get_by_role("button", name="Bewaren").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Je aanvraag is onontvankelijk")
    await expect(page.locator(".notice--error")).to_contain_text("regel R-8")
    await accessible(page)
    await emails_about(world, contact, f"is onontvankelijk (dossiernummer {application['dossier_number']})")


async def test_r19_answering_a_request_for_information_with_a_document(page: Page, world: World) -> None:
    provider_ = await provider(world)
    handler = await case_handler(world)
    contact = contact_address()
    application = await submitted(world, provider_, contact=contact)
    path = f"/v1/back-office/applications/{application['application_id']}"
    async with client(world, "registration", handler) as back_office:
        asked = await back_office.post(f"{path}/information-requests", json={"question": "Bezorg ons het volledige lesprogramma."})
        assert asked.status_code == 201, asked.text
    await emails_about(
        world, contact, f"Vraag om bijkomende informatie: registratieaanvraag Lastechnieken voor beginners (dossiernummer {application['dossier_number']})"
    )

    await sign_in(page, provider_.officer.national_register_number, tile=provider_.organisation.name)
    await page.goto("/opleidingen")
    await page.get_by_role("row").filter(has_text=f"Dossier {application['dossier_number']}").get_by_role("link").click()
    await expect(page.get_by_role("heading", name="Vraag om bijkomende informatie")).to_be_visible()
    await expect(page.locator(".odb-question")).to_contain_text("Bezorg ons het volledige lesprogramma.")
    await accessible(page)
    # Without an answer: named next to the field.
    await page.get_by_role("button", name="Antwoord versturen").click()
    await expect(page.locator("#antwoord-fout")).to_contain_text("Vul je antwoord in.")
    await accessible(page)
    await page.get_by_label("Je antwoord").fill("Het lesprogramma zit in bijlage.")
    await page.get_by_label("Document bij het antwoord").set_input_files({"name": "lesprogramma.pdf", "mimeType": "application/pdf", "buffer": PDF})
    await page.get_by_role("button", name="Antwoord versturen").click()
    await expect(page.get_by_role("status")).to_contain_text("Je antwoord is verstuurd")
    await expect(page.locator(".odb-answered")).to_contain_text("Het lesprogramma zit in bijlage.")
    await expect(page.locator(".odb-answered")).to_contain_text("lesprogramma.pdf")
    await expect(page.get_by_role("table")).to_contain_text("Antwoord ontvangen")
    await accessible(page)
    async with client(world, "registration", handler) as back_office:
        seen = (await back_office.get(path)).json()
    assert seen["information_requests"][0]["answer"] == "Het lesprogramma zit in bijlage."
    assert len(seen["information_requests"][0]["answer_documents"]) == 1


async def test_r23_stopping_a_training_and_r24_applying_for_its_replacement(page: Page, world: World) -> None:
    provider_ = await provider(world)
    handler = await case_handler(world)
    contact = contact_address()
    odb_number = await registered(world, provider_, handler, contact=contact)
    await sign_in(page, provider_.officer.national_register_number, tile=provider_.organisation.name)
    await page.goto("/opleidingen/geregistreerd")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Geregistreerde opleidingen")
    await accessible(page)
    await page.get_by_role("link", name=odb_number).click()
    await expect(page.locator(".summary-list")).to_contain_text("Niet stopgezet")
    await accessible(page)

    # a replacement starts from what is registered.
    await page.get_by_role("button", name="Vervangende registratie aanvragen").click()
    await expect(page.locator(".notice--info")).to_contain_text(f"vervangt de registratie {odb_number}")
    await page.get_by_role("link", name="Stap 3. Gegevens opleiding invullen").click()
    await expect(page.get_by_label("Naam van de opleiding")).to_have_value("Lastechnieken voor beginners")

    # a stop date and a reason, then a confirmation step.
    await page.goto(f"/opleidingen/geregistreerd/{odb_number}")
    await page.get_by_role("link", name="Registratie stopzetten").click()
    await accessible(page)
    await page.get_by_role("button", name="Volgende stap").click()
    await expect(page.locator("#reason-fout")).to_contain_text("Geef de reden van de stopzetting.")
    stop_on = date.today() + timedelta(days=10)
    await page.get_by_label("Datum stopzetting").fill(stop_on.isoformat())
    await page.get_by_label("Stopzettingsreden").fill("Wordt niet meer georganiseerd")
    await page.get_by_role("button", name="Volgende stap").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Stopzetting bevestigen")
    await accessible(page)
    await page.get_by_role("button", name="Registratie stopzetten").click()
    shown = stop_on.strftime("%d/%m/%Y")
    await expect(page.get_by_role("status")).to_contain_text(f"stopgezet vanaf {shown}")
    await expect(page.locator(".summary-list")).to_contain_text(f"Vanaf {shown}: Wordt niet meer georganiseerd")
    await emails_about(world, contact, f"Bevestiging stopzetting {odb_number}")


async def test_the_application_with_javascript_off_is_held_without_a_quality_registration(browser: Browser, portal_url: str, world: World) -> None:
    provider_ = await provider(world, quality_registered=False)
    contact = contact_address()
    # axe-core needs JavaScript in the page: these pages are checked in the journeys above.
    context = await browser.new_context(java_script_enabled=False, base_url=portal_url, locale="nl-BE")
    try:
        page = await context.new_page()
        await sign_in(page, provider_.officer.national_register_number, tile=provider_.organisation.name)
        await page.goto("/opleidingen")
        await page.get_by_role("button", name="Nieuwe aanvraag").click()
        await page.get_by_role("link", name="Stap 2. Contactgegevens invullen").click()
        await page.get_by_label("Naam contactpersoon").fill("Onthaal")
        await page.get_by_label("E-mailadres").fill(contact)
        await page.get_by_label("Telefoonnummer").fill("+32 9 000 00 00")
        await page.get_by_role("button", name="Volgende stap").click()
        await _fill_training(page, web_page="https://vormingscentrum.example/heftruck", reference="HEF-NOJS")
        # A second module, added without JavaScript: the page comes back with what was typed.
        await page.get_by_role("button", name="Module toevoegen").click()
        await expect(page.get_by_label("Naam van module 2")).to_be_visible()
        await expect(page.get_by_label("Naam van module 1")).to_have_value("Heftruck basis")
        await page.get_by_role("button", name="Volgende stap").click()  # the empty second module is left out
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Zelfanalyse")
        await page.get_by_label("Rekenvaardigheid").check()
        await page.get_by_role("button", name="Volgende stap").click()
        await page.get_by_label("Vaardigheden aanleren die nuttig zijn voor meerdere beroepen").check()
        await page.get_by_role("button", name="Volgende stap").click()
        await page.get_by_role("button", name="Volgende stap").click()  # no extra documents
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Aanvraag bevestigen")
        await page.get_by_role("button", name="Bewaren").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Je aanvraag is ingediend")
        await expect(page.locator(".notice--success")).to_contain_text("In wacht: kwaliteitsregistratie")
        await expect(page.locator("main")).to_contain_text("regel R-2")
    finally:
        await context.close()
    await emails_about(world, contact, "Ontvangstbevestiging: registratieaanvraag Heftruck veilig besturen")
