"""Acceptance testers move a running environment's clock (issue 10, point 9): a registration
service runs as a real process with an adjustable clock; `./dev clock advance 8d` (here the same
function on the test stack) moves it without a restart, and a training stopped next week leaves
the public register (R-23)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
import pytest

from devstack import clock as dev_clock
from service_runtime import calendar
from service_runtime.clock import SystemClock
from tests.platform.helpers import ServiceProcess, connect, eventually, new_database, unique
from tests.registration.conftest import Actor, registered
from wse_contracts.identity import OrganisationRegisteredV1, QualityRegistration, RightGrantedV1

pytestmark = pytest.mark.slow


def registration_process(stack, *, database_url: str, jwks_url: str, log_path) -> ServiceProcess:
    """`python -m registration serve` on a database of its own, on the test stack's Kafka, its clock adjustable."""
    process = ServiceProcess("registration", name="registration", log_path=log_path, env={})
    process.env.update(
        {
            "REGISTRATION_DATABASE_URL": database_url,
            "REGISTRATION_HTTP_PORT": str(process.port),
            "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap,
            "JWKS_URL": jwks_url,
            "JWKS_MIN_REFRESH_SECONDS": "0",
            "PLATFORM_ENVIRONMENT": "test",
            "ADJUSTABLE_CLOCK": "true",
            # Its own consumer groups: the in-process registration runtime of the other tests keeps its partitions.
            "CONSUMER_GROUP_PREFIX": unique("clock") + ".",
        }
    )
    return process


def health(service: ServiceProcess) -> dict:
    return httpx.get(service.url + "/health/ready", timeout=2).json()


async def test_advancing_the_clock_moves_a_running_service_and_a_stopped_training_leaves_the_register(stack, registration, department, tmp_path):
    await dev_clock.move(stack, "reset", None)  # whatever an interrupted run left
    service = registration_process(
        stack, database_url=await new_database(stack, "clock"), jwks_url=registration.runtime.settings.jwks_url, log_path=tmp_path / "registration.log"
    )
    db = None
    try:
        service.start(wait=False)
        service.wait_ready(timeout=90)
        assert health(service)["clock"]["offset"] == "+0s"
        db = await connect(service.env["REGISTRATION_DATABASE_URL"])

        async def learned(query: str, *args: object) -> object:
            return await eventually(lambda: db.fetchval(query, *args), what="the process to learn identity's events")

        # Identity's side, as events on Kafka: the department (published earlier in the run), a
        # quality-registered provider, and the rights of its staff member and of a case handler.
        await learned("SELECT 1 FROM organisations_projection WHERE organisation_id = $1", department)
        provider_id = uuid.uuid4()
        await registration.publish(
            OrganisationRegisteredV1(
                organisation_id=provider_id,
                name="Opleidingscentrum Klok",
                kind="training_provider",
                quality_registration=QualityRegistration(status="registered", valid_from=date(2020, 1, 1)),
            )
        )
        people = {}
        for organisation_id, role in ((provider_id, "dwse_organisation_officer"), (department, "case_handler")):
            person_id, right_id = uuid.uuid4(), uuid.uuid4()
            await registration.publish(
                RightGrantedV1(
                    right_id=right_id, person_id=person_id, organisation_id=organisation_id, role=role, context="training_database", valid_from=date(2020, 1, 1)
                )
            )
            await learned("SELECT 1 FROM rights_projection WHERE right_id = $1", right_id)
            token = registration.token(person=person_id, organisation=organisation_id)
            people[role] = Actor(httpx.AsyncClient(base_url=service.url, headers={"authorization": f"Bearer {token}"}, timeout=30), organisation_id, person_id)
        await learned("SELECT 1 FROM organisations_projection WHERE organisation_id = $1", provider_id)

        # A registered training that stops next week (R-23: it stays in the register until then).
        provider = people["dwse_organisation_officer"]
        odb_number = (await registered(provider, people["case_handler"]))["odb_number"]
        today = calendar.today(SystemClock())
        stop_on = today + timedelta(days=7)
        stopped = await provider.client.post(f"/v1/provider/trainings/{odb_number}/stop", json={"stop_on": stop_on.isoformat(), "reason": "laatste sessie"})
        assert stopped.status_code == 200, stopped.text
        public = httpx.AsyncClient(base_url=service.url, timeout=30)
        listed = await public.get(f"/v1/register/trainings/{odb_number}")
        assert listed.status_code == 200 and listed.json()["stop_on"] == stop_on.isoformat()

        # ./dev clock advance 8d: the running process follows, without a restart.
        rows = await dev_clock.move(stack, "advance", "8d")
        assert rows  # what ./dev clock prints
        pid = service.process.pid

        async def moved() -> bool:
            return health(service)["clock"]["offset"] == "+8d"

        await eventually(moved, what="the running service to follow the clock")
        assert service.process.pid == pid and service.process.poll() is None
        assert date.fromisoformat(health(service)["clock"]["now"][:10]) >= today + timedelta(days=7)
        gone = await public.get(f"/v1/register/trainings/{odb_number}")
        assert gone.status_code == 404, gone.text
        found = await public.get("/v1/register/trainings", params={"odb_number": odb_number})
        assert found.status_code == 200 and found.json()["items"] == []
        # Every log line says the clock is moved.
        assert '"clock_offset":"+8d"' in service.log_path.read_text().replace(" ", "")

        # Back to real time: the training is in the register again until next week.
        await dev_clock.move(stack, "reset", None)

        async def back() -> bool:
            return health(service)["clock"]["offset"] == "+0s"

        await eventually(back, what="the service to follow the reset")
        assert (await public.get(f"/v1/register/trainings/{odb_number}")).status_code == 200
    finally:
        await dev_clock.move(stack, "reset", None)
        service.terminate()
        if db is not None:
            await db.close()
