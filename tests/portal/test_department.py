"""The department's work in a real browser over the real stack: the work queues sorted by the
deadline the services derive, a dossier with its history, questions and emails, information
requests (R-19), forwarding (R-15) and decisions (R-20) of the training database; admissibility of
a recognition application (E-5); the refusal page for someone without the rights (ID-8).

The provider's side is done through the services' APIs (department_helpers), the department's in
the browser; a case handler holds case_handler@training_database, case_handler@platos and, for the
notification log, operator@department."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import date
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, expect

from tests.portal.conftest import World, accessible, screenshot, sign_in
from tests.portal.department_helpers import (
    PDF_BYTES,
    answer_question,
    case_handler,
    department,
    department_name,
    emails_about,
    provider,
    submitted_application,
    submitted_recognition,
)

pytestmark = pytest.mark.slow


async def _open_queue(page: Page, area: str) -> None:
    """The work queue, once the services know the case handler's rights (identity's events)."""
    deadline = time.monotonic() + 60
    while True:
        await page.goto("/departement")
        if await page.locator(f"section[aria-labelledby='{area}'] table").count() or await page.get_by_text("Er wachten geen dossiers").count():
            return
        assert time.monotonic() < deadline, await page.content()
        await asyncio.sleep(0.5)


async def _find_in_queue(page: Page, area: str, link_name: str) -> Locator:
    """The dossier's row, paging on with the queue's "Volgende pagina" until it shows; every page in deadline order."""
    section = page.locator(f"section[aria-labelledby='{area}']")
    for _ in range(50):
        assert await section.locator("tbody tr").count(), "an empty queue"
        if await section.get_by_role("link", name=link_name).count():
            return page.get_by_role("link", name=link_name)
        await section.get_by_role("link", name="Volgende pagina").click()
    raise AssertionError(f"{link_name} not in the {area} queue")


MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december")


def _read_date(text: str) -> date:
    day, month, year = text.split()[:3]
    return date(int(year), MONTHS.index(month) + 1, int(day))


async def _deadlines_in_order(page: Page, area: str) -> None:
    cells = await page.locator(f"section[aria-labelledby='{area}'] tbody tr td:first-child").all_inner_texts()
    dated = [_read_date(c) for c in cells if not c.startswith("geen")]
    assert dated == sorted(dated), f"the {area} queue is not sorted by deadline: {cells}"
    # Those without a running term come last.
    assert all(not c.startswith("geen") for c in cells[: len(dated)]), cells


async def test_r19_r15_r20_a_case_handler_asks_forwards_and_decides_a_dossier_and_sees_its_emails(page: Page, world: World) -> None:
    applicant = await provider(world)
    contact = f"odb-{uuid.uuid4().hex[:10]}@opleidingen.example"
    name = f"Heftruck veilig besturen {uuid.uuid4().hex[:6]}"
    application = await submitted_application(world, applicant, training_name=name, contact_email=contact, documents={"Brochure heftruck.pdf": PDF_BYTES})
    assert application["status"] == "in_review"
    handler, _ = await case_handler(world)

    await sign_in(page, handler.national_register_number, tile=await department_name(world))
    await _open_queue(page, "odb")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Werkbakken")
    link = await _find_in_queue(page, "odb", f"{name} (dossier {application['dossier_number']})")
    await _deadlines_in_order(page, "odb")
    row = page.locator("tr", has=link)
    await expect(row).to_contain_text("In behandeling")
    await expect(row).to_contain_text(applicant.organisation.name)
    await accessible(page)
    await screenshot(page, "department-queue")

    await link.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(name)
    await expect(page.locator(".lead")).to_contain_text(applicant.organisation.name)
    await expect(page.locator(".summary-list").first).to_contain_text("Beslissing uiterlijk")
    await expect(page.get_by_role("table", name="Geschiedenis, de laatste eerst")).to_contain_text("Ingediend")
    dossier_url = page.url

    # the extra document, by its name, downloads as the provider sent it.
    async with page.expect_download() as downloading:
        await page.get_by_role("link", name="Brochure heftruck.pdf").click()
    download = await downloading.value
    assert download.suggested_filename == "Brochure heftruck.pdf"
    assert Path(await download.path()).read_bytes() == PDF_BYTES

    # a question without text is refused next to its field; then asked.
    await page.get_by_role("link", name="Informatie vragen").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Informatie vragen")
    await accessible(page)
    await page.get_by_role("button", name="Vraag versturen").click()
    await expect(page.get_by_role("alert").filter(has_text="Er is een probleem")).to_be_visible()
    await expect(page.locator("#question-fout")).to_be_visible()
    await accessible(page)
    await page.get_by_label("Je vraag aan de aanvrager").fill("Bezorg het lesrooster van de praktijkdagen.")
    await page.get_by_role("button", name="Vraag versturen").click()
    await expect(page.get_by_role("status")).to_contain_text("Je vraag is verstuurd")
    await expect(page.locator(".lead")).to_contain_text("Wacht op informatie")
    await expect(page.locator(".department-question")).to_contain_text("Bezorg het lesrooster")
    emails = await emails_about(world, contact, "Vraag om bijkomende informatie")
    assert name in emails[0]["subject"]

    # while the question is open the dossier is not forwarded: the service's rule is shown.
    await page.goto(dossier_url + "/doorsturen")
    await page.get_by_role("button", name="Doorsturen").click()
    refusal = page.locator(".notice--error")
    await expect(refusal).to_contain_text("Er staat een vraag open bij de aanbieder")
    await expect(refusal).to_contain_text("regel R-19")
    await accessible(page)

    # The provider answers (its own portal); the case handler sees the answer.
    await answer_question(world, applicant, application["application_id"], "Het lesrooster staat op onze website.")
    await page.goto(dossier_url)
    await expect(page.locator(".department-question")).to_contain_text("Het lesrooster staat op onze website.")

    # to the commission.
    await page.get_by_role("link", name="Doorsturen naar het beslissingsorgaan").click()
    await expect(page.get_by_label("De Vlaamse opleidingscommissie (VOC)")).to_be_checked()
    await accessible(page)
    await page.get_by_label("Advies van het departement").fill("Gunstig: sluit aan bij een knelpuntberoep.")
    await page.get_by_role("button", name="Doorsturen").click()
    await expect(page.get_by_role("status")).to_contain_text("doorgestuurd")
    await expect(page.locator(".lead")).to_contain_text("Bij het beslissingsorgaan")

    # a rejection needs its reasons (the service's rule next to the field); then approved.
    await page.get_by_role("link", name="Beslissen").click()
    await page.get_by_label("Afgewezen").check()
    await page.get_by_role("button", name="Beslissing bewaren").click()
    await expect(page.get_by_role("alert").filter(has_text="Er is een probleem")).to_be_visible()
    await expect(page.locator("#reasons-fout")).to_contain_text("R-20")
    await accessible(page)
    await page.get_by_label("Goedgekeurd").check()
    await page.get_by_role("button", name="Beslissing bewaren").click()
    await expect(page.get_by_role("status")).to_contain_text("De beslissing is bewaard")
    await expect(page.locator(".lead")).to_contain_text("Goedgekeurd")
    odb_link = page.get_by_role("link", name="ODB-")
    await expect(odb_link).to_be_visible()
    decided = await emails_about(world, contact, "Beslissing over uw registratieaanvraag")
    assert "goedgekeurd" in decided[0]["subject"]

    # N-1: the dossier's emails and their status, as the notification service logged them.
    log = page.get_by_role("table", name="Verstuurde e-mails, de laatste eerst")
    for _ in range(60):
        await page.reload()
        if await log.count() and await log.get_by_role("row").filter(has_text="Beslissing over de aanvraag").filter(has_text="Bezorgd").count():
            break
        await asyncio.sleep(0.5)
    await expect(log.get_by_role("row").filter(has_text="Beslissing over de aanvraag")).to_contain_text("Bezorgd")
    await expect(log.get_by_role("row").filter(has_text="Vraag om aanvullende informatie")).to_contain_text(contact)
    await expect(log.get_by_role("row").filter(has_text="Bevestiging van de aanvraag")).to_be_visible()
    await expect(page.get_by_role("table", name="Geschiedenis, de laatste eerst")).to_contain_text("Beslist")
    await accessible(page)
    await screenshot(page, "department-dossier")


async def test_e5_a_recognition_application_is_judged_admissible_in_the_browser(page: Page, world: World) -> None:
    contact = f"platos-{uuid.uuid4().hex[:10]}@leie.example"
    application = await submitted_recognition(world, title=f"Begeleiding op de werkvloer {uuid.uuid4().hex[:6]}", contact_email=contact)
    assert application["status"] == "submitted"
    handler, _ = await case_handler(world, first_name="Dirk")

    await sign_in(page, handler.national_register_number, tile=await department_name(world))
    await _open_queue(page, "platos")
    link = await _find_in_queue(page, "platos", f"Dossier {application['dossier_number']}")
    await _deadlines_in_order(page, "platos")
    await expect(page.locator("tr", has=link)).to_contain_text("Ontvankelijkheid te beoordelen")
    await link.click()
    await expect(page.locator(".lead")).to_contain_text(application["dossier_number"])
    await accessible(page)

    await page.get_by_role("link", name="Ontvankelijkheid beoordelen").click()
    await accessible(page)
    await page.get_by_label("Ontvankelijk", exact=True).check()
    await page.get_by_role("button", name="Bewaren").click()
    await expect(page.get_by_role("status")).to_contain_text("De ontvankelijkheid is bewaard")
    await expect(page.locator(".lead")).to_contain_text("In onderzoek")
    await expect(page.get_by_role("table", name="Geschiedenis, de laatste eerst")).to_contain_text("Ontvankelijk verklaard")
    emails = await emails_about(world, contact, "is ontvankelijk")
    assert application["dossier_number"] in emails[0]["subject"]
    await accessible(page)

    # E-6: the examination term starts the day that email was delivered; E-7: advice, then the minister's decision.
    for _ in range(60):
        await page.reload()
        if await page.get_by_text("gestart op").count():
            break
        await asyncio.sleep(0.5)
    await page.get_by_role("link", name="Advies aan de minister").click()
    await page.get_by_label("Gunstig", exact=True).check()
    await page.get_by_label("Motivering").fill("Voldoet aan alle voorwaarden: kwaliteitsregistratie, ervaring en gekwalificeerde begeleiders.")
    await page.get_by_role("button", name="Advies bewaren").click()
    await expect(page.locator(".lead")).to_contain_text("Advies bij de minister")
    await page.get_by_role("link", name="Beslissing van de minister registreren").click()
    await page.get_by_label("Geweigerd").check()
    await page.get_by_label("Datum van de beslissing").fill(date.today().isoformat())
    await page.get_by_role("button", name="Beslissing bewaren").click()
    await expect(page.locator("#reasons-fout")).to_contain_text("E-7")  # a refusal gives its reasons
    await accessible(page)
    await page.get_by_label("Erkend", exact=True).check()
    await page.get_by_label("Erkend vanaf").fill(date.today().isoformat())
    await page.get_by_role("button", name="Beslissing bewaren").click()
    await expect(page.locator(".lead")).to_contain_text("Erkend")
    await expect(page.locator(".summary-list").first).to_contain_text("geldig van")
    await emails_about(world, contact, "Beslissing")


async def test_id8_without_the_case_handler_rights_the_refusal_page_offers_to_request_them(page: Page, world: World) -> None:
    department_id = await world.department_id()
    outsider = await world.member(department(department_id), first_name="Wout")
    await sign_in(page, outsider.national_register_number, tile=await department_name(world))
    answer = await page.goto("/departement")
    assert answer is not None and answer.status == 403
    await expect(page.get_by_role("heading", level=1)).to_have_text("Geen toegang")
    await expect(page.get_by_text("case_handler")).to_be_visible()
    await expect(page.get_by_role("link", name="Gebruikersrecht aanvragen")).to_be_visible()
    await accessible(page)
