"""More of the department's work in a real browser over the real stack: a submitted dossier amended
at the provider's request (R-17), a registered training's yearly evaluation with the negative one
emailed to the provider's general contact (R-26), and the change reports of recognised providers
as a work queue, reviewed, with the recognition they belong to (E-12, E-9).

The provider's side is done through the services' APIs (department_helpers), the department's in
the browser; the provider sees the amendment in its own portal, in a browser context of its own."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import date, datetime

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from tests.portal.conftest import World, accessible, screenshot, sign_in
from tests.portal.department_helpers import (
    approved_application,
    case_handler,
    department_name,
    emails_about,
    forward,
    general_contact,
    granted_recognition,
    provider,
    report_change,
    stop_training,
    submitted_application,
)

pytestmark = pytest.mark.slow

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december")


def _moment(text: str) -> datetime:
    """'26 november 2026 om 14:05' as the portal writes an instant."""
    day, month, year, _, clock = text.split()[:5]
    hour, minute = clock.split(":")
    return datetime(int(year), MONTHS.index(month) + 1, int(day), int(hour), int(minute))


async def _open_department(page: Page) -> None:
    """The work queues, once the services know the case handler's rights (identity's events)."""
    deadline = time.monotonic() + 60
    while True:
        answer = await page.goto("/departement")
        if answer is not None and answer.status == 200 and await page.locator("section[aria-labelledby='wijzigingen']").count():
            return
        assert time.monotonic() < deadline, await page.content()
        await asyncio.sleep(0.5)


# -------------------------------------------------------------------------------


async def test_r17_a_case_handler_amends_a_submitted_dossier_at_the_providers_request(page: Page, browser: Browser, portal_url: str, world: World) -> None:
    applicant = await provider(world)
    name = f"Heftruck veilig besturen {uuid.uuid4().hex[:6]}"
    application = await submitted_application(world, applicant, training_name=name, contact_email=f"odb-{uuid.uuid4().hex[:10]}@opleidingen.example")
    assert application["status"] == "in_review"
    handler, token = await case_handler(world)
    dossier_url = f"/departement/odb/{application['application_id']}"

    await sign_in(page, handler.national_register_number, tile=await department_name(world))
    await _open_department(page)
    await page.goto(dossier_url)
    amend = page.locator("section.department-amend")
    await expect(amend.get_by_role("heading")).to_have_text("Aanpassen op vraag van de aanbieder")
    await amend.get_by_role("link", name="Gegevens opleiding aanpassen").click()

    # The provider's own fields of the step, as the provider filled them in.
    await expect(page.get_by_role("heading", level=1)).to_have_text("Gegevens opleiding aanpassen op vraag van de aanbieder")
    await expect(page.get_by_label("Naam van de opleiding")).to_have_value(name)
    await expect(page.get_by_label("Naam van module 1")).to_have_value("Lassen basis")
    await expect(page.get_by_role("group", name="Competentiegroep").get_by_label("Beroepsspecifieke competenties")).to_be_checked()
    await accessible(page)

    # Without the provider's request, nothing is saved: the reason's error in Dutch, next to its field; what was typed stays.
    new_name = f"Heftruck en reachtruck veilig besturen {uuid.uuid4().hex[:6]}"
    await page.get_by_label("Naam van de opleiding").fill(new_name)
    await page.get_by_label("Contacturen").fill("abc")
    await page.get_by_role("button", name="Aanpassing bewaren").click()
    await expect(page.get_by_role("alert").filter(has_text="Er is een probleem")).to_be_visible()
    await expect(page.locator("#reason-fout")).to_contain_text("Vul dit in.")
    await expect(page.locator("#modules-0-contact_hours-fout")).to_contain_text("Geef een getal")
    await expect(page.get_by_role("alert").get_by_role("link", name="Vraag van de aanbieder: Vul dit in.")).to_be_visible()
    await expect(page.get_by_label("Naam van de opleiding")).to_have_value(new_name)
    await accessible(page)

    request = "Mail van de aanbieder van vandaag: de opleiding omvat ook de reachtruck."
    await page.get_by_label("Contacturen").fill("40")
    await page.get_by_label("Vraag van de aanbieder").fill(request)
    await page.get_by_role("button", name="Aanpassing bewaren").click()
    await expect(page.get_by_role("status")).to_contain_text("Gegevens opleiding: aangepast op vraag van de aanbieder")
    await expect(page.get_by_role("heading", level=1)).to_have_text(new_name)
    history = page.get_by_role("table", name="Geschiedenis, de laatste eerst")
    amended = history.get_by_role("row").filter(has_text="Aangepast op vraag van de aanbieder")
    await expect(amended).to_contain_text("onderdeel: gegevens opleiding")
    await expect(amended).to_contain_text(request)
    await expect(amended).to_contain_text("Jij")
    await accessible(page)

    # The provider sees the amended values and why, in its own portal.
    provider_context = await browser.new_context(base_url=portal_url, locale="nl-BE")
    try:
        provider_page = await provider_context.new_page()
        await sign_in(provider_page, applicant.officer.national_register_number, tile=applicant.organisation.name)
        await provider_page.goto(f"/opleidingen/dossiers/{application['application_id']}")
        await expect(provider_page.get_by_role("heading", level=1)).to_contain_text(new_name)
        await expect(provider_page.locator("table")).to_contain_text(f"Aangepast door het team opleidingsdatabank: {request}")
    finally:
        await provider_context.close()

    # The other steps' fields, as the provider filled them in (R-12, R-15).
    await page.goto(f"{dossier_url}/aanpassen/zelfanalyse")
    await expect(page.get_by_label("Knelpuntberoep")).to_be_checked()
    await expect(page.get_by_label("STEM-beroep")).not_to_be_checked()
    await accessible(page)
    await page.goto(f"{dossier_url}/aanpassen/beslissingsinstantie")
    await expect(page.get_by_label("Vaardigheden aanleren die nuttig zijn voor meerdere beroepen", exact=False)).to_be_checked()
    await accessible(page)

    # Once forwarded a dossier is no longer amended: the service's refusal, in Dutch, with the rule.
    await page.goto(f"{dossier_url}/aanpassen/contactgegevens")
    await expect(page.get_by_label("E-mailadres")).to_have_value(application["sections"]["contact"]["email"])
    await forward(world, token, application["application_id"])
    await page.get_by_label("Vraag van de aanbieder").fill("Nieuw telefoonnummer, gevraagd per telefoon.")
    await page.get_by_role("button", name="Aanpassing bewaren").click()
    refusal = page.locator(".notice--error")
    await expect(refusal).to_contain_text("kan je niet meer aanpassen")
    await expect(refusal).to_contain_text("regel R-17")
    await accessible(page)
    await page.goto(dossier_url)
    await expect(page.locator(".lead")).to_contain_text("Bij het beslissingsorgaan")
    await expect(page.locator("section.department-amend")).to_have_count(0)


# -------------------------------------------------------------------------------


async def test_r26_a_case_handler_evaluates_a_registered_training_and_a_negative_evaluation_reaches_the_general_contact(page: Page, world: World) -> None:
    applicant = await provider(world)
    general = f"algemeen-{uuid.uuid4().hex[:10]}@opleidingen.example"
    await general_contact(world, applicant, general)
    handler, token = await case_handler(world)
    name = f"Lassen voor beginners {uuid.uuid4().hex[:6]}"
    decided = await approved_application(world, applicant, training_name=name, handler_token=token)
    odb_number = decided["odb_number"]
    assert odb_number

    await sign_in(page, handler.national_register_number, tile=await department_name(world))
    await _open_department(page)

    # From the work queues: the search by ODB number (an unknown one is said so, in Dutch).
    search = page.locator("section[aria-labelledby='opleidingen']")
    await search.get_by_label("ODB-nummer").fill("ODB-ONBEKEND")
    await search.get_by_role("button", name="Opleiding zoeken").click()
    await expect(page.locator("#odb_number-fout")).to_contain_text("Er is geen geregistreerde opleiding met dit ODB-nummer.")
    await accessible(page)
    await page.get_by_label("ODB-nummer").fill(odb_number.lower())
    await page.get_by_role("button", name="Opleiding zoeken").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(name)
    await expect(page.locator(".lead")).to_contain_text(odb_number)
    await expect(page.locator(".lead")).to_contain_text(applicant.organisation.name)
    training_url = page.url
    await accessible(page)

    # ... and from the dossier of the approved application.
    await page.goto(f"/departement/odb/{decided['application_id']}")
    await page.get_by_role("link", name="Jaarlijkse evaluatie").click()
    assert page.url == training_url
    year = str(date.today().year)
    await expect(page.get_by_label("Jaar")).to_have_value(year)

    # a negative evaluation says why (the service's rule, in Dutch, next to the field).
    await page.get_by_label("Negatief").check()
    await page.get_by_role("button", name="Evaluatie bewaren").click()
    await expect(page.get_by_role("alert").filter(has_text="Er is een probleem")).to_be_visible()
    await expect(page.locator("#remarks-fout")).to_contain_text("Zeg waarom de evaluatie negatief is. (regel R-26)")
    await expect(page.get_by_label("Negatief")).to_be_checked()
    await accessible(page)

    remarks = "De inhoud op de webpagina komt niet meer overeen met de geregistreerde leerdoelen."
    await page.get_by_label("Motivering").fill(remarks)
    await page.get_by_role("button", name="Evaluatie bewaren").click()
    await expect(page.get_by_role("status")).to_contain_text(
        f"De evaluatie {year} is bewaard: negatief. De algemene contactpersoon van de aanbieder krijgt een e-mail met de motivering"
    )
    evaluations = page.get_by_role("table", name="Evaluaties, het laatste jaar eerst")
    listed = evaluations.get_by_role("row").filter(has=page.get_by_role("rowheader", name=year, exact=True))
    await expect(listed).to_contain_text("Negatief")
    await expect(listed).to_contain_text(remarks)
    await expect(listed).to_contain_text("Jij")
    await expect(listed).to_contain_text("Gemaild naar de algemene contactpersoon")

    # The general contact receives it, with the motivation (the mail sink).
    emails = await emails_about(world, general, "Negatieve jaarlijkse evaluatie")
    assert odb_number in emails[0]["subject"] and year in emails[0]["subject"], emails[0]["subject"]
    assert remarks in emails[0]["text"], emails[0]["text"]

    # One evaluation a year: the second is refused in Dutch with the rule; another year is recorded.
    await page.get_by_label("Positief").check()
    await page.get_by_role("button", name="Evaluatie bewaren").click()
    refusal = page.locator(".notice--error")
    await expect(refusal).to_contain_text(f"heeft al een evaluatie voor {year}")
    await expect(refusal).to_contain_text("regel R-26")
    await accessible(page)
    await page.get_by_label("Jaar").fill(str(int(year) + 1))
    await page.get_by_label("Positief").check()
    await page.get_by_role("button", name="Evaluatie bewaren").click()
    await expect(page.get_by_role("status")).to_contain_text(f"De evaluatie {int(year) + 1} is bewaard: positief")
    assert len(await emails_about(world, general, "Negatieve jaarlijkse evaluatie")) == 1  # a positive one is not emailed
    await expect(evaluations.get_by_role("row").nth(1)).to_contain_text(str(int(year) + 1))  # the last year first
    await expect(evaluations.get_by_role("row").nth(1)).to_contain_text("Niet gemaild: een positieve evaluatie gaat niet naar de aanbieder")

    # The training's page lists the emails about it: the negative evaluation, delivered to the general contact.
    log = page.get_by_role("table", name="Verstuurde e-mails, de laatste eerst")
    for _ in range(60):
        await page.reload()
        if await log.count() and await log.get_by_role("row").filter(has_text="Negatieve jaarlijkse evaluatie").filter(has_text="Bezorgd").count():
            break
        await asyncio.sleep(0.5)
    await expect(log.get_by_role("row").filter(has_text="Negatieve jaarlijkse evaluatie")).to_contain_text(general)
    await accessible(page)


async def test_r23_r26_a_stopped_training_is_found_and_evaluated_and_without_a_general_contact_the_page_says_nobody_was_emailed(
    page: Page, world: World
) -> None:
    applicant = await provider(world)  # no general contact in its organisation data
    handler, token = await case_handler(world)
    name = f"Heftruckchauffeur {uuid.uuid4().hex[:6]}"
    odb_number = (await approved_application(world, applicant, training_name=name, handler_token=token))["odb_number"]
    reason = "De opleiding wordt niet meer georganiseerd."
    await stop_training(world, applicant, odb_number, reason=reason)  # out of the public register from today

    await sign_in(page, handler.national_register_number, tile=await department_name(world))
    await _open_department(page)
    search = page.locator("section[aria-labelledby='opleidingen']")
    await search.get_by_label("ODB-nummer").fill(odb_number)
    await search.get_by_role("button", name="Opleiding zoeken").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(name)
    await expect(page.locator(".lead")).to_contain_text("Gestopt")
    await expect(page.locator(".notice--warning").filter(has_text="gestopt op")).to_contain_text("regel R-23")
    await expect(page.locator(".summary-list")).to_contain_text(reason)
    await expect(page.locator(".notice--warning").filter(has_text="geen algemene contactpersoon")).to_be_visible()
    await expect(page.get_by_role("table", name="Modules")).to_contain_text("Lassen basis")
    await expect(page.get_by_text("Deze opleiding werd nog niet geëvalueerd.")).to_be_visible()
    await accessible(page)

    # evaluated all the same; nobody could be emailed, and the page says so.
    year = str(date.today().year)
    await page.get_by_label("Jaar").fill(year)
    await page.get_by_label("Negatief").check()
    remarks = "Er liepen dit jaar geen groepen meer; de registratie is gestopt."
    await page.get_by_label("Motivering").fill(remarks)
    await page.get_by_role("button", name="Evaluatie bewaren").click()
    status = page.get_by_role("status")
    await expect(status).to_contain_text(f"De evaluatie {year} is bewaard: negatief. Niemand kreeg een e-mail")
    await expect(status).to_contain_text("geen algemene contactpersoon")
    listed = page.get_by_role("table", name="Evaluaties, het laatste jaar eerst").get_by_role("row").filter(has_text=remarks)
    await expect(listed).to_contain_text("Niet gemaild: de aanbieder heeft geen algemene contactpersoon (regel R-25)")
    await accessible(page)


# ------------------------------------------------------------------------------- E-12


async def _report_row(page: Page, link_name: str) -> Locator:
    """The report's row in the queue of change reports, paging on until it shows; every page the oldest first."""
    section = page.locator("section[aria-labelledby='wijzigingen']")
    for _ in range(50):
        cells = await section.locator("tbody tr td:first-child").all_inner_texts()
        assert cells, "an empty queue of change reports"
        moments = [_moment(c) for c in cells]
        assert moments == sorted(moments), f"the change reports are not the oldest first: {cells}"
        if await section.get_by_role("link", name=link_name).count():
            return section.locator("tr", has=page.get_by_role("link", name=link_name))
        await section.get_by_role("link", name="Volgende pagina").click()
    raise AssertionError(f"{link_name} not in the queue of change reports")


