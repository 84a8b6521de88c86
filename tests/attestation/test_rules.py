"""Every rule A-1 to A-9 through the API on the real stack (Kafka, PostgreSQL): attestations
checked against registration's trainings as its events describe them."""

from __future__ import annotations

import json
from datetime import date

from service_runtime import pii
from tests.attestation.conftest import attendance, enrolment, nrn
from tests.platform.helpers import eventually


async def test_a1_the_right_in_training_database_or_training_leave(attestation):
    # rule A-1, rule ID-8: either context gives the right; another context nothing, and the refusal says how to ask
    for context in ("training_database", "training_leave"):
        staff = await attestation.provider(context=context)
        odb = await attestation.training(staff)
        assert (await staff.client.post("/v1/provider/enrolments", json=enrolment(odb, nrn()))).status_code == 201
    platos = await attestation.provider(context="platos")
    refused = await platos.client.post("/v1/provider/enrolments", json=enrolment("ODB-1", nrn()))
    assert refused.status_code == 403
    assert "dwse_organisation_officer in context training_database or training_leave" in refused.json()["detail"]
    assert "right-requests" in refused.json()["detail"]
    # ... and names it in a form a portal can offer to request (ID-8)
    assert refused.json()["rule"] == "ID-8"
    assert refused.json()["required_right"] == {"role": "dwse_organisation_officer", "contexts": ["training_database", "training_leave"]}


async def test_a2_a9_an_enrolment_with_its_receipt_and_the_number_protected(attestation, provider):
    # rule A-2, rule A-9
    odb = await attestation.training(provider)
    number = nrn()
    body = enrolment(odb, number)
    attested = await provider.client.post("/v1/provider/enrolments", json=body)
    assert attested.status_code == 201, attested.text
    answer = attested.json()
    assert answer["outcome"] == "accepted"
    assert answer["receipt"]["receipt_number"].startswith("ONT-") and answer["receipt"]["accepted"] == 1
    assert answer["attestation"]["school_year"] == "2026-2027"
    assert number not in attested.text  # never in an answer
    # stored encrypted, found by its blind index; never in an event
    row = await attestation.fetch(
        "SELECT nrn_encrypted, key_id FROM students WHERE nrn_index = $1", pii.blind_index(pii.keys_for(attestation.runtime.settings), number)
    )
    assert number.encode() not in bytes(row[0]["nrn_encrypted"]) and row[0]["key_id"]
    events = await attestation.events("attestation.enrolment_attested.v1", attestation_id=answer["attestation"]["attestation_id"])
    assert len(events) == 1 and number not in json.dumps(events)
    # the same again: stored once
    again = await provider.client.post("/v1/provider/enrolments", json=body)
    assert again.json()["outcome"] == "unchanged" and again.json()["attestation"]["attestation_id"] == answer["attestation"]["attestation_id"]
    # the receipt is retrievable later
    receipt = await provider.client.get(f"/v1/provider/receipts/{answer['receipt']['receipt_id']}")
    assert receipt.status_code == 200 and receipt.json()["accepted"] == 1


async def test_a2_bad_input_names_the_field_and_the_rule_and_never_the_number(attestation, provider):
    # rule A-2
    odb = await attestation.training(provider)
    wrong = "85073003329"  # a check digit off
    refused = await provider.client.post("/v1/provider/enrolments", json=enrolment(odb, wrong))
    assert refused.status_code == 422
    assert [(e["field"], e["rule"]) for e in refused.json()["errors"]] == [("national_register_number", "A-2")]
    assert wrong not in refused.text


async def test_a4_the_registration_must_hold_on_the_start_date_and_not_after_a_stop(attestation, provider):
    # rule A-4
    odb = await attestation.training(provider, holds_from=date(2026, 10, 1))
    early = await provider.client.post("/v1/provider/enrolments", json=enrolment(odb, nrn()))
    assert early.status_code == 422 and early.json()["errors"][0]["rule"] == "A-4" and "2026-10-01" in early.json()["errors"][0]["reason"]
    assert (await provider.client.post("/v1/provider/enrolments", json=enrolment(odb, nrn(), starts_on="2026-10-01"))).status_code == 201
    await attestation.stop(provider, odb, date(2026, 11, 1))
    late = await provider.client.post("/v1/provider/enrolments", json=enrolment(odb, nrn(), starts_on="2026-11-01"))
    assert late.status_code == 422 and late.json()["errors"][0]["rule"] == "A-4"


