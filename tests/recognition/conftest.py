"""The recognition service on the test stack (the session fixture `recognition` is in
tests/conftest.py, so the whole run has one runtime): its runtime in this process, so tests hold
its clock and move time instead of sleeping, on a real PostgreSQL database of its own and real
Kafka. Identity's side is real events on identity's topics, and the notification service's
delivery facts are real `NotificationDeliveredV1` events on its topic, as it publishes them.

Fixtures:
- `recognition` (session): the running runtime, its FixedClock and ways to publish events;
- `provider`, `other_provider`: a fresh organisation (with an enterprise number) and a staff
  member holding dwse_organisation_officer@platos (E-1), as an httpx client with a token;
- `case_handler`: a department member holding case_handler@platos;
- `public_client`: no token; `clock`: the runtime's clock, put back after each test.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from service_runtime.calendar import start_of
from tests.platform.helpers import eventually
from tests.registration.conftest import Actor, Registration
from wse_contracts.identity import OrganisationRegisteredV1, QualityRegistration
from wse_contracts.notification import NotificationDeliveredV1

pytestmark = pytest.mark.slow


def enterprise_number() -> str:
    """A fresh valid KBO number (first digit 0, mod-97 check)."""
    body = random.randint(20_000_000, 99_999_999)
    return f"0{body:08d}"[:8] + f"{97 - int(f'0{body:08d}'[:8]) % 97:02d}"


class Recognition(Registration):
    """The in-process recognition runtime (the registration harness's tokens, events and reads)."""

    async def organisation(  # type: ignore[override]
        self, *, kind: str = "service_provider", name: str | None = None, quality: str = "registered", number: str | None = None, **_: Any
    ) -> UUID:
        organisation_id = uuid.uuid4()
        await self.publish(
            OrganisationRegisteredV1(
                organisation_id=organisation_id,
                name=name or f"Werkkracht {organisation_id.hex[:6]} vzw",
                kind=kind,
                enterprise_number=number or enterprise_number(),
                quality_registration=QualityRegistration(status=quality, valid_from=date(2020, 1, 1) if quality == "registered" else None),
            )
        )
        await eventually(
            lambda: self.fetchval("SELECT 1 FROM organisations_projection WHERE organisation_id = $1", organisation_id),
            what="recognition to learn the organisation",
        )
        return organisation_id

    async def grant(self, *, organisation_id: UUID, role: str, context: str = "platos", person_id: UUID | None = None) -> UUID:
        return await super().grant(organisation_id=organisation_id, role=role, context=context, person_id=person_id)

    async def provider(self, **kwargs: Any) -> Actor:
        organisation_id = await self.organisation(**kwargs)
        return await self.actor(organisation_id=organisation_id, role="dwse_organisation_officer")

    async def delivered(self, application_id: str, kind: str, *, on: date) -> None:
        """The notification service's fact: the email of that kind reached the mail server on `on`."""
        key = f"recognition:{application_id}:{kind}"
        await self.publish_delivery(key, at=start_of(on) + timedelta(hours=10))
        column = {"admissibility": "examination_starts_on", "decision": "decision_informed_on"}[kind]
        await eventually(
            lambda: self.fetchval(f"SELECT {column} = $2 FROM applications WHERE application_id = $1", UUID(application_id), on),
            what=f"recognition to learn that the {kind} email was delivered",
        )

    async def publish_delivery(self, key: str, *, at: datetime) -> None:
        event = NotificationDeliveredV1(
            notification_id=str(uuid.uuid4()), reference="ERK", template_id="recognition.x", requested_by="recognition", idempotency_key=key, at=at
        )
        from wse_contracts.kafka_binding import to_kafka_record

        record = to_kafka_record(event.to_envelope(source="/wse/notification", correlation_id="recognition-tests", time=at), topic=event.topic)
        assert self.producer is not None
        await self.producer.send_and_wait(record.topic, record.value, key=record.key, headers=record.headers)

    def today(self) -> date:
        from service_runtime.calendar import today

        return today(self.clock)


@pytest.fixture
async def clock(recognition):
    start = recognition.clock.now()
    yield recognition.clock
    recognition.clock.set(start)


@pytest.fixture
async def provider(recognition) -> Actor:
    return await recognition.provider()


@pytest.fixture
async def other_provider(recognition) -> Actor:
    return await recognition.provider()


@pytest.fixture
async def case_handler(recognition, recognition_department) -> Actor:
    return await recognition.actor(organisation_id=recognition_department, role="case_handler")


@pytest.fixture
async def public_client(recognition) -> httpx.AsyncClient:
    return recognition.client()


# ------------------------------------------------------------------------------- a valid application


def contact(**overrides: Any) -> dict[str, Any]:
    return {"name": "An Peeters", "email": f"{uuid.uuid4().hex[:10]}@werkkracht.example", "phone": "+32 9 123 45 67", **overrides}


def project(**overrides: Any) -> dict[str, Any]:
    return {
        "project_title": "Begeleiding op de werkvloer in Oost-Vlaanderen",
        "project_description": "Wij begeleiden werknemers met een arbeidsbeperking, hun collega's en werkgevers op de werkvloer.",
        "contact": contact(),
        "address": "Kortrijksesteenweg 1, 9000 Gent",
        **overrides,
    }


def simplified(group: str | None = None) -> dict[str, Any]:
    return {"simplified": group is not None, "group": group}


def coach(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Els Maes",
        "qualification": "diploma",
        "qualification_details": "Bachelor orthopedagogie (2012), 10 jaar jobcoach",
        "competences": ["working_together", "communicating", "person_centred_work", "tailored_advice"],
        **overrides,
    }


def experience(**overrides: Any) -> dict[str, Any]:
    return {
        "motivation": "Sinds 2012 begeleiden wij jaarlijks meer dan honderd werknemers met een arbeidsbeperking op de werkvloer.",
        "coaches": [coach()],
        **overrides,
    }


def territory(**overrides: Any) -> dict[str, Any]:
    return {
        "provinces": ["oost-vlaanderen", "west-vlaanderen"],
        "municipalities": [],
        "territory_motivation": "Onze kantoren in Gent en Brugge bereiken beide provincies binnen het uur met het openbaar vervoer.",
        "capacity": 40,
        "capacity_motivation": "Vier begeleiders met elk een caseload van tien werknemers tegelijk, zoals onze ervaring aangeeft.",
        "subcontractors": [],
        **overrides,
    }


def declaration(**overrides: Any) -> dict[str, Any]:
    return {"truthful": True, "intervision": True, "report_changes": True, "signed_by": "An Peeters", **overrides}


async def draft(actor: Actor, **parts: dict[str, Any]) -> dict[str, Any]:
    """A draft with the given parts saved (each must be valid)."""
    response = await actor.client.post("/v1/provider/applications")
    assert response.status_code == 201, response.text
    application = response.json()
    for name, body in parts.items():
        saved = await actor.client.put(f"/v1/provider/applications/{application['application_id']}/parts/{name}", json=body)
        assert saved.status_code == 200, saved.text
        application = saved.json()
    return application


def complete_parts(**overrides: Any) -> dict[str, dict[str, Any]]:
    parts = {"project": project(), "simplified": simplified(), "experience": experience(), "territory": territory(), "declaration": declaration()}
    return {**parts, **overrides}


async def submitted(actor: Actor, **overrides: Any) -> dict[str, Any]:
    application = await draft(actor, **complete_parts(**overrides))
    response = await actor.client.post(f"/v1/provider/applications/{application['application_id']}/submit")
    assert response.status_code == 200, response.text
    return response.json()


def back_office(application: dict[str, Any]) -> str:
    return f"/v1/back-office/applications/{application['application_id']}"


async def examined(recognition: Recognition, actor: Actor, case_handler: Actor, **overrides: Any) -> dict[str, Any]:
    """Submitted, judged admissible, and the admissibility email delivered today: in examination."""
    application = await submitted(actor, **overrides)
    judged = await case_handler.client.post(f"{back_office(application)}/admissibility", json={"outcome": "admissible"})
    assert judged.status_code == 200, judged.text
    await recognition.delivered(application["application_id"], "admissibility", on=recognition.today())
    return (await case_handler.client.get(back_office(application))).json()


async def decided(
    recognition: Recognition, actor: Actor, case_handler: Actor, *, outcome: str = "granted", starts_on: date | None = None, **overrides: Any
) -> dict[str, Any]:
    """Examined, advised and decided by the minister today (granted from `starts_on`, default today)."""
    application = await examined(recognition, actor, case_handler, **overrides)
    advice = "favourable" if outcome == "granted" else "unfavourable"
    advised = await case_handler.client.post(f"{back_office(application)}/advice", json={"advice": advice, "motivation": "Voldoet aan alle voorwaarden."})
    assert advised.status_code == 200, advised.text
    body: dict[str, Any] = {"outcome": outcome, "decided_on": recognition.today().isoformat()}
    if outcome == "granted":
        body["recognition_starts_on"] = (starts_on or recognition.today()).isoformat()
    else:
        body["reasons"] = "Onvoldoende aangetoonde ervaring met de begeleiding van werknemers met een arbeidsbeperking."
    response = await case_handler.client.post(f"{back_office(application)}/decision", json=body)
    assert response.status_code == 200, response.text
    return response.json()
