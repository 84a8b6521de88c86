"""Platos in a real browser over the real stack: a provider's staff member fills in the five parts
of the recognition application (E-3), submits it and gets the confirmation and its email (E-4);
after the department's and the minister's steps (driven through the recognition API) the provider
shows in the public list without sign-in (E-8), records a coaching assignment (E-9) and reports a
change (E-12). A member without the right is offered to request it (E-1, ID-8)."""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.portal.conftest import World, accessible, screenshot, sign_in
from tests.portal.platos_helpers import case_handler, eventually, grant_recognition, provider

pytestmark = pytest.mark.slow

MOTIVATION = "Sinds 2012 begeleiden wij jaarlijks meer dan honderd werknemers met een arbeidsbeperking op de werkvloer."
TERRITORY = "Onze kantoren in Gent en Kortrijk bereiken beide provincies binnen het uur met het openbaar vervoer."
CAPACITY = "Vier begeleiders met elk een caseload van tien werknemers tegelijk, zoals onze ervaring aangeeft."


async def _start_application(page: Page) -> None:
    """The start button; recognition may learn the organisation a moment after identity registered it."""
    for _ in range(50):
        await page.goto("/platos")
        await page.get_by_role("button", name="Nieuwe aanvraag starten").click()
        if await page.get_by_role("heading", level=1, name="Aanvraag tot erkenning").count():
            return
        await page.wait_for_timeout(300)
    raise AssertionError("recognition did not learn the organisation")