async def test_e12_reported_changes_are_a_work_queue_reviewed_by_a_case_handler_with_the_recognition_in_view(page: Page, world: World) -> None:
    handler, token = await case_handler(world)
    contact = f"platos-{uuid.uuid4().hex[:10]}@leie.example"
    applicant, recognition = await granted_recognition(
        world, title=f"Begeleiding op de werkvloer {uuid.uuid4().hex[:6]}", contact_email=contact, handler_token=token
    )
    number = recognition["recognition_number"]
    first = f"Onze begeleider Els Maes vertrekt op 1 juni; we werven een vervanger ({uuid.uuid4().hex[:6]})."
    second = f"We sluiten ons kantoor in Gent en werken niet langer in Oost-Vlaanderen ({uuid.uuid4().hex[:6]})."
    await report_change(world, applicant, recognition["recognition_id"], first)
    await report_change(world, applicant, recognition["recognition_id"], second)

    await sign_in(page, handler.national_register_number, tile=await department_name(world))
    await _open_department(page)
    queue = page.locator("section[aria-labelledby='wijzigingen']")
    await expect(queue.get_by_role("heading", level=2)).to_have_text("Gemelde wijzigingen bij erkenningen (Platos)")
    row = await _report_row(page, f"Wijziging bij {number} beoordelen")
    await expect(queue.locator("tr").filter(has_text=first)).to_contain_text(applicant.organisation.name)
    await expect(queue.locator("tr").filter(has_text=second)).to_be_visible()
    await accessible(page)

    # The oldest first: the first report, with its content and the recognition it belongs to.
    await row.first.get_by_role("link").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Gemelde wijziging bij {number}")
    await expect(page.locator("blockquote")).to_have_text(first)
    await expect(page.locator(".summary-list")).to_contain_text("erkend")
    await accessible(page)
    await screenshot(page, "department-change-review")
    review_url = page.url

    # The recognition (E-9: the day it ends without coaching; E-12: its reports, none reviewed yet).
    await page.get_by_role("link", name="De hele erkenning bekijken").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Erkenning {number}")
    await expect(page.locator(".summary-list")).to_contain_text("Eindigt zonder begeleiding op")
    reports = page.get_by_role("table", name="Gemelde wijzigingen, de oudste eerst")
    await expect(reports.get_by_role("link", name="Beoordelen")).to_have_count(2)
    await accessible(page)
    await page.goto(review_url)

    # Both fields are needed: the errors in Dutch next to them.
    await page.get_by_role("button", name="Beoordeling bewaren").click()
    await expect(page.get_by_role("alert").filter(has_text="Er is een probleem")).to_be_visible()
    await expect(page.locator("#outcome-fout")).to_be_visible()
    await expect(page.locator("#note-fout")).to_be_visible()
    await accessible(page)

    # Noted: the recognition stays; the report leaves the queue, the other stays.
    await page.get_by_label("Kennis genomen: de erkenning blijft").check()
    await page.get_by_label("Motivering").fill("Een vervanger met dezelfde kwalificatie wordt aangeworven: de voorwaarden blijven vervuld.")
    await page.get_by_role("button", name="Beoordeling bewaren").click()
    await expect(page.get_by_role("status")).to_contain_text(f"De wijziging bij {number} is beoordeeld: kennis genomen")
    assert page.url.split("#")[0].endswith("/departement")
    await expect(queue.get_by_text(first)).to_have_count(0)
    row = await _report_row(page, f"Wijziging bij {number} beoordelen")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text(second)

    # Withdrawn from today: the provider is emailed why; the queue no longer shows it.
    await row.get_by_role("link").click()
    await expect(page.locator("blockquote")).to_have_text(second)
    await page.get_by_label("De erkenning intrekken vanaf vandaag").check()
    await page.get_by_label("Motivering").fill("Zonder werking in het erkende werkgebied zijn de voorwaarden niet langer vervuld.")
    await page.get_by_role("button", name="Beoordeling bewaren").click()
    await expect(page.get_by_role("status")).to_contain_text(f"De erkenning {number} is ingetrokken vanaf vandaag")
    await expect(queue.get_by_role("link", name=f"Wijziging bij {number} beoordelen")).to_have_count(0)
    ended = await emails_about(world, contact, "ingetrokken")
    assert number in ended[0]["subject"]

    # Reviewed once: the page says how, and offers no form.
    await page.goto(review_url)
    await expect(page.get_by_text("Kennis genomen", exact=True)).to_be_visible()
    await expect(page.get_by_role("button", name="Beoordeling bewaren")).to_have_count(0)
    await page.get_by_role("link", name="De hele erkenning bekijken").click()
    await expect(page.locator(".summary-list")).to_contain_text("ingetrokken door het departement na een gemelde wijziging (regel E-12)")
    await expect(reports.get_by_role("link", name="Beoordelen")).to_have_count(0)
    await expect(reports).to_contain_text("Erkenning ingetrokken")
    await accessible(page)
