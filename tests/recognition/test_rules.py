"""Who may do what, and bad input: each refusal names the field, the reason and the rule, and
changes nothing. On the real stack."""

from __future__ import annotations

import uuid
from datetime import timedelta

from recognition import domain
from tests.recognition.conftest import (
    back_office,
    complete_parts,
    decided,
    declaration,
    draft,
    examined,
    experience,
    project,
    simplified,
    submitted,
    territory,
)


async def test_e1_only_the_platos_officer_right_counts(recognition):
    # rule E-1, rule ID-6: dwse_organisation_officer in another context gives nothing in Platos
    organisation_id = await recognition.organisation()
    person_id = await recognition.grant(organisation_id=organisation_id, role="dwse_organisation_officer", context="training_database")
    client = recognition.client(recognition.token(person=person_id, organisation=organisation_id))
    refused = await client.post("/v1/provider/applications")
    assert refused.status_code == 403, refused.text
    assert await recognition.fetchval("SELECT count(*) FROM applications WHERE organisation_id = $1", organisation_id) == 0
    # and with the Platos right it works
    await recognition.grant(organisation_id=organisation_id, role="dwse_organisation_officer", context="platos", person_id=person_id)
    assert (await client.post("/v1/provider/applications")).status_code == 201


async def test_e1_another_organisations_application_is_refused_and_audited(recognition, provider, other_provider):
    # rule E-1, rule ID-12
    application = await draft(provider, project=project())
    path = f"/v1/provider/applications/{application['application_id']}"
    for response in (await other_provider.client.get(path), await other_provider.client.put(f"{path}/parts/simplified", json=simplified())):
        assert response.status_code == 403, response.text
    audited = await recognition.fetch(
        "SELECT outcome, acting_for, organisation_id, action FROM audit_log WHERE actor_id = $1 ORDER BY id", other_provider.person_id
    )
    # who tried, for which organisation, about whose dossier, what
    assert [(a["outcome"], a["acting_for"], a["organisation_id"]) for a in audited] == [
        ("denied", other_provider.organisation_id, provider.organisation_id)
    ] * 2
    assert audited[0]["action"] == f"GET {path}"
    mine = (await provider.client.get(path)).json()
    assert "simplified" not in mine["parts"]


async def test_e3_submitting_an_incomplete_application_lists_every_missing_part(provider):
    # rule E-3
    application = await draft(provider, project=project(), territory=territory())
    refused = await provider.client.post(f"/v1/provider/applications/{application['application_id']}/submit")
    assert refused.status_code == 422, refused.text
    assert [(e["field"], e["rule"]) for e in refused.json()["errors"]] == [
        ("parts.simplified", "E-3"),
        ("parts.experience", "E-3"),
        ("parts.declaration", "E-3"),
    ]
    assert (await provider.client.get(f"/v1/provider/applications/{application['application_id']}")).json()["status"] == "draft"


async def test_e3_a_simplified_group_applicant_is_not_asked_part_3(provider):
    # rule E-3
    application = await draft(provider, simplified=simplified("maatwerkbedrijf"))
    assert application["required_parts"] == ["project", "simplified", "territory", "declaration"]
    path = f"/v1/provider/applications/{application['application_id']}"
    refused = await provider.client.put(f"{path}/parts/experience", json=experience())
    assert refused.status_code == 422 and refused.json()["errors"][0]["rule"] == "E-3"
    for name, body in (("project", project()), ("territory", territory()), ("declaration", declaration())):
        assert (await provider.client.put(f"{path}/parts/{name}", json=body)).status_code == 200
    confirmed = await provider.client.post(f"{path}/submit")
    assert confirmed.status_code == 200, confirmed.text
    assert "experience" not in confirmed.json()["parts"]


