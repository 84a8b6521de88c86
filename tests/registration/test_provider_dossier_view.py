"""What a provider's portal needs to show a dossier and a training (issue 14): the dossier's
history as the provider may see it, and one registered training of its own, also once stopped."""

from __future__ import annotations

import pytest

from tests.registration.conftest import days, registered, submitted

pytestmark = pytest.mark.slow


async def test_r22_the_provider_sees_its_dossiers_history_without_the_back_offices_advice(provider, case_handler):
    application = await submitted(provider)
    path = f"/v1/back-office/applications/{application['application_id']}"
    asked = await case_handler.client.post(f"{path}/information-requests", json={"question": "Stuur het lesprogramma."})
    assert asked.status_code == 201, asked.text
    answered = await provider.client.post(f"/v1/provider/applications/{application['application_id']}/answer", json={"answer": "In bijlage."})
    assert answered.status_code == 200, answered.text
    forwarded = await case_handler.client.post(f"{path}/forward", json={"advice": "intern advies: positief"})
    assert forwarded.status_code == 200, forwarded.text

    seen = (await provider.client.get(f"/v1/provider/applications/{application['application_id']}")).json()
    actions = [entry["action"] for entry in seen["timeline"]]
    assert actions == ["draft_created", "submitted", "information_requested", "information_received", "forwarded"]
    assert seen["timeline"][1]["details"] == {"status": "in_review", "rule": None}
    assert "due_on" in seen["timeline"][2]["details"]
    assert seen["timeline"][4]["details"] == {"deciding_body": "commission"}
    # Never the advice, nor who of the department acted.
    assert "intern advies" not in str(seen) and all("actor_id" not in entry for entry in seen["timeline"]) and "history" not in seen
    # The back office still sees everything.
    full = (await case_handler.client.get(path)).json()
    assert full["history"][4]["details"]["advice"] == "intern advies: positief"
    assert full["history"][4]["actor_id"] == str(case_handler.person_id)


async def test_r22_one_registered_training_of_its_own_also_once_stopped(provider, other_provider, case_handler, clock):
    odb_number = (await registered(provider, case_handler))["odb_number"]
    found = await provider.client.get(f"/v1/provider/trainings/{odb_number.lower()}")
    assert found.status_code == 200, found.text
    assert found.json()["odb_number"] == odb_number and found.json()["stop_on"] is None
    stop_on = (clock.now() + days(5)).date()
    stopped = await provider.client.post(f"/v1/provider/trainings/{odb_number}/stop", json={"stop_on": stop_on.isoformat(), "reason": "niet meer"})
    assert stopped.status_code == 200, stopped.text
    again = (await provider.client.get(f"/v1/provider/trainings/{odb_number}")).json()
    assert again["stop_on"] == stop_on.isoformat() and again["stop_reason"] == "niet meer"
    # Another organisation's training is refused; an unknown number is not found.
    assert (await other_provider.client.get(f"/v1/provider/trainings/{odb_number}")).status_code == 403
    assert (await provider.client.get("/v1/provider/trainings/ODB-999999999")).status_code == 404