async def test_e3_e4_the_five_parts_a_field_error_then_submitted_with_confirmation_and_email(page: Page, world: World) -> None:
    organisation, staff = await provider(world)
    contact = f"erkenning-{uuid.uuid4().hex[:8]}@leie.example"
    await sign_in(page, staff.national_register_number, tile=organisation.name)
    await page.goto("/platos")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Platos: erkenning als externe dienstverlener")
    await accessible(page)
    await _start_application(page)
    tasks = page.locator(".task-list__item")
    await expect(tasks).to_have_count(5)
    await expect(page.locator(".task-list .tag").filter(has_text="Nog te doen")).to_have_count(5)
    await accessible(page)
    await screenshot(page, "platos-task-list")

    # Part 1, first with a wrong email address: shown next to the field and in the summary (E-3).
    await page.get_by_role("link", name="1. Project, contactpersoon en organisatie").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Project, contactpersoon en organisatie")
    await accessible(page)
    await page.get_by_label("Titel van het project").fill("Begeleiding op de werkvloer in de Leiestreek")
    await page.get_by_label("Beschrijving van het project").fill("Wij begeleiden werknemers met een arbeidsbeperking, hun collega's en werkgevers.")
    await page.get_by_label("Naam", exact=True).fill("An Peeters")
    await page.get_by_label("E-mailadres").fill("an-at-leie.example")
    await page.get_by_label("Telefoonnummer").fill("+32 9 123 45 67")
    await page.get_by_label("Adres van de organisatie").fill("Kortrijksesteenweg 1, 9000 Gent")
    await page.get_by_role("button", name="Bewaren").click()
    summary = page.get_by_role("alert").filter(has_text="Er is een probleem")
    await expect(summary).to_contain_text("E-mailadres van de contactpersoon")
    await expect(page.locator("#contact-email-fout")).to_be_visible()
    await expect(page.get_by_label("Titel van het project")).to_have_value("Begeleiding op de werkvloer in de Leiestreek")  # kept as typed
    await accessible(page)
    await summary.get_by_role("link").first.click()
    await expect(page.locator("#contact-email")).to_be_focused()
    await page.get_by_label("E-mailadres").fill(contact)
    await page.get_by_role("button", name="Bewaren").click()
    await expect(page.get_by_role("status")).to_contain_text("bewaard")
    await expect(page.locator("#status-project")).to_have_text("Klaar")

    # Part 2: not of the simplified-registration group, so part 3 is asked (E-3).
    await page.get_by_role("link", name="2. Vereenvoudigde registratie").click()
    await page.get_by_role("radio", name="Nee").check()
    await accessible(page)
    await page.get_by_role("button", name="Bewaren").click()
    await expect(page.locator("#status-simplified")).to_have_text("Klaar")

    # Part 3: the experience and a qualified coach with all four core competences (E-2).
    await page.get_by_role("link", name="3. Ervaring en gekwalificeerde begeleiders").click()
    await page.get_by_label("Motivering van je ervaring").fill(MOTIVATION)
    await page.get_by_label("Naam", exact=True).fill("Els Maes")
    await page.get_by_label("Hoe toont de begeleider de kerncompetenties?").select_option("diploma")
    await page.get_by_label("Diploma, opleiding of ervaring, met de data").fill("Bachelor orthopedagogie (2012), 10 jaar jobcoach")
    for competence in ("Samenwerken", "Communiceren", "Persoonsgericht werken", "Advies op maat geven"):
        await page.get_by_role("checkbox", name=competence).check()
    await accessible(page)
    await page.get_by_role("button", name="Bewaren").click()
    await expect(page.locator("#status-experience")).to_have_text("Klaar")

    # Part 4: territory and capacity, each motivated (E-2).
    await page.get_by_role("link", name="4. Werkingsgebied en capaciteit").click()
    await page.get_by_role("checkbox", name="Oost-Vlaanderen").check()
    await page.get_by_role("checkbox", name="West-Vlaanderen").check()
    await page.get_by_label("Gemeenten").fill("Gent\nKortrijk")
    await page.get_by_label("Motivering van het werkingsgebied").fill(TERRITORY)
    await page.get_by_label("Capaciteit: hoeveel werknemers kan je tegelijk begeleiden?").fill("40")
    await page.get_by_label("Motivering van de capaciteit").fill(CAPACITY)
    await accessible(page)
    await page.get_by_role("button", name="Bewaren").click()
    await expect(page.locator("#status-territory")).to_have_text("Klaar")

    # Part 5: the declaration on honour with the commitments (E-2, E-12).
    await page.get_by_role("link", name="5. Verklaring op eer").click()
    await page.get_by_role("checkbox", name=re.compile("volledig en naar waarheid")).check()
    await page.get_by_role("checkbox", name=re.compile("intervisies")).check()
    await page.get_by_role("checkbox", name=re.compile("elke wijziging")).check()
    await page.get_by_label("Naam van wie ondertekent").fill("An Peeters")
    await accessible(page)
    await page.get_by_role("button", name="Bewaren").click()
    await expect(page.locator(".task-list .tag").filter(has_text="Klaar")).to_have_count(5)
    await screenshot(page, "platos-task-list-done")

    # E-4: submitted, the confirmation with the dossier number and the admissibility term (E-5).
    await page.get_by_role("button", name="Aanvraag indienen").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Aanvraag ingediend")
    await expect(page.locator(".summary-list")).to_contain_text("Ontvankelijkheid beoordeeld uiterlijk op")
    await expect(page.get_by_text(contact)).to_be_visible()
    await accessible(page)
    await screenshot(page, "platos-confirmation")

    async def confirmed() -> bool:
        return any("Ontvangstbevestiging" in m["subject"] for m in await world.emails_to(contact))

    await eventually("the confirmation email (E-4, N-3)", confirmed)

    # Its state later: no parts to edit any more.
    await page.get_by_role("link", name="Naar je aanvraag").click()
    await expect(page.locator(".lead")).to_contain_text("Ingediend")
    await accessible(page)


async def _submitted_through_the_api(world: World, organisation_id: str, staff_number: str, contact: str) -> str:
    token = await world.token(staff_number, organisation_id)
    async with httpx.AsyncClient(base_url=world.url("recognition"), headers={"authorization": f"Bearer {token}"}) as client:
        for _ in range(150):
            started = await client.post("/v1/provider/applications", headers={"idempotency-key": uuid.uuid4().hex})
            if started.status_code == 201:
                break
            await asyncio.sleep(0.2)
        assert started.status_code == 201, started.text
        application_id = started.json()["application_id"]
        parts = {
            "project": {
                "project_title": "Jobcoaching in de Kempen",
                "project_description": "Begeleiding op de werkvloer.",
                "contact": {"name": "An Peeters", "email": contact, "phone": "+32 9 123 45 67"},
                "address": "Markt 1, 2440 Geel",
            },
            "simplified": {"simplified": True, "group": "maatwerkbedrijf"},
            "territory": {
                "provinces": ["antwerpen", "limburg"],
                "municipalities": [],
                "territory_motivation": TERRITORY,
                "capacity": 25,
                "capacity_motivation": CAPACITY,
            },
            "declaration": {"truthful": True, "intervision": True, "report_changes": True, "signed_by": "An Peeters"},
        }
        for name, body in parts.items():
            saved = await client.put(f"/v1/provider/applications/{application_id}/parts/{name}", json=body)
            assert saved.status_code == 200, saved.text
        submitted = await client.post(f"/v1/provider/applications/{application_id}/submit")
        assert submitted.status_code == 200, submitted.text
    return str(application_id)


