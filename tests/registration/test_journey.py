"""The manual's whole journey through the API, on real PostgreSQL and Kafka: organisation data,
draft, submit, back office, decision, public register, stop, gone on the date."""

from __future__ import annotations

import pytest

from tests.registration.conftest import contact, days, deciding_body, draft, self_analysis, submit, training

pytestmark = pytest.mark.slow


async def test_draft_submit_decide_register_stop(registration, provider, case_handler, clock):
    # Organisation data, entered once.
    data = await provider.client.put("/v1/provider/organisation", json={"contact": contact(), "general_contact": contact(name="Algemeen")})
    assert data.status_code == 200, data.text
    application = await draft(provider, training=training(), self_analysis=self_analysis(), deciding_body=deciding_body())
    assert application["sections"]["contact"]["email"] == contact()["email"]  # proposed from the organisation data
    submitted = await submit(provider, application["application_id"])
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "in_review"
    path = f"/v1/back-office/applications/{application['application_id']}"
    assert (await case_handler.client.post(f"{path}/forward", json={})).status_code == 200
    decided = await case_handler.client.post(f"{path}/decision", json={"outcome": "approved"})
    assert decided.status_code == 200, decided.text
    odb_number = decided.json()["odb_number"]
    assert odb_number.startswith("ODB-")
    trainings = (await provider.client.get("/v1/provider/trainings")).json()["items"]
    assert [t["odb_number"] for t in trainings] == [odb_number]
    stop_on = (clock.now() + days(10)).date()
    stopped = await provider.client.post(
        f"/v1/provider/trainings/{odb_number}/stop", json={"stop_on": stop_on.isoformat(), "reason": "niet meer georganiseerd"}
    )
    assert stopped.status_code == 200, stopped.text
    emails = [e["template_id"] for e in await registration.emails()]
    assert "registration.application_submitted" in emails and "registration.application_decided" in emails