async def test_every_field_rule_is_a_422_naming_the_field_and_the_rule(provider):
    # rule E-2, rule E-3, rule E-12
    application = await draft(provider)
    path = f"/v1/provider/applications/{application['application_id']}/parts"
    cases = [
        ("project", project(contact={"name": "A", "email": "not-an-email", "phone": "+32 9 123 45 67"}), "contact.email", "E-3"),
        ("simplified", {"simplified": True}, "group", "E-3"),
        ("experience", experience(motivation="Te kort."), "motivation", "E-2"),
        ("experience", experience(coaches=[]), "coaches", "E-2"),
        ("territory", territory(provinces=["henegouwen"]), "provinces.0", "E-2"),
        ("territory", territory(capacity=0), "capacity", "E-2"),
        ("territory", territory(subcontractors=[{"enterprise_number": "0403.170.702", "name": "X"}]), "subcontractors.0.enterprise_number", "E-11"),
        ("declaration", declaration(intervision=False), "intervision", "E-2"),
        ("declaration", declaration(report_changes=False), "report_changes", "E-12"),
    ]
    for name, body, field, rule in cases:
        refused = await provider.client.put(f"{path}/{name}", json=body)
        assert refused.status_code == 422, (name, refused.text)
        errors = refused.json()["errors"]
        assert (field, rule) in [(e["field"], e["rule"]) for e in errors], (name, errors)
    assert (await provider.client.get(f"/v1/provider/applications/{application['application_id']}")).json()["parts"] == {}


async def test_e11_a_subcontractor_that_is_not_recognised_is_named(recognition, provider, case_handler):
    # rule E-11
    subcontractor = await recognition.provider(name="Jobcoach Plus vzw")
    number = await recognition.fetchval("SELECT enterprise_number FROM organisations_projection WHERE organisation_id = $1", subcontractor.organisation_id)
    application = await draft(provider, project=project())
    path = f"/v1/provider/applications/{application['application_id']}/parts/territory"
    named = territory(subcontractors=[{"enterprise_number": number, "name": "Jobcoach Plus vzw"}])
    refused = await provider.client.put(path, json=named)
    assert refused.status_code == 422, refused.text
    error = refused.json()["errors"][0]
    assert error["field"] == "subcontractors[0].enterprise_number" and error["rule"] == "E-11" and "Jobcoach Plus vzw" in error["reason"]
    # once it is recognised itself, it may be named
    await decided(recognition, subcontractor, case_handler)
    assert (await provider.client.put(path, json=named)).status_code == 200


async def test_e11_providers_that_named_a_subcontractor_are_emailed_when_its_recognition_ends(recognition, provider, case_handler, clock):
    # rule E-11
    subcontractor = await recognition.provider(name="Samen Aan Het Werk vzw")
    number = await recognition.fetchval("SELECT enterprise_number FROM organisations_projection WHERE organisation_id = $1", subcontractor.organisation_id)
    sub = await decided(recognition, subcontractor, case_handler)
    main = await decided(
        recognition, provider, case_handler, territory=territory(subcontractors=[{"enterprise_number": number, "name": "Samen Aan Het Werk vzw"}])
    )
    # the subcontractor never coached anyone: it ends for inactivity two years on
    clock.set(
        clock.now()
        + (domain.inactivity_end_on(valid_from=recognition.today(), valid_until=domain.valid_until(recognition.today()), assignments=[]) - recognition.today())
    )
    await provider.client.post(
        f"/v1/provider/recognitions/{main['recognition']['recognition_id']}/assignments",
        json={"employer_name": "Bakkerij Peeters", "starts_on": (recognition.today() - timedelta(days=30)).isoformat()},
    )
    await recognition.run_due_jobs()
    assert [e["reason"] for e in await recognition.events("recognition.recognition_ended.v1", recognition_id=sub["recognition"]["recognition_id"])] == [
        "inactivity"
    ]
    emails = await recognition.emails(main["dossier_number"])
    assert emails[-1]["template_id"] == "recognition.subcontractor_ended"
    assert emails[-1]["personalisation"]["subcontractor_enterprise_number"] == number


async def test_e5_one_open_application_at_a_time_and_a_new_one_after_inadmissible(recognition, provider, case_handler):
    # rule E-5
    application = await submitted(provider)
    second = await provider.client.post("/v1/provider/applications")
    assert second.status_code == 409 and second.json()["rule"] == "E-5"
    assert application["dossier_number"] in second.json()["detail"]
    bare = await case_handler.client.post(f"{back_office(application)}/admissibility", json={"outcome": "inadmissible"})
    assert bare.status_code == 422 and bare.json()["errors"][0]["field"] == "reasons"
    judged = await case_handler.client.post(
        f"{back_office(application)}/admissibility", json={"outcome": "inadmissible", "reasons": "De lijst met begeleiders is onvolledig."}
    )
    assert judged.status_code == 200 and judged.json()["status"] == "inadmissible"
    email = (await recognition.emails(application["dossier_number"]))[-1]
    assert email["template_id"] == "recognition.admissibility" and email["personalisation"]["outcome"] == "inadmissible"  # rule N-3
    assert (await provider.client.post("/v1/provider/applications")).status_code == 201