async def test_e8_recognised_provider_in_the_public_list_e9_assignment_e12_change(page: Page, world: World) -> None:
    organisation, staff = await provider(world)
    contact = f"erkenning-{uuid.uuid4().hex[:8]}@kempen.example"
    application_id = await _submitted_through_the_api(world, organisation.organisation_id, staff.national_register_number, contact)
    handler = await case_handler(world)
    decided = await grant_recognition(world, handler, application_id)
    number = decided["recognition"]["recognition_number"]

    # Signed out: the public list, searched by a part of the name only this provider has.
    await page.goto("/platos/erkende-dienstverleners")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Erkende externe dienstverleners")
    await accessible(page)
    own = organisation.name.split()[-1]
    await page.get_by_label("Naam").fill(own)
    await page.get_by_label("Provincie").select_option("limburg")
    await page.get_by_role("button", name="Zoeken").click()
    row = page.get_by_role("row").filter(has_text=organisation.name)
    await expect(row).to_contain_text(number)
    await expect(row).to_contain_text("Antwerpen, Limburg")
    await accessible(page)
    await screenshot(page, "platos-recognised-providers")
    # Another province: not in it.
    await page.get_by_label("Provincie").select_option("west-vlaanderen")
    await page.get_by_role("button", name="Zoeken").click()
    await expect(page.get_by_role("status")).to_contain_text("Geen erkende dienstverleners gevonden")

    # The provider's staff: the application's outcome and the recognition (E-8).
    await sign_in(page, staff.national_register_number, tile=organisation.name)
    await page.goto(f"/platos/aanvragen/{application_id}")
    await expect(page.locator(".lead")).to_contain_text("Erkend")
    await accessible(page)
    await page.get_by_role("link", name=f"Naar erkenning {number}").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Erkenning {number}")
    await accessible(page)

    # E-9: a coaching assignment; first without its start date (named next to the field).
    await page.get_by_label("Naam van de werkgever").fill("Bakkerij Janssens")
    await page.get_by_role("button", name="Opdracht bewaren").click()
    await expect(page.locator("#starts_on-fout")).to_be_visible()
    await accessible(page)
    await page.get_by_label("Begindatum").fill(decided["decided_on"])
    await page.get_by_role("button", name="Opdracht bewaren").click()
    await expect(page.get_by_role("status")).to_contain_text("begeleidingsopdracht is bewaard")
    await expect(page.get_by_role("row").filter(has_text="Bakkerij Janssens")).to_contain_text("loopt nog")

    # E-12: a change reported; the department sees it in its list.
    await page.get_by_label("Wat is er gewijzigd?").fill("Een van onze vier begeleiders is vertrokken; de capaciteit daalt tot 18.")
    await page.get_by_role("button", name="Wijziging melden").click()
    await expect(page.get_by_role("status")).to_contain_text("wijziging is gemeld")
    await expect(page.locator("main")).to_contain_text("wordt bekeken")
    await accessible(page)
    async with httpx.AsyncClient(base_url=world.url("recognition"), headers={"authorization": f"Bearer {handler}"}) as client:
        reports = (await client.get("/v1/back-office/change-reports", params={"limit": 100})).json()["items"]
    assert any(r["recognition_number"] == number for r in reports)


async def test_e1_a_member_without_the_platos_right_is_offered_to_request_it(page: Page, world: World) -> None:
    organisation = await world.organisation(kind="service_provider")
    member = await world.member(organisation, first_name="Ilse", rights=[("dwse_organisation_officer", "training_database")])
    await sign_in(page, member.national_register_number, tile=organisation.name)
    await page.goto("/platos")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Geen toegang")
    await expect(page.get_by_role("link", name="Gebruikersrecht aanvragen")).to_have_attribute("href", re.compile("context=platos"))
    await accessible(page)
