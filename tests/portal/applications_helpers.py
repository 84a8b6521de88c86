"""What the ODB application journeys start from, set up through the services' public APIs with
tokens `world` makes: a training provider (with or without its WSE quality registration, R-2) and
an officer holding dwse_organisation_officer@training_database (R-1); a case handler of the
department; a draft, a submitted application and a registered training through the provider's
and the back office's API.

Registration learns organisations, quality registrations and rights from identity's events a
moment later: the first calls are repeated until it knows them (never a blind sleep).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx

from tests.portal.conftest import OPERATOR_NUMBER, Organisation, Person, World

# A minimal PDF (the service judges a document by its bytes).
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


async def until(check: Callable[[], Awaitable[bool]], *, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.25)


def client(world: World, service: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=world.url(service), headers={"authorization": f"Bearer {token}"}, timeout=30)


@dataclass
class Provider:
    organisation: Organisation
    officer: Person
    token: str


async def provider(world: World, *, quality_registered: bool = True) -> Provider:
    """A training provider whose officer may apply (R-1), known to registration (with its quality
    registration when asked, R-2)."""
    organisation = await world.organisation(kind="training_provider")
    if quality_registered:
        async with client(world, "identity", await world.operator()) as identity:
            answer = await identity.put(
                f"/v1/organisations/{organisation.organisation_id}/quality-registration", json={"status": "registered", "valid_from": "2024-01-01"}
            )
            assert answer.status_code == 200, answer.text
    officer = await world.member(organisation, first_name="Bram", rights=[("dwse_organisation_officer", "training_database")])
    token = await world.token(officer.national_register_number, organisation.organisation_id)
    async with client(world, "registration", token) as registration:

        async def known() -> bool:
            answer = await registration.get("/v1/provider/organisation")
            if answer.status_code != 200 or answer.json()["organisation"] is None:
                return False
            return not quality_registered or answer.json()["organisation"]["quality_status"] == "registered"

        await until(known, what="registration to know the organisation and the officer's right")
    return Provider(organisation, officer, token)


async def case_handler(world: World) -> str:
    """A token of a department member holding case_handler@training_database, known to registration."""
    department_id = await world.department_id()
    department = Organisation(department_id, "Departement Werk en Sociale Economie", "", Person(OPERATOR_NUMBER, "Hanne", "Helpdesk", "helpdesk@wse.example"))
    person = await world.member(department, first_name="Dirk", rights=[("case_handler", "training_database")])
    token = await world.token(person.national_register_number, department_id)
    async with client(world, "registration", token) as registration:

        async def known() -> bool:
            return (await registration.get("/v1/back-office/queue")).status_code == 200

        await until(known, what="registration to know the case handler's right")
    return token


def contact_address() -> str:
    return f"opleidingen-{uuid.uuid4().hex[:8]}@vormingscentrum.example"


def training(**overrides: Any) -> dict[str, Any]:
    starts = date.today() + timedelta(days=100)
    return {
        "name": "Lastechnieken voor beginners",
        "own_reference": f"LAS-{uuid.uuid4().hex[:8]}",
        "target_group": "Werknemers in de metaalsector zonder voorkennis",
        "workplace_learning": False,
        "blended": False,
        "separately_enrollable_parts": False,
        "leads_to_qualification": True,
        "final_assessment": True,
        "web_page": "https://vormingscentrum.example/lassen",
        "content": "Booglassen, MIG/MAG en TIG; veilig werken; lasplannen lezen.",
        "structure": "integral",
        "competence_group": "profession_specific",
        "modules": [{"name": "Lassen basis", "contact_hours": "40", "starts_on": starts.isoformat(), "ends_on": (starts + timedelta(days=60)).isoformat()}],
        **overrides,
    }


async def draft(world: World, provider: Provider, *, contact: str, training_section: dict[str, Any] | None = None) -> dict[str, Any]:
    """A complete draft (steps 2 to 5 saved), not submitted."""
    async with client(world, "registration", provider.token) as registration:
        created = await registration.post("/v1/provider/applications")
        assert created.status_code == 201, created.text
        application_id = created.json()["application_id"]
        sections = {
            "contact": {"name": "Dienst Opleidingen", "email": contact, "phone": "+32 9 123 45 67"},
            "training": training_section or training(),
            "self_analysis": {"basic": [], "profession_specific": ["shortage_occupation"], "general_pillars": []},
            "deciding_body": {"aim": "several_professions"},
        }
        application: dict[str, Any] = created.json()
        for name, body in sections.items():
            saved = await registration.put(f"/v1/provider/applications/{application_id}/sections/{name}", json=body)
            assert saved.status_code == 200, saved.text
            application = saved.json()
        return application


async def submitted(world: World, provider: Provider, *, contact: str) -> dict[str, Any]:
    application = await draft(world, provider, contact=contact)
    async with client(world, "registration", provider.token) as registration:
        answer = await registration.post(f"/v1/provider/applications/{application['application_id']}/submit", headers={"idempotency-key": uuid.uuid4().hex})
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result


async def registered(world: World, provider: Provider, handler: str, *, contact: str) -> str:
    """A registered training of the provider (submitted, forwarded, approved: R-20); its ODB number."""
    application = await submitted(world, provider, contact=contact)
    assert application["status"] == "in_review", application
    async with client(world, "registration", handler) as back_office:
        path = f"/v1/back-office/applications/{application['application_id']}"
        forwarded = await back_office.post(f"{path}/forward", json={})
        assert forwarded.status_code == 200, forwarded.text
        decided = await back_office.post(f"{path}/decision", json={"outcome": "approved"})
        assert decided.status_code == 200, decided.text
        odb_number: str = decided.json()["odb_number"]
        return odb_number


async def emails_about(world: World, address: str, text: str, *, timeout: float = 60) -> list[dict[str, Any]]:
    """The mail sink's messages to `address` whose subject or text mentions `text`, once at least one arrived."""
    found: list[dict[str, Any]] = []

    async def arrived() -> bool:
        nonlocal found
        found = [m for m in await world.emails_to(address) if text in f"{m.get('subject')}\n{m.get('text')}"]
        return bool(found)

    await until(arrived, what=f"an email to {address} about {text}", timeout=timeout)
    return found
