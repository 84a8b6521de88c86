"""The whole flow on the real stack: a training registered in the registration service (its real
runtime, its real event on Kafka), students enrolled and attested on it in the attestation
service, refused on the wrong number or dates, and a student's 32 hours reached across two
providers, seen by the department and by the student as a citizen."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from service_runtime import pii
from tests.attestation.conftest import attendance, enrolment, nrn
from tests.platform.helpers import eventually
from tests.registration.conftest import Actor, registered

pytestmark = pytest.mark.slow


async def _registered_training(registration, attestation, department) -> tuple[Actor, str, date]:
    """A provider whose training the registration service approved; the same staff member acting in the attestation service."""
    organisation_id = await registration.organisation()
    staff = await registration.actor(organisation_id=organisation_id, role="dwse_organisation_officer")
    case_handler = await registration.actor(organisation_id=department, role="case_handler")
    decided = await registered(staff, case_handler)
    odb_number = decided["odb_number"]
    holds_from = await eventually(
        lambda: attestation.fetchval("SELECT holds_from FROM trainings_projection WHERE odb_number = $1", odb_number),
        what="the attestation service to learn the registered training from registration's event",
    )
    return Actor(attestation.client(staff.client.headers["authorization"].split()[1]), organisation_id, staff.person_id), odb_number, holds_from


async def test_from_a_registered_training_to_the_32_hours_across_two_providers(registration, attestation, department, department_staff):
    # rule A-2, rule A-3, rule A-4, rule A-6, rule A-9, rule ID-10
    first, first_odb, holds_from = await _registered_training(registration, attestation, department)
    second, second_odb, _ = await _registered_training(registration, attestation, department)
    number = nrn(date(1979, 3, 14))
    # rule A-4: before the registration holds, refused with the date
    early = await first.client.post("/v1/provider/enrolments", json=enrolment(first_odb, number, starts_on=(holds_from - timedelta(days=1)).isoformat()))
    assert early.status_code == 422 and early.json()["errors"][0]["rule"] == "A-4" and holds_from.isoformat() in early.json()["errors"][0]["reason"]
    # registration's module runs 2027-02-01 .. 2027-06-30 (school year 2026-2027)
    at_first = enrolment(first_odb, number, starts_on="2027-02-01", ends_on="2027-06-30")
    at_second = enrolment(second_odb, number, starts_on="2027-02-01", ends_on="2027-06-30")
    for actor, body in ((first, at_first), (second, at_second)):
        made = await actor.client.post("/v1/provider/enrolments", json=body)
        assert made.status_code == 201 and made.json()["outcome"] == "accepted", made.text
    # rule A-3: the wrong number for the attendance
    wrong = await first.client.post(
        "/v1/provider/attendances", json=attendance(at_first, odb_number=second_odb, period_from="2027-02-01", period_to="2027-03-31")
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["rule"] == "A-3"
    for actor, body, hours in ((first, at_first, "16"), (second, at_second, "16")):
        made = await actor.client.post("/v1/provider/attendances", json=attendance(body, period_from="2027-02-01", period_to="2027-03-31", hours=hours))
        assert made.status_code == 201, made.text
        assert made.json()["receipt"]["accepted"] == 1  # rule A-9
    # rule A-6: 16 + 16 hours at two providers in 2026-2027 reach the 32
    student = pii.pseudonym(pii.keys_for(attestation.runtime.settings), number)
    [reached] = await attestation.events("attestation.entitlement_reached.v1", student_id=student)
    assert reached["school_year"] == "2026-2027" and reached["hours"] == "32.00" and reached["odb_number"] is None
    # the department's export for the reimbursement process (the one place the number is shown, audited)
    export = await department_staff.client.get("/v1/back-office/entitlements.csv", params={"school_year": "2026-2027"})
    assert export.status_code == 200 and number in export.text
    assert (
        await attestation.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'attestation.entitlements.export' AND actor_id = $1", department_staff.person_id
        )
        == 1
    )
    # rule ID-10: the student sees their own, and nothing of anyone else
    citizen = await attestation.citizen(number)
    mine = (await citizen.get("/v1/citizen/training-leave")).json()
    assert mine["school_years"] == [
        {"school_year": "2026-2027", "counted_hours": "32.00", "minimum_hours": "32", "reached": True, "combined_across_providers": True, "per_training": []}
    ]
    assert {a["odb_number"] for a in mine["attestations"]} == {first_odb, second_odb}
    stranger = await attestation.citizen(nrn(date(1979, 3, 15)))
    assert (await stranger.get("/v1/citizen/training-leave")).json() == {"school_years": [], "attestations": []}


async def test_a6_before_2021_2022_the_minimum_is_judged_per_training(attestation, provider, other_provider):
    # rule A-6: in 2020-2021 hours of two trainings do not add up; 32 at one of them does
    number = nrn(date(1970, 5, 5))
    modules = [{"name": "Deel 1", "hours": "40", "blended": False, "starts_on": "2020-09-15", "ends_on": "2021-06-30"}]
    first = await attestation.training(provider, holds_from=date(2020, 9, 1), modules=modules)
    second = await attestation.training(other_provider, holds_from=date(2020, 9, 1), modules=modules)
    bodies = [
        (provider, enrolment(first, number, module="Deel 1", starts_on="2020-09-15", ends_on="2021-06-30")),
        (other_provider, enrolment(second, number, module="Deel 1", starts_on="2020-09-15", ends_on="2021-06-30")),
    ]
    for actor, body in bodies:
        assert (await actor.client.post("/v1/provider/enrolments", json=body)).status_code == 201
        made = await actor.client.post("/v1/provider/attendances", json=attendance(body, period_from="2020-10-01", period_to="2020-12-31", hours="20"))
        assert made.status_code == 201, made.text
    student = pii.pseudonym(pii.keys_for(attestation.runtime.settings), number)
    assert await attestation.events("attestation.entitlement_reached.v1", student_id=student) == []
    actor, body = bodies[0]
    assert (
        await actor.client.post("/v1/provider/attendances", json=attendance(body, period_from="2021-01-01", period_to="2021-03-31", hours="12"))
    ).status_code == 201
    [reached] = await attestation.events("attestation.entitlement_reached.v1", student_id=student)
    assert (reached["school_year"], reached["odb_number"], reached["hours"]) == ("2020-2021", first, "32.00")
