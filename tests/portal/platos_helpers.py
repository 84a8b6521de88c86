"""Set-up for the Platos browser journeys, through the services' public APIs as the helpdesk and
the department would do it: a provider with its WSE quality registration (E-2) and a staff member
holding dwse_organisation_officer@platos (E-1), and a case handler of the department
(case_handler@platos) who takes the department's and the minister's steps (E-5 to E-8)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import httpx

from tests.portal.conftest import Organisation, Person, World


async def eventually(what: str, check: Callable[[], Awaitable[bool]], *, seconds: float = 30) -> None:
    for _ in range(int(seconds / 0.2)):
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def provider(world: World) -> tuple[Organisation, Person]:
    """A service provider registered by the helpdesk with its WSE quality registration, and a staff
    member with dwse_organisation_officer@platos (E-1) whom recognition already knows."""
    organisation = await world.organisation(kind="service_provider")
    operator = await world.operator()
    async with httpx.AsyncClient(base_url=world.identity, headers={"authorization": f"Bearer {operator}"}) as client:
        answer = await client.put(
            f"/v1/organisations/{organisation.organisation_id}/quality-registration", json={"status": "registered", "valid_from": "2024-01-01"}
        )
        assert answer.status_code == 200, answer.text
    staff = await world.member(organisation, first_name="Sofie", rights=[("dwse_organisation_officer", "platos")])
    token = await world.token(staff.national_register_number, organisation.organisation_id)
    async with httpx.AsyncClient(base_url=world.url("recognition"), headers={"authorization": f"Bearer {token}"}) as client:

        async def knows_right() -> bool:
            return (await client.get("/v1/provider/applications")).status_code == 200

        await eventually("recognition to learn the staff member's right", knows_right)
    return organisation, staff


async def case_handler(world: World) -> str:
    """A new case handler of the department (case_handler@platos, granted by the helpdesk
    operator as the department's head administrator); the token acts for the department."""
    operator = await world.operator()
    department = await world.department_id()
    person = await world.register_person(operator, world.new_person("Dirk"))
    async with httpx.AsyncClient(base_url=world.identity, headers={"authorization": f"Bearer {operator}"}) as client:
        added = await client.post(f"/v1/organisations/{department}/members", json={"person_id": person.person_id})
        assert added.status_code == 204, added.text
        granted = await client.post(
            f"/v1/organisations/{department}/rights",
            json={"person_id": person.person_id, "role": "case_handler", "context": "platos", "valid_from": date.today().isoformat()},
        )
        assert granted.status_code == 201, granted.text
    token = await world.token(person.national_register_number, department)
    async with httpx.AsyncClient(base_url=world.url("recognition"), headers={"authorization": f"Bearer {token}"}) as client:

        async def knows_right() -> bool:
            return (await client.get("/v1/back-office/queue")).status_code == 200

        await eventually("recognition to learn the case handler's right", knows_right)
    return token


async def grant_recognition(world: World, token: str, application_id: str) -> dict[str, Any]:
    """The department judges the application admissible (E-5), the examination starts when that
    email is delivered (E-6), it advises (E-7) and the minister grants it from today (E-8)."""
    path = f"/v1/back-office/applications/{application_id}"
    async with httpx.AsyncClient(base_url=world.url("recognition"), headers={"authorization": f"Bearer {token}"}) as client:
        judged = await client.post(f"{path}/admissibility", json={"outcome": "admissible"})
        assert judged.status_code == 200, judged.text

        async def examination_started() -> bool:
            return (await client.get(path)).json().get("examination_due_on") is not None

        await eventually("the admissibility email to be delivered", examination_started)
        advised = await client.post(f"{path}/advice", json={"advice": "favourable", "motivation": "Voldoet aan alle voorwaarden van de erkenning."})
        assert advised.status_code == 200, advised.text
        today = advised.json()["submitted_on"]
        decided = await client.post(f"{path}/decision", json={"outcome": "granted", "decided_on": today, "recognition_starts_on": today})
        assert decided.status_code == 200, decided.text
        result: dict[str, Any] = decided.json()
        return result
