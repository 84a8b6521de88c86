"""A term proved with the environment's clock on a running system (as acceptance testers do under
`./dev up`): the recognition service runs as a real process with an adjustable clock, an
application is submitted through its HTTP API, the service's own operator command
`python -m recognition clock advance 8d` moves the clock over Kafka, and the running process,
without a restart, shows the application overdue in the case handlers' queue (E-5: admissibility
is judged within 7 days)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from datetime import date, timedelta

import httpx
import pytest

from devstack import clock as dev_clock
from devstack.config import REPO_ROOT
from tests.platform.helpers import ServiceProcess, connect, eventually, new_database, unique
from tests.recognition.conftest import enterprise_number, submitted
from tests.registration.conftest import Actor
from wse_contracts.identity import OrganisationRegisteredV1, QualityRegistration, RightGrantedV1

pytestmark = pytest.mark.slow


def recognition_process(stack, *, database_url: str, jwks_url: str, log_path) -> ServiceProcess:
    """`python -m recognition serve` on a database of its own, on the test stack's Kafka, its clock adjustable."""
    process = ServiceProcess("recognition", name="recognition", log_path=log_path, env={})
    process.env.update(
        {
            "RECOGNITION_DATABASE_URL": database_url,
            "RECOGNITION_HTTP_PORT": str(process.port),
            "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap,
            "JWKS_URL": jwks_url,
            "JWKS_MIN_REFRESH_SECONDS": "0",
            "PLATFORM_ENVIRONMENT": "test",
            "ADJUSTABLE_CLOCK": "true",
            # Its own consumer groups: the in-process recognition runtime of the other tests keeps its partitions.
            "CONSUMER_GROUP_PREFIX": unique("clock") + ".",
        }
    )
    return process


async def clock_command(service: ServiceProcess, *args: str) -> dict:
    """The service's operator command, `python -m recognition clock ...`, with the service's settings
    (in a thread: the in-process runtimes of the session keep running meanwhile)."""
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "recognition", "clock", *args],
        env={**service.process_env(), "RECOGNITION_LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def clock_of(service: ServiceProcess) -> dict:
    return httpx.get(service.url + "/health/ready", timeout=2).json()["clock"]


async def test_e5_advancing_the_clock_makes_a_submitted_application_overdue_in_the_running_service(stack, registration, department, tmp_path):
    # rule E-5: admissibility is judged within 7 days of submission; the queue says when it is not.
    await dev_clock.move(stack, "reset", None)  # whatever an interrupted run left
    service = recognition_process(
        stack,
        database_url=await new_database(stack, "recognition_clock"),
        jwks_url=registration.runtime.settings.jwks_url,
        log_path=tmp_path / "recognition.log",
    )
    db = None
    people: dict[str, Actor] = {}
    try:
        service.start(wait=False)
        service.wait_ready(timeout=90)
        assert clock_of(service)["offset"] == "+0s"
        db = await connect(service.env["RECOGNITION_DATABASE_URL"])

        async def learned(query: str, *args: object) -> object:
            return await eventually(lambda: db.fetchval(query, *args), what="the process to learn identity's events")

        # Identity's side, as events on Kafka: the department (published earlier in the run), a
        # quality-registered service provider, a staff member of it with
        # dwse_organisation_officer@platos (E-1) and a case handler of the department.
        await learned("SELECT 1 FROM organisations_projection WHERE organisation_id = $1", department)
        provider_id = uuid.uuid4()
        await registration.publish(
            OrganisationRegisteredV1(
                organisation_id=provider_id,
                name=f"Jobcoaching Klok {provider_id.hex[:6]} vzw",
                kind="service_provider",
                enterprise_number=enterprise_number(),
                quality_registration=QualityRegistration(status="registered", valid_from=date(2020, 1, 1)),
            )
        )
        for organisation_id, role in ((provider_id, "dwse_organisation_officer"), (department, "case_handler")):
            person_id, right_id = uuid.uuid4(), uuid.uuid4()
            await registration.publish(
                RightGrantedV1(
                    right_id=right_id, person_id=person_id, organisation_id=organisation_id, role=role, context="platos", valid_from=date(2020, 1, 1)
                )
            )
            await learned("SELECT 1 FROM rights_projection WHERE right_id = $1", right_id)
            token = registration.token(person=person_id, organisation=organisation_id)
            people[role] = Actor(httpx.AsyncClient(base_url=service.url, headers={"authorization": f"Bearer {token}"}, timeout=30), organisation_id, person_id)
        await learned("SELECT 1 FROM organisations_projection WHERE organisation_id = $1", provider_id)
        provider, case_handler = people["dwse_organisation_officer"], people["case_handler"]

        # Submitted through the HTTP API (all five parts, E-3): admissibility is due 7 days later.
        confirmation = await submitted(provider)
        submitted_on = date.fromisoformat(confirmation["submitted_on"])
        due = date.fromisoformat(confirmation["admissibility_due_on"])
        ours = {"organisation_id": str(provider_id)}

        async def queue(**params: str) -> list[tuple[str, str, bool]]:
            answer = await case_handler.client.get("/v1/back-office/queue", params={**ours, **params})
            assert answer.status_code == 200, answer.text
            return [(i["application_id"], i["deadline"], i["overdue"]) for i in answer.json()["items"]]

        application_id = confirmation["application_id"]
        assert await queue() == [(application_id, due.isoformat(), False)]
        assert await queue(overdue="true") == []

        # 8 days on, the 7 days of E-5 are over. (When the seventh day is a Saturday, Sunday or public
        # holiday the term ends on the next working day, Judicial Code art. 53: then a day or two more.)
        days = max(8, (due - submitted_on).days + 1)
        moved_to = await clock_command(service, "advance", f"{days}d")
        assert moved_to["offset_seconds"] == days * 86400
        pid = service.process.pid

        async def following() -> bool:
            return clock_of(service)["offset_seconds"] == days * 86400

        await eventually(following, what="the running service to follow the clock")
        assert service.process.pid == pid and service.process.poll() is None  # no restart
        assert date.fromisoformat(clock_of(service)["now"][:10]) >= submitted_on + timedelta(days=days - 1)

        # The same application, the same deadline (derived from the stored submission day), now overdue.
        assert await queue() == [(application_id, due.isoformat(), True)]
        assert await queue(overdue="true") == [(application_id, due.isoformat(), True)]
        detail = (await case_handler.client.get(f"/v1/back-office/applications/{application_id}")).json()
        assert detail["status"] == "submitted" and detail["deadline"] == due.isoformat()

        # Back to real time: within the 7 days again.
        assert (await clock_command(service, "reset"))["offset_seconds"] == 0

        async def back() -> bool:
            return clock_of(service)["offset_seconds"] == 0

        await eventually(back, what="the service to follow the reset")
        assert await queue(overdue="true") == []
    finally:
        await dev_clock.move(stack, "reset", None)
        service.terminate()
        for person in people.values():
            await person.client.aclose()
        if db is not None:
            await db.close()
