"""What identity publishes: enough state for other services' projections, never a national
register number; the rights projection kept by another service's process from these events."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date

import httpx
import pytest

from devstack.config import REPO_ROOT
from service_runtime import calendar  # the Brussels date, as the services judge validity
from service_runtime.auth import holds_right
from service_runtime.clock import SystemClock
from tests.identity.conftest import national_register_number, sign_in
from tests.platform.helpers import connect, eventually, free_port, new_database, records_on_topic

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
async def registration(stack, world, tmp_path_factory):
    """The registration service as a second process, consuming identity's events."""
    database_url = await new_database(stack, "registration")
    port = free_port()
    env = {
        **os.environ,
        "REGISTRATION_DATABASE_URL": database_url,
        "REGISTRATION_HTTP_PORT": str(port),
        "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap,
        "JWKS_URL": world.url + "/.well-known/jwks.json",
    }
    with open(tmp_path_factory.mktemp("registration") / "registration.log", "ab") as log:  # the process writes to its own copy of the descriptor
        process = subprocess.Popen([sys.executable, "-m", "registration", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield database_url
    process.terminate()
    process.wait(30)


async def test_rights_granted_and_revoked_in_identity_reach_another_services_projection(world, registration):
    organisation_id, head = world.organisation_with_head("Projectiecentrum", "Pieter", sequence=401)
    eva = world.register_person(head, born=date(1989, 9, 9), sequence=403, first_name="Eva")
    assert head.post(f"/v1/organisations/{organisation_id}/members", {"person_id": str(eva)}).status_code == 204
    right = head.post(
        f"/v1/organisations/{organisation_id}/rights",
        {"person_id": str(eva), "role": "dwse_organisation_officer", "context": "training_database", "valid_from": calendar.today(SystemClock()).isoformat()},
    )
    assert right.status_code == 201

    connection = await connect(registration)
    try:

        async def holds() -> bool:
            return await holds_right(
                connection,
                person_id=eva,
                organisation_id=organisation_id,
                role="dwse_organisation_officer",
                context="training_database",
                on=calendar.today(SystemClock()),
            )

        await eventually(holds, what="the right in registration's projection")
        assert head.delete(f"/v1/organisations/{organisation_id}/rights/{right.json()['right_id']}").status_code == 204

        async def revoked() -> bool:
            return not await holds()

        await eventually(revoked, what="the revocation in registration's projection")
    finally:
        await connection.close()


async def test_no_event_carries_a_national_register_number_and_each_carries_the_state(world, stack):
    organisation_id, head = world.organisation_with_head("Privacycentrum", "Paula", sequence=405)
    number = national_register_number(date(1980, 1, 1 + 405 % 28), 405)
    everything = []
    for topic in ("identity.organisations", "identity.memberships", "identity.rights", "notification.requests"):
        everything += await records_on_topic(stack, topic)
    assert everything
    for record in everything:
        text = (record.value or b"").decode() + json.dumps([(k, v.decode()) for k, v in record.headers])
        assert number not in text and "85073003328" not in text and "national_register_number" not in text

    registered = [json.loads(r.value) for r in everything if dict(r.headers)["ce_type"] == b"be.vlaanderen.wse.identity.organisation_registered.v1"]
    mine = next(e for e in registered if e["organisation_id"] == str(organisation_id))
    assert mine["name"] == "Privacycentrum" and mine["quality_registration"]["status"] == "none"


async def test_id_8_a_right_request_asks_the_administrators_by_email_and_the_decision_tells_the_requester(world, stack):
    organisation_id, head = world.organisation_with_head("Mailcentrum", "Marc", sequence=407)
    fien = world.register_person(head, born=date(1997, 10, 10), sequence=409, first_name="Fien", email="fien@mail.example")
    assert head.post(f"/v1/organisations/{organisation_id}/members", {"person_id": str(fien)}).status_code == 204
    member = sign_in(world.url, national_register_number(date(1997, 10, 10), 409)).act_for(organisation_id)
    request_id = member.post(
        f"/v1/organisations/{organisation_id}/right-requests", {"role": "dwse_organisation_officer", "context": "training_leave", "reason": "Attesten indienen"}
    ).json()["request_id"]
    assert (
        head.post(
            f"/v1/organisations/{organisation_id}/right-requests/{request_id}/decision", {"approve": False, "reason": "Vraag het aan je directeur."}
        ).status_code
        == 200
    )

    async def notifications():
        found = [json.loads(r.value) for r in await records_on_topic(stack, "notification.requests", timeout_ms=1000)]
        mine = [n for n in found if n["reference"] == f"right-request/{request_id}"]
        return mine if len(mine) == 2 else None

    asked, told = await eventually(notifications, what="two notification requests")
    assert asked["template_id"] == "identity.right_requested"
    assert [r["email"] for r in asked["recipients"]] == ["marc@example.org"]  # the organisation's administrator
    assert asked["personalisation"]["requester_name"] == "Fien Peeters"
    assert told["template_id"] == "identity.right_request_decided"
    assert [r["email"] for r in told["recipients"]] == ["fien@mail.example"]
    assert told["personalisation"]["outcome"] == "refused" and told["personalisation"]["reason"] == "Vraag het aan je directeur."
    assert asked["idempotency_key"] != told["idempotency_key"]


async def test_the_quality_registration_recorded_by_an_operator_travels_with_the_organisation(world, stack):
    organisation_id = world.organisation("Kwaliteitscentrum")
    recorded = world.operator.put(
        f"/v1/organisations/{organisation_id}/quality-registration", {"status": "registered", "valid_from": "2026-01-01", "valid_until": "2028-12-31"}
    )
    assert recorded.status_code == 200, recorded.text
    backwards = world.operator.put(
        f"/v1/organisations/{organisation_id}/quality-registration", {"status": "registered", "valid_from": "2026-01-01", "valid_until": "2025-12-31"}
    )
    assert backwards.status_code == 422

    async def changed():
        events = [
            json.loads(r.value)
            for r in await records_on_topic(stack, "identity.organisations", timeout_ms=1000)
            if dict(r.headers)["ce_type"] == b"be.vlaanderen.wse.identity.organisation_changed.v1"
        ]
        return [e for e in events if e["organisation_id"] == str(organisation_id)]

    [event] = await eventually(changed, what="the organisation_changed event")
    assert event["quality_registration"] == {"status": "registered", "valid_from": "2026-01-01", "valid_until": "2028-12-31"}
