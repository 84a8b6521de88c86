"""The registration service on the test stack (the session fixtures `registration` and
`department` are in tests/conftest.py, so the whole run has one runtime): its runtime in this process (so the tests hold its
clock and move time instead of sleeping), on a real PostgreSQL database of its own and real
Kafka. Identity's side is real events on identity's topics: an organisation registered, a right
granted; the service learns them through its consumers as it does in production.

Fixtures:
- `registration` (session): the running runtime, its FixedClock and a way to publish identity events;
- `provider`, `other_provider`: a fresh organisation with a staff member holding
  dwse_organisation_officer@training_database (R-1), as an httpx client with a token;
- `case_handler`: a department member holding case_handler@training_database;
- `public_client`: no token; `registration_db`: an asyncpg connection to the service's database;
- `clock`: the runtime's clock, put back after each test.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import httpx
import jwt
import pytest
from aiokafka import AIOKafkaProducer

from service_runtime.clock import FixedClock
from tests.platform.helpers import connect, eventually
from wse_contracts.identity import OrganisationRegisteredV1, QualityRegistration, RightGrantedV1
from wse_contracts.kafka_binding import to_kafka_record

pytestmark = pytest.mark.slow

KID = "registration-tests"


@dataclass
class Actor:
    client: httpx.AsyncClient
    organisation_id: UUID
    person_id: UUID
    name: str = ""


class Registration:
    """The in-process registration runtime and what tests need around it."""

    def __init__(self, runtime, clock: FixedClock, signing_key, stack) -> None:
        self.runtime, self.clock, self.signing_key, self.stack = runtime, clock, signing_key, stack
        self.app = runtime.app()
        self.producer: AIOKafkaProducer | None = None

    def token(self, *, person: UUID, organisation: UUID | None) -> str:
        now = int(time.time())
        claims = {"iss": "wse-identity", "aud": "wse-platform", "sub": str(person), "iat": now, "exp": now + 900, "jti": uuid.uuid4().hex}
        if organisation:
            claims["org"] = str(organisation)
        return jwt.encode(claims, self.signing_key, algorithm="RS256", headers={"kid": KID})

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://registration", headers=headers, timeout=30)

    async def publish(self, *events) -> None:
        for event in events:
            record = to_kafka_record(event.to_envelope(source="/wse/identity", correlation_id="registration-tests"), topic=event.topic)
            await self.producer.send_and_wait(record.topic, record.value, key=record.key, headers=record.headers)

    async def organisation(
        self,
        *,
        kind: str = "training_provider",
        name: str | None = None,
        quality: str = "registered",
        organisation_id: UUID | None = None,
        valid_from: date | None = None,
    ) -> UUID:
        """Identity registers (or changes) an organisation; returns once registration knows it."""
        organisation_id = organisation_id or uuid.uuid4()
        event = OrganisationRegisteredV1(
            organisation_id=organisation_id,
            name=name or f"Opleidingscentrum {organisation_id.hex[:6]}",
            kind=kind,
            quality_registration=QualityRegistration(status=quality, valid_from=(valid_from or date(2020, 1, 1)) if quality == "registered" else None),
        )
        await self.publish(event)
        await eventually(
            lambda: self.fetchval("SELECT quality_status = $2 FROM organisations_projection WHERE organisation_id = $1", organisation_id, quality),
            what="registration to learn the organisation",
        )
        return organisation_id

    async def grant(self, *, organisation_id: UUID, role: str, context: str = "training_database", person_id: UUID | None = None) -> UUID:
        person_id = person_id or uuid.uuid4()
        right_id = uuid.uuid4()
        await self.publish(
            RightGrantedV1(right_id=right_id, person_id=person_id, organisation_id=organisation_id, role=role, context=context, valid_from=date(2020, 1, 1))
        )
        await eventually(lambda: self.fetchval("SELECT 1 FROM rights_projection WHERE right_id = $1", right_id), what="registration to learn the right")
        return person_id

    async def actor(self, *, organisation_id: UUID, role: str) -> Actor:
        person_id = await self.grant(organisation_id=organisation_id, role=role)
        return Actor(self.client(self.token(person=person_id, organisation=organisation_id)), organisation_id, person_id)

    async def fetchval(self, query: str, *args: Any) -> Any:
        async with self.runtime.pool.acquire() as connection:
            return await connection.fetchval(query, *args)

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        async with self.runtime.pool.acquire() as connection:
            return await connection.fetch(query, *args)

    async def run_due_jobs(self) -> int:
        return await self.runtime.scheduler.run_due_jobs()

    async def emails(self, reference_like: str = "%") -> list[dict[str, Any]]:
        """The notification requests this service wrote (through its outbox), oldest first."""
        rows = await self.fetch("SELECT value FROM outbox WHERE event_type = 'be.vlaanderen.wse.notification.requested.v1' ORDER BY id")
        found = []
        for row in rows:
            data = json.loads(bytes(row["value"]))  # binary mode: the value is the event's data
            if reference_like == "%" or data["reference"] == reference_like:
                found.append(data)
        return found

    async def events(self, event_type: str, **match: Any) -> list[dict[str, Any]]:
        rows = await self.fetch("SELECT value FROM outbox WHERE event_type = $1 ORDER BY id", "be.vlaanderen.wse." + event_type)
        found = [json.loads(bytes(r["value"])) for r in rows]
        return [d for d in found if all(str(d.get(k)) == str(v) for k, v in match.items())]


@pytest.fixture
async def clock(registration) -> FixedClock:
    start = registration.clock.now()
    yield registration.clock
    registration.clock.set(start)


@pytest.fixture
async def provider(registration) -> Actor:
    organisation_id = await registration.organisation()
    actor = await registration.actor(organisation_id=organisation_id, role="dwse_organisation_officer")
    return actor


@pytest.fixture
async def other_provider(registration) -> Actor:
    organisation_id = await registration.organisation()
    actor = await registration.actor(organisation_id=organisation_id, role="dwse_organisation_officer")
    return actor


@pytest.fixture
async def case_handler(registration, department) -> Actor:
    actor = await registration.actor(organisation_id=department, role="case_handler")
    return actor


@pytest.fixture
async def public_client(registration) -> httpx.AsyncClient:
    return registration.client()


@pytest.fixture
async def registration_db(registration):
    connection = await connect(registration.runtime.settings.database_url)
    yield connection
    await connection.close()


# ------------------------------------------------------------------------------- a valid application


def contact(**overrides: Any) -> dict[str, Any]:
    return {"name": "Info Opleidingen", "email": "info@opleidingen.example", "phone": "+32 2 123 45 67", **overrides}


def module(**overrides: Any) -> dict[str, Any]:
    return {"name": "Lassen basis", "contact_hours": "40", "starts_on": "2027-02-01", "ends_on": "2027-06-30", **overrides}


def training(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Lastechnieken voor beginners",
        "own_reference": f"LAS-{uuid.uuid4().hex[:8]}",
        "target_group": "Werknemers in de metaalsector zonder voorkennis",
        "workplace_learning": False,
        "blended": False,
        "separately_enrollable_parts": False,
        "leads_to_qualification": True,
        "final_assessment": True,
        "web_page": "https://opleidingen.example/lassen",
        "content": "Booglassen, MIG/MAG en TIG; veilig werken; leesvaardigheid van lasplannen.",
        "structure": "integral",
        "competence_group": "profession_specific",
        "modules": [module()],
        **overrides,
    }


def self_analysis(**overrides: Any) -> dict[str, Any]:
    return {"basic": [], "profession_specific": ["shortage_occupation"], "general_pillars": [], **overrides}


def deciding_body(**overrides: Any) -> dict[str, Any]:
    return {"aim": "several_professions", **overrides}


async def draft(actor: Actor, *, replaces: str | None = None, **sections: dict[str, Any]) -> dict[str, Any]:
    """A draft with the given sections saved (each must be valid)."""
    response = await actor.client.post("/v1/provider/applications", json={"replaces_odb_number": replaces} if replaces else None)
    assert response.status_code == 201, response.text
    application = response.json()
    for name, body in sections.items():
        saved = await actor.client.put(f"/v1/provider/applications/{application['application_id']}/sections/{name}", json=body)
        assert saved.status_code == 200, saved.text
        application = saved.json()
    return application


async def submit(actor: Actor, application_id: str, key: str | None = None) -> httpx.Response:
    return await actor.client.post(f"/v1/provider/applications/{application_id}/submit", headers={"idempotency-key": key or uuid.uuid4().hex})


async def submitted(actor: Actor, *, training_overrides: dict | None = None, analysis: dict | None = None, replaces: str | None = None) -> dict[str, Any]:
    """A complete application, submitted; returns the response body."""
    application = await draft(
        actor,
        replaces=replaces,
        contact=contact(),
        training=training(**(training_overrides or {})),
        self_analysis=analysis or self_analysis(),
        deciding_body=deciding_body(),
    )
    response = await submit(actor, application["application_id"])
    assert response.status_code == 200, response.text
    return response.json()


async def registered(actor: Actor, case_handler: Actor, **kwargs: Any) -> dict[str, Any]:
    """Submitted, forwarded to the commission and approved: the registered training's dossier."""
    application = await submitted(actor, **kwargs)
    assert application["status"] == "in_review", application
    path = f"/v1/back-office/applications/{application['application_id']}"
    forwarded = await case_handler.client.post(f"{path}/forward", json={})
    assert forwarded.status_code == 200, forwarded.text
    decided = await case_handler.client.post(f"{path}/decision", json={"outcome": "approved"})
    assert decided.status_code == 200, decided.text
    return decided.json()


def days(n: int) -> timedelta:
    return timedelta(days=n)