async def test_a3_attendance_on_another_number_than_the_enrolment_is_refused(attestation, provider):
    # rule A-3
    odb, other = await attestation.training(provider), await attestation.training(provider)
    enrolled = enrolment(odb, nrn())
    assert (await provider.client.post("/v1/provider/enrolments", json=enrolled)).status_code == 201
    refused = await provider.client.post("/v1/provider/attendances", json=attendance(enrolled, odb_number=other))
    assert refused.status_code == 422 and refused.json()["errors"][0]["rule"] == "A-3"
    assert (await provider.client.post("/v1/provider/attendances", json=attendance(enrolled))).status_code == 201
    unknown = await provider.client.post("/v1/provider/attendances", json=attendance({**enrolled, "reference": "NOPE"}))
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["rule"] == "A-3"


async def test_a7_a_training_over_more_than_two_school_years_is_refused(attestation, provider):
    # rule A-7
    odb = await attestation.training(provider)
    refused = await provider.client.post("/v1/provider/enrolments", json=enrolment(odb, nrn(), ends_on="2028-09-30"))
    assert refused.status_code == 422 and refused.json()["errors"][0]["rule"] == "A-7"
    assert (await provider.client.post("/v1/provider/enrolments", json=enrolment(odb, nrn(), ends_on="2028-06-30"))).status_code == 201


async def test_a8_after_a_replacement_enrolled_students_stay_on_the_old_number(attestation, provider):
    # rule A-8
    old = await attestation.training(provider)
    enrolled = enrolment(old, nrn())
    assert (await provider.client.post("/v1/provider/enrolments", json=enrolled)).status_code == 201
    new = await attestation.training(provider, replaces=old)
    await attestation.replace(provider, old, new)
    # attendance of an enrolled student stays on the old number
    assert (await provider.client.post("/v1/provider/attendances", json=attendance(enrolled))).status_code == 201
    refused = await provider.client.post("/v1/provider/attendances", json=attendance(enrolled, odb_number=new))
    assert refused.status_code == 422 and refused.json()["errors"][0]["rule"] == "A-3"
    # a new student goes to the new number
    newcomer = await provider.client.post("/v1/provider/enrolments", json=enrolment(old, nrn()))
    assert newcomer.status_code == 422 and newcomer.json()["errors"][0]["rule"] == "A-8" and new in newcomer.json()["errors"][0]["reason"]
    assert (await provider.client.post("/v1/provider/enrolments", json=enrolment(new, nrn()))).status_code == 201


async def test_an_unknown_number_is_held_and_judged_when_the_training_arrives(attestation, provider):
    # events can lag the provider: held, not refused
    odb = f"ODB-{9_000_000 + int(provider.organisation_id.int % 1_000_000)}"
    enrolled = enrolment(odb, nrn())
    held = await provider.client.post("/v1/provider/enrolments", json=enrolled)
    assert held.status_code == 201 and held.json()["outcome"] == "held" and held.json()["receipt"]["held"] == 1
    assert (await provider.client.post("/v1/provider/attendances", json=attendance(enrolled))).json()["outcome"] == "held"
    await attestation.training(provider, odb_number=odb, wait=False)
    attestation_id = held.json()["attestation"]["attestation_id"]
    await eventually(
        lambda: attestation.fetchval("SELECT status = 'accepted' FROM enrolments WHERE enrolment_id = $1", attestation_id), what="the held enrolment accepted"
    )
    assert await attestation.fetchval("SELECT status FROM attendances WHERE enrolment_id = $1", attestation_id) == "accepted"
    assert await attestation.events("attestation.enrolment_attested.v1", attestation_id=attestation_id)


async def test_a5_a6_32_hours_across_two_providers_with_blended_modules_counting_once_completed(attestation, provider, other_provider, department_staff):
    # rule A-5, rule A-6
    number = nrn(date(1990, 1, 1))
    first = await attestation.training(provider)
    blended = await attestation.training(
        other_provider, modules=[{"name": "Online", "hours": "20", "blended": True, "starts_on": "2026-09-15", "ends_on": "2027-06-30"}], blended=True
    )
    at_first = enrolment(first, number)
    at_second = enrolment(blended, number, module="Online")
    for actor, body in ((provider, at_first), (other_provider, at_second)):
        assert (await actor.client.post("/v1/provider/enrolments", json=body)).status_code == 201
    assert (await provider.client.post("/v1/provider/attendances", json=attendance(at_first, hours="20"))).status_code == 201
    assert (await other_provider.client.post("/v1/provider/attendances", json=attendance(at_second, hours="14"))).status_code == 201
    student = pii.pseudonym(pii.keys_for(attestation.runtime.settings), number)
    assert await attestation.events("attestation.entitlement_reached.v1", student_id=student) == []  # not completed yet
    completed = await other_provider.client.post(
        "/v1/provider/attendances", json=attendance(at_second, period_from="2027-01-01", period_to="2027-03-31", hours="0", completed=True)
    )
    assert completed.status_code == 201, completed.text
    [reached] = await attestation.events("attestation.entitlement_reached.v1", student_id=student)
    assert reached["school_year"] == "2026-2027" and reached["hours"] == "34.00"
    # the department sees it per student (the number in the body; the read audited)
    seen = await department_staff.client.post("/v1/back-office/students", json={"national_register_number": number})
    assert seen.status_code == 200, seen.text
    year = seen.json()["school_years"][0]
    assert year["reached"] is True and year["counted_hours"] == "34.00" and year["combined_across_providers"] is True
    assert seen.json()["national_register_number"] == pii.mask(number) and number not in seen.text
    assert (
        await attestation.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'attestation.student.read' AND subject = $1 AND actor_id = $2", student, department_staff.person_id
        )
        == 1
    )
    # and the citizen sees their own
    citizen = await attestation.citizen(number)
    mine = (await citizen.get("/v1/citizen/training-leave")).json()
    assert mine["school_years"][0]["reached"] is True and len(mine["attestations"]) == 5