async def test_the_same_idempotency_key_twice_gives_one_application(recognition, provider):
    key = uuid.uuid4().hex
    first = await provider.client.post("/v1/provider/applications", headers={"idempotency-key": key})
    again = await provider.client.post("/v1/provider/applications", headers={"idempotency-key": key})
    assert first.status_code == 201 and again.status_code == 201
    assert first.json()["application_id"] == again.json()["application_id"]
    assert await recognition.fetchval("SELECT count(*) FROM applications WHERE organisation_id = $1", provider.organisation_id) == 1
    bad = await provider.client.post("/v1/provider/applications", headers={"idempotency-key": "short"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "idempotency-key"


async def test_e12_a_reported_change_is_reviewed_and_may_withdraw_the_recognition(recognition, provider, case_handler, public_client):
    # rule E-12
    granted = await decided(recognition, provider, case_handler)
    recognition_id = granted["recognition"]["recognition_id"]
    reported = await provider.client.post(
        f"/v1/provider/recognitions/{recognition_id}/change-reports", json={"description": "Twee van onze vier begeleiders zijn vertrokken."}
    )
    assert reported.status_code == 201, reported.text
    report_id = reported.json()["change_reports"][0]["report_id"]
    queue = (await case_handler.client.get("/v1/back-office/change-reports", params={"limit": 100})).json()
    assert report_id in [r["report_id"] for r in queue["items"]]
    withdrawn = await case_handler.client.post(
        f"/v1/back-office/change-reports/{report_id}/review", json={"outcome": "withdrawn", "note": "Onvoldoende gekwalificeerde begeleiders."}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["end_reason"] == "withdrawal" and withdrawn.json()["recognised_today"] is False
    again = await case_handler.client.post(f"/v1/back-office/change-reports/{report_id}/review", json={"outcome": "noted", "note": "x"})
    assert again.status_code == 409
    listed = (await public_client.get("/v1/recognised-providers", params={"name": granted["organisation_name"]})).json()
    assert listed["items"] == []
    email = (await recognition.emails(granted["dossier_number"]))[-1]
    assert email["template_id"] == "recognition.ended" and email["personalisation"]["reason"] == "withdrawal"
    # after the end no change can be reported
    late = await provider.client.post(f"/v1/provider/recognitions/{recognition_id}/change-reports", json={"description": "x"})
    assert late.status_code == 409 and late.json()["rule"] == "E-12"


async def test_e9_an_assignment_names_no_employee(provider, recognition, case_handler):
    # rule E-9: dates and the employer only; an unknown field (a national register number) is refused
    granted = await decided(recognition, provider, case_handler)
    refused = await provider.client.post(
        f"/v1/provider/recognitions/{granted['recognition']['recognition_id']}/assignments",
        json={"employer_name": "X", "starts_on": recognition.today().isoformat(), "national_register_number": "85073003328"},
    )
    assert refused.status_code == 422
    assert "85073003328" not in refused.text


async def test_the_queue_puts_overdue_applications_first(recognition, case_handler, clock):
    # rule E-5, rule E-6: deadlines derived from facts; the queue sorts on them
    late = await submitted(await recognition.provider())
    clock.advance(timedelta(days=30))
    fresh_provider = await recognition.provider()
    examined_ = await examined(recognition, fresh_provider, case_handler)
    queue = (await case_handler.client.get("/v1/back-office/queue", params={"limit": 100})).json()["items"]
    ours = [i for i in queue if i["application_id"] in (late["application_id"], examined_["application_id"])]
    assert [(i["application_id"], i["overdue"]) for i in ours] == [(late["application_id"], True), (examined_["application_id"], False)]
    assert queue.index(ours[0]) < queue.index(ours[1])
    deadlines = [i["deadline"] for i in queue if i["deadline"]]
    assert deadlines == sorted(deadlines)
    filtered = (await case_handler.client.get("/v1/back-office/queue", params={"status": "in_examination", "limit": 100})).json()["items"]
    assert {i["status"] for i in filtered} == {"in_examination"}
    bad = await case_handler.client.get("/v1/back-office/queue", params={"status": "granted"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"


async def test_a_provider_cannot_use_the_back_office(provider):
    # deny unless a rule allows
    assert (await provider.client.get("/v1/back-office/queue")).status_code == 403


async def test_complete_parts_are_what_submitting_needs(provider):
    assert set(complete_parts()) == set(domain.PARTS)
