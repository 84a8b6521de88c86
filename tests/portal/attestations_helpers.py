"""Set-up for the attestation browser journeys, through the services' public APIs: a training
provider whose staff member holds dwse_organisation_officer@training_database (A-1), one of its
trainings registered in the ODB register (the provider applies through registration's API, a
case handler of the department forwards it and records the approval, R-20), and attestation
having learnt that registration from registration's events."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx

from tests.portal.conftest import Organisation, Person, World
from tests.portal.platos_helpers import eventually


async def provider(world: World) -> tuple[Organisation, Person]:
    organisation = await world.organisation()
    operator = await world.operator()
    async with httpx.AsyncClient(base_url=world.identity, headers={"authorization": f"Bearer {operator}"}) as client:
        answer = await client.put(  # without it a dossier is held
            f"/v1/organisations/{organisation.organisation_id}/quality-registration", json={"status": "registered", "valid_from": "2024-01-01"}
        )
        assert answer.status_code == 200, answer.text
    staff = await world.member(organisation, first_name="Bram", rights=[("dwse_organisation_officer", "training_database")])
    return organisation, staff


async def registration_case_handler(world: World) -> str:
    """A case handler of the department for the training database (case_handler@training_database)."""
    operator = await world.operator()
    department = await world.department_id()
    person = await world.register_person(operator, world.new_person("Dirk"))
    async with httpx.AsyncClient(base_url=world.identity, headers={"authorization": f"Bearer {operator}"}) as client:
        added = await client.post(f"/v1/organisations/{department}/members", json={"person_id": person.person_id})
        assert added.status_code == 204, added.text
        granted = await client.post(
            f"/v1/organisations/{department}/rights",
            json={"person_id": person.person_id, "role": "case_handler", "context": "training_database", "valid_from": date.today().isoformat()},
        )
        assert granted.status_code == 201, granted.text
    return await world.token(person.national_register_number, department)


def module_dates() -> tuple[date, date]:
    """The module: from the first day of the month after next, two months long (at most two school years, A-7)."""
    first = (date.today().replace(day=1) + timedelta(days=62)).replace(day=1)
    return first, first + timedelta(days=60)


async def registered_training(world: World, organisation: Organisation, staff: Person) -> dict[str, Any]:
    """A training of the organisation, registered (R-20) and known to attestation; its ODB number,
    the day its registration holds from, and its module dates."""
    token = await world.token(staff.national_register_number, organisation.organisation_id)
    handler = await registration_case_handler(world)
    starts_on, ends_on = module_dates()
    contact = {"name": "Dienst Opleidingen", "email": f"opleidingen-{uuid.uuid4().hex[:6]}@example.org", "phone": "+32 9 123 45 67"}
    async with (
        httpx.AsyncClient(base_url=world.url("registration"), headers={"authorization": f"Bearer {token}"}) as provider_client,
        httpx.AsyncClient(base_url=world.url("registration"), headers={"authorization": f"Bearer {handler}"}) as department,
    ):

        async def knows_rights() -> bool:
            own = (await provider_client.get("/v1/provider/applications")).status_code == 200
            return own and (await department.get("/v1/back-office/queue")).status_code == 200

        await eventually("registration to learn the rights", knows_rights)
        saved = await provider_client.put("/v1/provider/organisation", json={"contact": contact, "general_contact": contact})
        assert saved.status_code in (200, 204), saved.text
        draft = await provider_client.post("/v1/provider/applications")
        assert draft.status_code == 201, draft.text
        application_id = draft.json()["application_id"]
        sections = {
            "contact": contact,
            "training": {
                "name": "Lastechnieken voor beginners",
                "own_reference": f"LAS-{uuid.uuid4().hex[:8]}",
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
                "modules": [{"name": "Lassen basis", "contact_hours": "40", "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()}],
            },
            "self_analysis": {"basic": [], "profession_specific": ["shortage_occupation"], "general_pillars": []},
            "deciding_body": {"aim": "several_professions"},
        }
        for name, body in sections.items():
            put = await provider_client.put(f"/v1/provider/applications/{application_id}/sections/{name}", json=body)
            assert put.status_code == 200, put.text
        submitted = await provider_client.post(f"/v1/provider/applications/{application_id}/submit", headers={"idempotency-key": uuid.uuid4().hex})
        assert submitted.status_code == 200, submitted.text
        path = f"/v1/back-office/applications/{application_id}"

        async def in_review() -> bool:  # held until registration learnt the quality registration
            return (await department.get(path)).json()["status"] == "in_review"

        await eventually("the dossier to be in review", in_review)
        forwarded = await department.post(f"{path}/forward", json={})
        assert forwarded.status_code == 200, forwarded.text
        decided = await department.post(f"{path}/decision", json={"outcome": "approved"})
        assert decided.status_code == 200, decided.text
        odb_number = decided.json()["odb_number"]
    await _wait_until_attestation_knows(world, token, odb_number)
    return {"odb_number": odb_number, "starts_on": starts_on, "ends_on": ends_on}


async def _wait_until_attestation_knows(world: World, token: str, odb_number: str) -> None:
    """Attestation learns the registration from registration's event a moment later: an enrolment
    starting long before the registration holds is refused (A-4) once it knows, held before (and
    then withdrawn again)."""
    async with httpx.AsyncClient(base_url=world.url("attestation"), headers={"authorization": f"Bearer {token}"}) as client:

        async def knows() -> bool:
            probe = {
                "reference": f"PROBE-{uuid.uuid4().hex[:8]}",
                "odb_number": odb_number,
                "national_register_number": world.new_person().national_register_number,
                "last_name": "Proef",
                "first_name": "Proef",
                "starts_on": "2000-09-01",
                "ends_on": "2000-12-31",
            }
            answer = await client.post("/v1/provider/enrolments", json=probe)
            if answer.status_code == 201:
                withdrawn = await client.delete(f"/v1/provider/enrolments/{answer.json()['attestation']['attestation_id']}")
                assert withdrawn.status_code == 200, withdrawn.text
                return False
            return answer.status_code == 422 and any(e.get("rule") == "A-4" for e in answer.json().get("errors", []))

        await eventually("attestation to learn the registered training", knows)
