"""Attestations for Flemish training leave in a real browser over the real stack: on a training
that registration registered (R-20), a provider's staff member enrols a student (refused first
with the field and the rule: a malformed ODB number, A-2; a start before the registration holds,
A-4), attests attendance (A-3), uploads a CSV file whose bad row is in the receipt's report
(A-9) and its email, and withdraws an enrolment; the student then sees their own hours as a
citizen (A-6) and nobody else's. A member without the right is offered to request it (A-1, ID-8)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

import pytest
from playwright.async_api import Page, expect

from tests.portal.attestations_helpers import provider, registered_training
from tests.portal.conftest import World, accessible, screenshot, sign_in
from tests.portal.platos_helpers import eventually

pytestmark = pytest.mark.slow


def _dmy(day) -> str:  # type: ignore[no-untyped-def]
    return day.strftime("%d/%m/%Y")


async def test_a2_to_a9_enrol_attend_upload_and_the_students_own_view(page: Page, world: World) -> None:
    organisation, staff = await provider(world)
    training = await registered_training(world, organisation, staff)
    odb, starts_on, ends_on = training["odb_number"], training["starts_on"], training["ends_on"]
    operator = await world.operator()
    student = await world.register_person(operator, world.new_person("Lotte"))  # identity publishes the student's pseudonym
    other = world.new_person("Tom")
    reference = f"CVO-{uuid.uuid4().hex[:6]}"

    await sign_in(page, staff.national_register_number, tile=organisation.name)
    await page.goto("/attesten")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Attesten Vlaams opleidingsverlof")
    await accessible(page)

    # a malformed ODB number, named next to the field and in the summary.
    await page.get_by_role("link", name="Inschrijving attesteren").click()
    await accessible(page)
    await page.get_by_label("Je eigen referentie").fill(reference)
    await page.get_by_label("ODB-nummer").fill("12345")
    await page.get_by_label("Rijksregisternummer van de cursist").fill(student.national_register_number)
    await page.get_by_label("Naam van de cursist", exact=True).fill(student.last_name)
    await page.get_by_label("Voornaam van de cursist").fill(student.first_name)
    await page.get_by_label("Startdatum").fill((starts_on - timedelta(days=400)).isoformat())
    await page.get_by_label("Einddatum").fill((starts_on - timedelta(days=380)).isoformat())
    await page.get_by_role("button", name="Inschrijving attesteren").click()
    await expect(page.get_by_role("alert").filter(has_text="Er is een probleem")).to_contain_text("ODB-nummer")
    await expect(page.locator("#odb_number-fout")).to_be_visible()
    await accessible(page)

    # the right number, but a start before the registration holds: refused with the rule.
    await page.get_by_label("ODB-nummer").fill(odb)
    await page.get_by_role("button", name="Inschrijving attesteren").click()
    await expect(page.locator("#starts_on-fout")).to_contain_text("regel A-4")
    await accessible(page)

    # Corrected: accepted, the receipt, the number shown masked only.
    await page.get_by_label("Startdatum").fill(starts_on.isoformat())
    await page.get_by_label("Einddatum").fill(ends_on.isoformat())
    await page.get_by_role("button", name="Inschrijving attesteren").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Ontvangstbewijs")
    number = student.national_register_number
    await expect(page.get_by_role("status")).to_contain_text(f"{number[0:2]}.{number[2:4]}.{number[4:6]}-***.**")
    await expect(page.get_by_role("status")).to_contain_text("aanvaard")
    assert number not in await page.content()
    await accessible(page)

    # attendance on the enrolment's number, by its reference.
    await page.goto("/attesten/aanwezigheid")
    await accessible(page)
    await page.get_by_label("Referentie van de inschrijving").fill(reference)
    await page.get_by_label("ODB-nummer").fill(odb)
    await page.get_by_label("Rijksregisternummer van de cursist").fill(number)
    await page.get_by_label("Periode van").fill(starts_on.isoformat())
    await page.get_by_label("Periode tot").fill((starts_on + timedelta(days=30)).isoformat())
    await page.get_by_label("Aantal uren aanwezig").fill("20")
    await page.get_by_role("button", name="Aanwezigheid attesteren").click()
    await expect(page.get_by_role("status")).to_contain_text("aanvaard")
    await expect(page.locator(".summary-list")).to_contain_text("Eén attest")

    # A bulk file as a spreadsheet exports it: a good enrolment, and attendance on an unknown reference.
    bulk_reference = f"CVO-{uuid.uuid4().hex[:6]}"
    csv = (
        "\ufeffsoort;referentie;odb_nummer;module;rijksregisternummer;naam;voornaam;startdatum;einddatum;periode_van;periode_tot;uren;leerproces_doorlopen\n"
        f"inschrijving;{bulk_reference};{odb};;{other.national_register_number};{other.last_name};{other.first_name};{_dmy(starts_on)};{_dmy(ends_on)};;;;\n"
        f"aanwezigheid;ONBEKEND-{uuid.uuid4().hex[:6]};{odb};;{other.national_register_number};;;;;{_dmy(starts_on)};{_dmy(starts_on + timedelta(days=20))};12;\n"
    ).encode()
    filename = f"attesten-{uuid.uuid4().hex[:6]}.csv"
    await page.goto("/attesten")
    await page.get_by_label("Bestand", exact=True).set_input_files({"name": filename, "mimeType": "text/csv", "buffer": csv})
    await page.get_by_role("button", name="Bestand opladen").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Ontvangstbewijs")
    await expect(page.get_by_role("status")).to_contain_text(filename)
    report = page.get_by_role("table", name=re.compile("Geweigerde rijen"))
    bad_row = report.get_by_role("row").filter(has_text="A-3")
    await expect(bad_row).to_have_count(1)
    await expect(bad_row.get_by_role("cell").first).to_have_text("3")  # the spreadsheet's row (the header is row 1)
    await expect(bad_row).to_contain_text("referentie")
    await expect(page.locator(".summary-list")).to_contain_text(filename)
    await accessible(page)
    await screenshot(page, "attestations-bulk-report")
    receipt_number = (await page.get_by_role("heading", level=1).inner_text()).removeprefix("Ontvangstbewijs ").strip()

    async def emailed() -> bool:
        return any(receipt_number in json.dumps(m) for m in await world.emails_to("info@example.org"))

    await eventually("the receipt's email to the provider's contact address", emailed)

    # The organisation's list; the bulk enrolment withdrawn (it has no attendance).
    await page.goto("/attesten")
    await expect(page.get_by_role("row").filter(has_text=reference).first).to_contain_text("Aanvaard")
    await accessible(page)
    await screenshot(page, "attestations-overview")
    await page.get_by_role("button", name=f"Intrekken {bulk_reference}").click()
    await expect(page.get_by_role("status")).to_contain_text(f"{bulk_reference} is ingetrokken")
    await expect(page.get_by_role("row").filter(has_text=bulk_reference)).to_contain_text("Ingetrokken")
    # An enrolment with attendance on it cannot be withdrawn: the reason with its rule.
    await page.get_by_role("button", name=f"Intrekken {reference}", exact=True).click()
    await expect(page.locator(".notice--error")).to_contain_text("A-3")

    # The student, as a citizen: their own enrolment and hours, not 32 yet; nothing of Tom.
    await page.get_by_role("button", name="Afmelden").click()
    await sign_in(page, number)
    await page.goto("/burger/opleidingsverlof")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mijn opleidingsverlof")
    attestations = page.get_by_role("table", name="Je inschrijvingen en aanwezigheden")
    await expect(attestations.get_by_role("row").filter(has_text=odb)).to_have_count(2)
    await expect(attestations).to_contain_text("20")
    years = page.get_by_role("table", name="Uren per schooljaar")
    await expect(years.get_by_role("row").nth(1)).to_contain_text("Nog niet")
    await expect(years.get_by_role("row").nth(1)).to_contain_text("20")
    await accessible(page)
    await screenshot(page, "attestations-citizen")


async def test_a1_a_member_without_the_right_is_offered_to_request_it(page: Page, world: World) -> None:
    organisation = await world.organisation()
    member = await world.member(organisation, first_name="Ilse", rights=[("dwse_organisation_officer", "platos")])
    await sign_in(page, member.national_register_number, tile=organisation.name)
    await page.goto("/attesten")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Geen toegang")
    await expect(page.get_by_role("link", name="Gebruikersrecht aanvragen")).to_have_attribute("href", re.compile("context=training_database"))
    await accessible(page)