async def test_another_organisations_attestation_is_invisible_and_the_attempt_audited(attestation, provider, other_provider):
    odb = await attestation.training(provider)
    made = (await provider.client.post("/v1/provider/enrolments", json=enrolment(odb, nrn()))).json()
    path = f"/v1/provider/enrolments/{made['attestation']['attestation_id']}"
    assert (await other_provider.client.get(path)).status_code == 404
    assert (await other_provider.client.get(f"/v1/provider/receipts/{made['receipt']['receipt_id']}")).status_code == 404
    assert (await other_provider.client.delete(path)).status_code == 404
    assert (await provider.client.get(path)).status_code == 200
    # not found for the other provider, and the attempt audited (about whose attestation it was)
    audited = await attestation.fetch("SELECT outcome, acting_for, organisation_id FROM audit_log WHERE actor_id = $1 ORDER BY id", other_provider.person_id)
    assert [(a["outcome"], a["acting_for"], a["organisation_id"]) for a in audited] == [
        ("denied", other_provider.organisation_id, provider.organisation_id)
    ] * 3


async def test_a_correction_is_a_new_version_and_a_withdrawal_is_kept(attestation, provider):
    odb = await attestation.training(provider)
    body = enrolment(odb, nrn())
    made = (await provider.client.post("/v1/provider/enrolments", json=body)).json()
    attestation_id = made["attestation"]["attestation_id"]
    corrected = await provider.client.put(f"/v1/provider/enrolments/{attestation_id}", json={**body, "ends_on": "2027-05-31"})
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["attestation"]["version"] == 2 and corrected.json()["attestation"]["ends_on"] == "2027-05-31"
    history = (await provider.client.get(f"/v1/provider/enrolments/{attestation_id}/history")).json()
    assert [(h["version"], h["action"], h["content"]["ends_on"]) for h in history] == [(1, "corrected", "2027-06-30")]
    withdrawn = await provider.client.delete(f"/v1/provider/enrolments/{attestation_id}")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert [h["action"] for h in (await provider.client.get(f"/v1/provider/enrolments/{attestation_id}/history")).json()] == ["corrected", "withdrawn"]


async def test_the_departments_search_is_audited(attestation, provider, department_staff):
    # rule ID-12: every read of students' data by the back office
    odb = await attestation.training(provider)
    assert (await provider.client.post("/v1/provider/enrolments", json=enrolment(odb, nrn()))).status_code == 201
    found = await department_staff.client.get("/v1/back-office/attestations", params={"odb_number": odb})
    assert found.status_code == 200 and len(found.json()["items"]) == 1
    assert found.json()["items"][0]["attended_hours"] == "0"
    [entry] = await attestation.fetch("SELECT action, subject, details FROM audit_log WHERE actor_id = $1", department_staff.person_id)
    assert entry["action"] == "attestation.search" and entry["subject"] == odb and entry["details"]["answered"] == 1
    assert (await provider.client.get("/v1/back-office/attestations")).status_code == 403


async def test_a_version_is_replaced_once(attestation, provider):
    # Two corrections read at the same moment would both replace version 1: the second one's
    # history entry now conflicts, so its transaction is rolled back and retried on version 2.
    import asyncpg
    import pytest

    odb = await attestation.training(provider)
    body = enrolment(odb, nrn())
    made = (await provider.client.post("/v1/provider/enrolments", json=body)).json()
    path = f"/v1/provider/enrolments/{made['attestation']['attestation_id']}"
    assert (await provider.client.put(path, json={**body, "ends_on": "2027-05-31"})).status_code == 200
    with pytest.raises(asyncpg.UniqueViolationError):
        await attestation.fetch(
            "INSERT INTO attestation_history (kind, attestation_id, version, content, replaced_at, action) VALUES ('enrolment', $1, 1, '{}', now(), 'corrected')",
            made["attestation"]["attestation_id"],
        )
    assert [h["version"] for h in (await provider.client.get(f"{path}/history")).json()] == [1]
