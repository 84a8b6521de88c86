"""What the department's and the register's browser journeys start from, set up through the
services' public APIs with tokens `world` makes: a provider with its WSE quality registration and an
officer (R-1, E-1), a submitted ODB application (steps 2 to 7 of the manual, as the provider's API
takes them), a registered training (forwarded and approved by a case handler, R-20), a submitted
Platos application (E-3), and a department member with the case handler's rights.

Identity tells the other services about organisations and rights through Kafka, a moment later:
the first call of each new actor is retried until the service knows them.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.portal.conftest import OPERATOR_NUMBER, Organisation, Person, World

CASE_HANDLER_RIGHTS = [("case_handler", "training_database"), ("case_handler", "platos"), ("operator", "department")]


async def eventually(call: Callable[[], Awaitable[httpx.Response]], *, expected: int, what: str, timeout: float = 60) -> httpx.Response:
    """The call again until it answers `expected` (the service learns from identity's events)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = await call()
        if answer.status_code == expected:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {answer.status_code} {answer.text}")
        await asyncio.sleep(0.3)


def department(department_id: str) -> Organisation:
    """The department as an organisation whose head is the helpdesk operator (who grants its rights)."""
    operator = Person(OPERATOR_NUMBER, "Hanne", "Helpdesk", "helpdesk@wse.example")
    return Organisation(department_id, "Departement Werk en Sociale Economie", "", operator)


async def case_handler(world: World, *, rights: list[tuple[str, str]] = CASE_HANDLER_RIGHTS, first_name: str = "Dirk") -> tuple[Person, str]:
    """A department member with `rights` (the case handler's of registration and recognition and
    the notification log's) and a token acting for the department."""
    department_id = await world.department_id()
    person = await world.member(department(department_id), first_name=first_name, rights=rights)
    return person, await world.token(person.national_register_number, department_id)


@dataclass
class Provider:
    organisation: Organisation
    officer: Person
    token: str


async def provider(world: World, *, context: str = "training_database", name: str | None = None) -> Provider:
    """A training provider registered with its WSE quality registration (R-2, E-2) and an officer
    holding dwse_organisation_officer in `context` (R-1, E-1)."""
    organisation = await world.organisation(kind="training_provider" if context == "training_database" else "service_provider", name=name)
    operator = await world.operator()
    async with httpx.AsyncClient(base_url=world.url("identity"), headers={"authorization": f"Bearer {operator}"}) as client:
        registered = await client.put(
            f"/v1/organisations/{organisation.organisation_id}/quality-registration", json={"status": "registered", "valid_from": "2024-01-01"}
        )
        assert registered.status_code == 200, registered.text
    officer = await world.member(organisation, first_name="Sofie", rights=[("dwse_organisation_officer", context)])
    return Provider(organisation, officer, await world.token(officer.national_register_number, organisation.organisation_id))


def _client(world: World, service: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=world.url(service), headers={"authorization": f"Bearer {token}"}, timeout=30)


# ------------------------------------------------------------------------------- registration (ODB)


def training_section(name: str) -> dict[str, Any]:
    starts = date.today() + timedelta(days=120)
    return {
        "name": name,
        "own_reference": f"REF-{uuid.uuid4().hex[:8]}",
        "target_group": "Werknemers in de metaalsector zonder voorkennis",
        "workplace_learning": False,
        "blended": False,
        "separately_enrollable_parts": False,
        "leads_to_qualification": True,
        "final_assessment": True,
        "web_page": "https://opleidingen.example/lassen",
        "content": "Booglassen, MIG/MAG en TIG; veilig werken; lasplannen lezen.",
        "structure": "integral",
        "competence_group": "profession_specific",
        "modules": [{"name": "Lassen basis", "contact_hours": "40", "starts_on": starts.isoformat(), "ends_on": (starts + timedelta(days=90)).isoformat()}],
    }


PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def submitted_application(
    world: World, provider: Provider, *, training_name: str, contact_email: str, documents: dict[str, bytes] | None = None
) -> dict[str, Any]:
    """An ODB application with every section (and `documents`, PDFs by name, R-16), submitted
    (R-17): in review, the decision due in three months."""
    async with _client(world, "registration", provider.token) as client:
        created = await eventually(lambda: client.post("/v1/provider/applications"), expected=201, what="registration to learn the provider and its right")
        application_id = created.json()["application_id"]
        document_ids = []
        for filename, content in (documents or {}).items():
            stored = await client.post(
                "/v1/provider/documents", params={"purpose": "extra", "filename": filename}, content=content, headers={"content-type": "application/pdf"}
            )
            assert stored.status_code == 201, stored.text
            document_ids.append(stored.json()["document_id"])
        sections = {
            "contact": {"name": "Info Opleidingen", "email": contact_email, "phone": "+32 2 123 45 67"},
            "training": training_section(training_name),
            "self_analysis": {"basic": [], "profession_specific": ["shortage_occupation"], "general_pillars": []},
            "deciding_body": {"aim": "several_professions"},
            **({"documents": {"document_ids": document_ids}} if document_ids else {}),
        }
        for name, body in sections.items():
            saved = await client.put(f"/v1/provider/applications/{application_id}/sections/{name}", json=body)
            assert saved.status_code == 200, saved.text
        # The quality registration reaches registration by an event too: until then the dossier would be held.
        deadline = time.monotonic() + 60
        while ((await client.get("/v1/provider/organisation")).json().get("organisation") or {}).get("quality_status") != "registered":
            assert time.monotonic() < deadline, "registration did not learn the quality registration"
            await asyncio.sleep(0.3)
        submitted = await client.post(f"/v1/provider/applications/{application_id}/submit", headers={"idempotency-key": uuid.uuid4().hex})
        assert submitted.status_code == 200, submitted.text
        application: dict[str, Any] = submitted.json()
    return application


async def registered_training(world: World, *, training_name: str) -> dict[str, Any]:
    """A training in the public register: applied for by a new provider, forwarded to the
    commission and approved by a case handler (R-15, R-20). Returns the decided dossier."""
    applicant = await provider(world)
    application = await submitted_application(world, applicant, training_name=training_name, contact_email=f"odb-{uuid.uuid4().hex[:8]}@opleidingen.example")
    assert application["status"] == "in_review", application
    _, token = await case_handler(world, rights=[("case_handler", "training_database")], first_name="Karel")
    path = f"/v1/back-office/applications/{application['application_id']}"
    async with _client(world, "registration", token) as client:
        await eventually(lambda: client.post(f"{path}/forward", json={}), expected=200, what="registration to learn the case handler's right")
        decided = await client.post(f"{path}/decision", json={"outcome": "approved"})
        assert decided.status_code == 200, decided.text
        result: dict[str, Any] = decided.json()
    return result


# ------------------------------------------------------------------------------- recognition (Platos)


def recognition_parts(contact_email: str, title: str) -> dict[str, dict[str, Any]]:
    return {
        "project": {
            "project_title": title,
            "project_description": "Wij begeleiden werknemers met een arbeidsbeperking, hun collega's en werkgevers op de werkvloer.",
            "contact": {"name": "An Peeters", "email": contact_email, "phone": "+32 9 123 45 67"},
            "address": "Kortrijksesteenweg 1, 9000 Gent",
            "website": "https://leie.example",
        },
        "simplified": {"simplified": False},
        "experience": {
            "motivation": "Sinds 2012 begeleiden wij jaarlijks meer dan honderd werknemers met een arbeidsbeperking op de werkvloer.",
            "coaches": [
                {
                    "name": "Els Maes",
                    "qualification": "diploma",
                    "qualification_details": "Bachelor orthopedagogie (2012), 10 jaar jobcoach",
                    "competences": ["working_together", "communicating", "person_centred_work", "tailored_advice"],
                }
            ],
        },
        "territory": {
            "provinces": ["oost-vlaanderen"],
            "municipalities": ["Gent"],
            "territory_motivation": "Ons kantoor in Gent bereikt de hele provincie binnen het uur met het openbaar vervoer.",
            "capacity": 20,
            "capacity_motivation": "Twee begeleiders met elk een caseload van tien werknemers tegelijk, zoals onze ervaring aangeeft.",
        },
        "declaration": {"truthful": True, "intervision": True, "report_changes": True, "signed_by": "An Peeters"},
    }


async def submitted_recognition(world: World, *, title: str, contact_email: str) -> dict[str, Any]:
    """A Platos application in five parts (E-3), submitted (E-4): admissibility due in 7 days (E-5)."""
    _, _, result = await _submit_recognition(world, title=title, contact_email=contact_email)
    return result


async def _submit_recognition(world: World, *, title: str, contact_email: str) -> tuple[Provider, str, dict[str, Any]]:
    """A new provider's Platos application in five parts (E-3), submitted (E-4): the provider, the
    application's id and the answer."""
    applicant = await provider(world, context="platos", name=f"Jobcoaching {uuid.uuid4().hex[:6]} vzw")
    async with _client(world, "recognition", applicant.token) as client:
        key = {"idempotency-key": uuid.uuid4().hex}
        created = await eventually(lambda: client.post("/v1/provider/applications", headers=key), expected=201, what="Platos to learn the provider")
        application_id = created.json()["application_id"]
        for name, body in recognition_parts(contact_email, title).items():
            saved = await client.put(f"/v1/provider/applications/{application_id}/parts/{name}", json=body)
            assert saved.status_code == 200, saved.text
        submitted = await client.post(f"/v1/provider/applications/{application_id}/submit")
        assert submitted.status_code == 200, submitted.text
        result: dict[str, Any] = submitted.json()
    return applicant, application_id, result


async def answer_question(world: World, provider: Provider, application_id: str, answer: str) -> dict[str, Any]:
    """The provider answers the open question of its dossier (R-19)."""
    async with _client(world, "registration", provider.token) as client:
        answered = await client.post(f"/v1/provider/applications/{application_id}/answer", json={"answer": answer})
        assert answered.status_code == 200, answered.text
        result: dict[str, Any] = answered.json()
    return result


async def department_name(world: World) -> str:
    """The department's name as its tile shows it."""
    async with httpx.AsyncClient(base_url=world.url("identity")) as client:
        token = await world.token(OPERATOR_NUMBER)
        me = (await client.get("/v1/me", headers={"authorization": f"Bearer {token}"})).json()
    return str(next(t["name"] for t in me["tiles"] if t["kind"] == "organisation"))


# ------------------------------------------------------------------------------- for test_department_more


async def general_contact(world: World, provider: Provider, email: str) -> None:
    """The provider's organisation data name its general contact (R-3, R-25), who receives a negative evaluation (R-26)."""
    contact = {"name": "Algemeen Contact", "email": email, "phone": "+32 2 987 65 43"}
    async with _client(world, "registration", provider.token) as client:
        await eventually(lambda: client.get("/v1/provider/organisation"), expected=200, what="registration to learn the provider")
        saved = await client.put("/v1/provider/organisation", json={"contact": contact, "general_contact": contact})
        assert saved.status_code == 200, saved.text


async def approved_application(world: World, applicant: Provider, *, training_name: str, handler_token: str) -> dict[str, Any]:
    """`applicant`'s application, submitted, forwarded to the commission and approved (R-15, R-20):
    the training is in the register. Returns the decided dossier (with its ODB number)."""
    application = await submitted_application(world, applicant, training_name=training_name, contact_email=f"odb-{uuid.uuid4().hex[:8]}@opleidingen.example")
    path = f"/v1/back-office/applications/{application['application_id']}"
    async with _client(world, "registration", handler_token) as client:
        await eventually(lambda: client.post(f"{path}/forward", json={}), expected=200, what="registration to learn the case handler's right")
        decided = await client.post(f"{path}/decision", json={"outcome": "approved"})
        assert decided.status_code == 200, decided.text
        result: dict[str, Any] = decided.json()
    return result


async def forward(world: World, handler_token: str, application_id: str) -> None:
    """The case handler forwards the dossier to the commission (R-15): from then on it is not amended (R-17)."""
    async with _client(world, "registration", handler_token) as client:
        forwarded = await eventually(
            lambda: client.post(f"/v1/back-office/applications/{application_id}/forward", json={}), expected=200, what="registration to learn the case handler"
        )
        assert forwarded.json()["status"] == "forwarded"


async def granted_recognition(world: World, *, title: str, contact_email: str, handler_token: str) -> tuple[Provider, dict[str, Any]]:
    """A service provider whose Platos application (E-3, E-4) was judged admissible, advised and
    granted from today (E-5 to E-8); returns the provider and its recognition (E-9, E-12)."""
    applicant, application_id, _ = await _submit_recognition(world, title=title, contact_email=contact_email)
    path = f"/v1/back-office/applications/{application_id}"
    async with _client(world, "recognition", handler_token) as client:
        await eventually(lambda: client.post(f"{path}/admissibility", json={"outcome": "admissible"}), expected=200, what="Platos to learn the case handler")
        deadline = time.monotonic() + 60
        while (await client.get(path)).json().get("examination_due_on") is None:  # E-6: once the admissibility email is delivered
            assert time.monotonic() < deadline, "the admissibility email was not delivered"
            await asyncio.sleep(0.3)
        advised = await client.post(f"{path}/advice", json={"advice": "favourable", "motivation": "Voldoet aan alle voorwaarden van de erkenning."})
        assert advised.status_code == 200, advised.text
        today = advised.json()["submitted_on"]
        decided = await client.post(f"{path}/decision", json={"outcome": "granted", "decided_on": today, "recognition_starts_on": today})
        assert decided.status_code == 200, decided.text
        recognition_id = decided.json()["recognition"]["recognition_id"]
        recognition = await client.get(f"/v1/back-office/recognitions/{recognition_id}")
        assert recognition.status_code == 200, recognition.text
        result: dict[str, Any] = recognition.json()
    return applicant, result


async def report_change(world: World, applicant: Provider, recognition_id: str, description: str) -> None:
    """E-12: the recognised provider reports a change (its own portal)."""
    async with _client(world, "recognition", applicant.token) as client:
        reported = await client.post(f"/v1/provider/recognitions/{recognition_id}/change-reports", json={"description": description})
        assert reported.status_code == 201, reported.text


async def stop_training(world: World, applicant: Provider, odb_number: str, *, reason: str) -> None:
    """The provider stops its registered training from today (R-23): from today it is out of the public register."""
    today = datetime.now(ZoneInfo("Europe/Brussels")).date()
    async with _client(world, "registration", applicant.token) as client:
        stopped = await client.post(f"/v1/provider/trainings/{odb_number}/stop", json={"stop_on": today.isoformat(), "reason": reason})
        assert stopped.status_code == 200, stopped.text
        gone = await client.get(f"/v1/register/trainings/{odb_number}")
        assert gone.status_code == 404, gone.text


async def emails_about(world: World, address: str, text: str, timeout: float = 60) -> list[dict[str, Any]]:
    """The emails to `address` whose subject holds `text`, once there is one (the outbox, Kafka and
    the notification service deliver them in their own time)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in await world.emails_to(address) if text in m.get("subject", "")]
        if found:
            return found
        assert time.monotonic() < deadline, f"no email to {address} about {text!r}: {await world.emails_to(address)}"
        await asyncio.sleep(0.5)
