"""Every ODB rule of domain.md (R-1..R-26, N-1) over the API, on real PostgreSQL and Kafka.
Terms are proven by moving the service's clock and running its due jobs, never by sleeping."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from service_runtime import calendar
from service_runtime.calendar import BRUSSELS, add_months
from tests.registration.conftest import (
    contact,
    days,
    deciding_body,
    draft,
    module,
    registered,
    self_analysis,
    submit,
    submitted,
    training,
)

pytestmark = pytest.mark.slow


def problems(response) -> dict[str, str]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return {e["field"]: e["reason"] for e in response.json().get("errors", [])}


async def save(actor, application_id, name, body):
    return await actor.client.put(f"/v1/provider/applications/{application_id}/sections/{name}", json=body)


# -------------------------------------------------------------------------------


async def test_r1_only_holders_of_the_officer_right_for_training_database_may_apply(registration):
    # rule R-1
    organisation_id = await registration.organisation()
    other_right = await registration.actor(organisation_id=organisation_id, role="dwse_organisation_officer")
    assert (await other_right.client.post("/v1/provider/applications")).status_code == 201
    person = await registration.grant(organisation_id=organisation_id, role="dwse_organisation_officer", context="platos")
    platos_only = registration.client(registration.token(person=person, organisation=organisation_id))
    refused = await platos_only.post("/v1/provider/applications")
    assert refused.status_code == 403
    assert await registration.fetchval("SELECT count(*) FROM audit_log WHERE actor_id = $1 AND outcome = 'denied'", person) == 1


async def test_r3_r4_organisation_data_contact_and_lms_with_other_as_free_text(provider):
    # rule R-3, rule R-4
    refused = await provider.client.put("/v1/provider/organisation", json={"lms": "other"})
    assert refused.status_code == 422 and "lms_other" in problems(refused)
    saved = await provider.client.put(
        "/v1/provider/organisation", json={"contact": contact(name="Vormingsdienst"), "lms": "other", "lms_other": "Eigen platform"}
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["lms_other"] == "Eigen platform"
    again = await provider.client.put("/v1/provider/organisation", json={"contact": contact(), "lms": "moodle"})  # updated at any time
    assert again.json()["lms"] == "moodle"
    # the contact is proposed for a new application and may differ from the submitter.
    application = (await provider.client.post("/v1/provider/applications")).json()
    assert application["sections"]["contact"]["name"] == contact()["name"]


# ------------------------------------------------------------------------------- sections


async def test_r5_a_section_lists_every_problem_per_field_and_is_not_saved(provider):
    # rule R-5
    application = await draft(provider)
    body = training(name="", web_page="not a url", modules=[module(contact_hours="-1")])
    del body["target_group"]
    response = await save(provider, application["application_id"], "training", body)
    assert response.status_code == 422
    fields = problems(response)
    assert {"name", "web_page", "target_group", "modules.0.contact_hours"} <= set(fields), fields
    current = (await provider.client.get(f"/v1/provider/applications/{application['application_id']}")).json()
    assert "training" not in current["sections"]


async def test_r5_the_own_reference_is_unique_per_provider(provider, case_handler):
    # rule R-5
    first = await registered(provider, case_handler)
    reference = first["sections"]["training"]["own_reference"]
    application = await draft(
        provider, contact=contact(), training=training(own_reference=reference), self_analysis=self_analysis(), deciding_body=deciding_body()
    )
    response = await submit(provider, application["application_id"])
    assert response.status_code == 422
    assert "sections.training.own_reference" in problems(response)


async def test_r6_an_integral_training_is_one_whole(provider):
    # rule R-6
    application = await draft(provider)
    response = await save(provider, application["application_id"], "training", training(modules=[module(), module(name="Deel 2")]))
    assert "modules" in problems(response)


async def test_r7_blended_is_integral_unless_every_module_is_blended_and_needs_distance_hours(provider):
    # rule R-7
    application = await draft(provider)
    mixed = training(blended=True, structure="modular", modules=[module(blended=True, distance_hours="10"), module(name="Klassikaal")])
    assert "structure" in problems(await save(provider, application["application_id"], "training", mixed))
    no_distance = training(blended=True, modules=[module(blended=True)])
    assert "modules[0].distance_hours" in problems(await save(provider, application["application_id"], "training", no_distance))


async def test_r7_blended_without_the_organisations_lms_is_inadmissible(provider, registration):
    # rule R-7
    blended = {"blended": True, "modules": [module(blended=True, distance_hours="12")]}
    result = await submitted(provider, training_overrides=blended)
    assert (result["status"], result["inadmissible_rule"]) == ("inadmissible", "R-7")
    # With an LMS and an organisation-level follow-up document, the same training is admissible.
    upload = await provider.client.post(
        "/v1/provider/documents",
        params={"purpose": "follow_up", "filename": "opvolging.pdf"},
        content=b"%PDF-1.4\n%test\n",
        headers={"content-type": "application/pdf"},
    )
    assert upload.status_code == 201, upload.text
    await provider.client.put("/v1/provider/organisation", json={"contact": contact(), "lms": "moodle", "follow_up_document_id": upload.json()["document_id"]})
    assert (await submitted(provider, training_overrides=blended))["status"] == "in_review"


async def test_r8_below_32_hours_the_mentor_question_is_mandatory_and_no_mentor_training_is_inadmissible(provider, registration):
    # rule R-8
    application = await draft(provider)
    short = training(modules=[module(contact_hours="20")])
    assert "mentor_training" in problems(await save(provider, application["application_id"], "training", short))
    result = await submitted(provider, training_overrides={"modules": [module(contact_hours="20")], "mentor_training": False})
    assert (result["status"], result["inadmissible_rule"]) == ("inadmissible", "R-8")
    assert "fewer than 32" in result["inadmissible_reason"]
    # N-1: the contact person hears why.
    email = (await registration.emails(f"ODB-dossier-{result['dossier_number']}"))[-1]
    assert email["template_id"] == "registration.application_inadmissible" and email["personalisation"]["rule"] == "R-8"
    mentor = await submitted(provider, training_overrides={"modules": [module(contact_hours="20")], "mentor_training": True})
    assert mentor["status"] == "in_review"


async def test_r9_workplace_hours_never_exceed_the_contact_hours(provider):
    # rule R-9
    application = await draft(provider)
    body = training(workplace_learning=True, modules=[module(contact_hours="40", workplace_hours="41")])
    assert "modules[0].workplace_hours" in problems(await save(provider, application["application_id"], "training", body))
    body = training(workplace_learning=True, modules=[module(contact_hours="40", workplace_hours="40")])
    assert (await save(provider, application["application_id"], "training", body)).status_code == 200


async def test_r10_evc_trajectories_have_16_hours_and_are_mentor_trainings(provider):
    # rule R-10
    application = await draft(provider)
    wrong = training(name="BK EVC-traject kinderbegeleider", modules=[module(contact_hours="20")], mentor_training=False)
    fields = problems(await save(provider, application["application_id"], "training", wrong))
    assert {"modules", "mentor_training"} <= set(fields)
    misnamed = training(name="EVC kinderbegeleider", modules=[module(contact_hours="16")], mentor_training=True)
    assert "name" in problems(await save(provider, application["application_id"], "training", misnamed))
    right = training(name="BK EVC-traject kinderbegeleider", modules=[module(contact_hours="16")], mentor_training=True)
    assert (await save(provider, application["application_id"], "training", right)).status_code == 200


async def test_r11_several_school_years_as_modules_beyond_two_inadmissible_over_12_months_flagged(provider, case_handler):
    # rule R-11
    application = await draft(provider)
    integral = training(modules=[module(starts_on="2027-02-01", ends_on="2027-10-31")])
    assert "structure" in problems(await save(provider, application["application_id"], "training", integral))
    three_years = {"structure": "modular", "modules": [module(starts_on="2027-02-01", ends_on="2028-10-31")]}
    result = await submitted(provider, training_overrides=three_years)
    assert (result["status"], result["inadmissible_rule"]) == ("inadmissible", "R-11")
    long = {
        "structure": "modular",
        "modules": [module(starts_on="2027-02-01", ends_on="2027-06-30"), module(name="Vervolg", starts_on="2027-09-01", ends_on="2028-05-31")],
    }
    result = await submitted(provider, training_overrides=long)
    assert result["status"] == "in_review" and "flags" not in result  # the flag is for the team, not the provider
    dossier = (await case_handler.client.get(f"/v1/back-office/applications/{result['application_id']}")).json()
    assert "longer_than_12_months" in dossier["flags"]


async def test_r12_general_group_only_needs_three_pillars(provider):
    # rule R-12
    two = await submitted(provider, analysis=self_analysis(profession_specific=[], general_pillars=["communication", "cooperation"]))
    assert (two["status"], two["inadmissible_rule"]) == ("inadmissible", "R-12")
    none = await submitted(provider, analysis=self_analysis(profession_specific=[]))
    assert (none["status"], none["inadmissible_rule"]) == ("inadmissible", "R-12")
    three = await submitted(provider, analysis=self_analysis(profession_specific=[], general_pillars=["communication", "cooperation", "problem_solving"]))
    assert three["status"] == "in_review"
    basic = await submitted(provider, analysis=self_analysis(profession_specific=[], basic=["numeracy"], general_pillars=["communication"]))
    assert basic["status"] == "in_review"


async def test_r13_language_one_module_per_level_and_b2_up_needs_three_pillars(provider):
    # rule R-13
    application = await draft(provider)
    twice_b1 = training(language="Frans", structure="modular", modules=[module(cefr_level="B1"), module(name="Frans B1 bis", cefr_level="B1")])
    assert "modules" in problems(await save(provider, application["application_id"], "training", twice_b1))
    no_level = training(language="Frans", modules=[module()])
    assert "modules[0].cefr_level" in problems(await save(provider, application["application_id"], "training", no_level))
    b2 = {"language": "Frans", "structure": "modular", "modules": [module(name="Frans B1", cefr_level="B1"), module(name="Frans B2", cefr_level="B2")]}
    result = await submitted(provider, training_overrides=b2, analysis=self_analysis(profession_specific=[], basic=["other_language"]))
    assert (result["status"], result["inadmissible_rule"]) == ("inadmissible", "R-13")
    pillars = self_analysis(profession_specific=[], basic=["other_language"], general_pillars=["communication", "cooperation", "career_skills"])
    assert (await submitted(provider, training_overrides=b2, analysis=pillars))["status"] == "in_review"


async def test_r15_a_joint_committee_only_from_the_list_and_the_department_prefers_the_commission(provider, case_handler, public_client):
    # rule R-15
    committees = (await public_client.get("/v1/register/joint-committees")).json()["items"]
    listed = committees[0]["number"]
    application = await draft(provider)
    not_listed = await save(provider, application["application_id"], "deciding_body", deciding_body(aim="one_profession", joint_committee="999"))
    assert "joint_committee" in problems(not_listed)
    several = await save(provider, application["application_id"], "deciding_body", deciding_body(joint_committee=listed))
    assert "joint_committee" in problems(several)
    result = await submitted(provider)
    path = f"/v1/back-office/applications/{result['application_id']}"
    assert (await case_handler.client.post(f"{path}/forward", json={"deciding_body": "joint_committee:999"})).status_code == 422
    forwarded = await case_handler.client.post(f"{path}/forward", json={})
    assert forwarded.json()["deciding_body"] == "commission"  # the default


async def test_r18_going_back_keeps_what_was_entered_and_cancelling_discards_the_draft(provider):
    # rule R-18
    application = await draft(provider, contact=contact(), training=training())
    again = (await provider.client.get(f"/v1/provider/applications/{application['application_id']}")).json()
    assert again["sections"]["training"]["name"] == training()["name"]
    assert again["missing_sections"] == ["self_analysis", "deciding_body"]
    assert (await provider.client.delete(f"/v1/provider/applications/{application['application_id']}")).status_code == 204
    assert (await provider.client.get(f"/v1/provider/applications/{application['application_id']}")).status_code == 404


# ------------------------------------------------------------------------------- submitting, N-1


async def test_r17_an_incomplete_draft_lists_every_missing_section(provider):
    # rule R-17
    application = await draft(provider, training=training())
    response = await submit(provider, application["application_id"])
    assert response.status_code == 422
    assert {"sections.self_analysis", "sections.deciding_body"} <= set(problems(response))


async def test_r17_submitting_confirms_by_email_and_ends_editing_the_back_office_amends_in_history(provider, case_handler, registration):
    # rule R-17, rule N-1
    result = await submitted(provider)
    emails = await registration.emails(f"ODB-dossier-{result['dossier_number']}")
    assert [e["template_id"] for e in emails] == ["registration.application_submitted"]
    assert emails[0]["recipients"][0]["email"] == contact()["email"]
    refused = await save(provider, result["application_id"], "training", training())
    assert refused.status_code == 409
    path = f"/v1/back-office/applications/{result['application_id']}"
    amended = await case_handler.client.put(f"{path}/sections/contact", json={"section": contact(name="Nieuwe contactpersoon"), "reason": "mail van 3 maart"})
    assert amended.status_code == 200, amended.text
    history = amended.json()["history"]
    assert history[-1]["action"] == "amended" and history[-1]["details"]["reason"] == "mail van 3 maart"
    assert amended.json()["sections"]["contact"]["name"] == "Nieuwe contactpersoon"


async def test_submitting_twice_with_the_same_key_gives_the_same_dossier(provider, registration):
    application = await draft(provider, contact=contact(), training=training(), self_analysis=self_analysis(), deciding_body=deciding_body())
    key = uuid.uuid4().hex
    first = await submit(provider, application["application_id"], key)
    second = await submit(provider, application["application_id"], key)
    assert first.status_code == second.status_code == 200
    assert first.json()["dossier_number"] == second.json()["dossier_number"]
    assert len(await registration.events("registration.application_submitted.v1", application_id=application["application_id"])) == 1
    assert (await submit(provider, application["application_id"], uuid.uuid4().hex)).status_code == 409


async def test_r2_without_quality_registration_held_then_released_by_identitys_event(registration):
    # rule R-2
    organisation_id = await registration.organisation(quality="none")
    provider = await registration.actor(organisation_id=organisation_id, role="dwse_organisation_officer")
    result = await submitted(provider)
    assert result["status"] == "held"
    assert await registration.events("registration.application_held.v1", application_id=result["application_id"])
    await registration.organisation(organisation_id=organisation_id, quality="registered")  # identity: now registered

    async def released():
        return (await provider.client.get(f"/v1/provider/applications/{result['application_id']}")).json()["status"] == "in_review"

    from tests.platform.helpers import eventually

    await eventually(released, what="the held application to be released")
    assert await registration.events("registration.application_released.v1", application_id=result["application_id"])


async def test_r2_the_release_is_judged_on_the_services_day_not_the_machines(registration, clock):
    # rule R-2, judged on the service's clock by the consumer of identity's events too: here the
    # service's day is 40 days on, and the quality registration starts the day before it (weeks
    # ahead of the machine's calendar). Released, and the history says when, on that clock.
    organisation_id = await registration.organisation(quality="none")
    provider = await registration.actor(organisation_id=organisation_id, role="dwse_organisation_officer")
    result = await submitted(provider)
    assert result["status"] == "held"
    clock.advance(timedelta(days=40))
    await registration.organisation(organisation_id=organisation_id, quality="registered", valid_from=calendar.today(clock) - timedelta(days=1))

    async def released():
        return await registration.fetchval(
            "SELECT at FROM application_history WHERE application_id = $1 AND action = 'released'", uuid.UUID(result["application_id"])
        )

    from tests.platform.helpers import eventually

    assert await eventually(released, what="the held application to be released") == clock.now()


# ------------------------------------------------------------------------------- another organisation's dossier


async def test_another_organisations_dossier_is_refused_and_audited(provider, other_provider, registration):
    result = await submitted(provider)
    response = await other_provider.client.get(f"/v1/provider/applications/{result['application_id']}")
    assert response.status_code == 403
    assert (
        await registration.fetchval(
            "SELECT count(*) FROM audit_log WHERE actor_id = $1 AND outcome = 'denied' AND action LIKE 'GET /v1/provider/applications/%'",
            other_provider.person_id,
        )
        == 1
    )
    assert (await other_provider.client.put(f"/v1/provider/applications/{result['application_id']}/sections/contact", json=contact())).status_code == 403


# ------------------------------------------------------------------------------- information and terms


async def test_r19_information_request_answered_goes_back_to_review(provider, case_handler, registration, clock):
    # rule R-19, rule N-1
    result = await submitted(provider)
    path = f"/v1/back-office/applications/{result['application_id']}"
    asked = await case_handler.client.post(f"{path}/information-requests", json={"question": "Graag het lesprogramma."})
    assert asked.status_code == 201, asked.text
    request = asked.json()["information_requests"][0]
    assert request["due_on"] == add_months(calendar.today(clock), 1).isoformat()  # one month to answer
    assert (await case_handler.client.post(f"{path}/forward", json={})).status_code == 409  # not while a question is open
    email = (await registration.emails(f"ODB-dossier-{result['dossier_number']}"))[-1]
    assert email["template_id"] == "registration.information_requested" and email["personalisation"]["question"] == "Graag het lesprogramma."
    answered = await provider.client.post(f"/v1/provider/applications/{result['application_id']}/answer", json={"answer": "Zie bijlage."})
    assert answered.status_code == 200 and answered.json()["status"] == "in_review"
    clock.advance(days(40))
    await registration.run_due_jobs()  # the cancelled term does nothing
    assert (await case_handler.client.get(path)).json()["status"] == "in_review"


async def test_r19_a_month_without_an_answer_is_judged_on_what_is_there(provider, case_handler, registration, clock):
    # rule R-19
    result = await submitted(provider)
    path = f"/v1/back-office/applications/{result['application_id']}"
    await case_handler.client.post(f"{path}/information-requests", json={"question": "Welke lesgevers?"})
    clock.advance(days(25))
    await registration.run_due_jobs()
    assert (await case_handler.client.get(path)).json()["status"] == "awaiting_information"  # term still running
    clock.advance(days(10))
    await registration.run_due_jobs()
    dossier = (await case_handler.client.get(path)).json()
    assert dossier["status"] == "in_review"
    assert dossier["information_requests"][0]["lapsed_at"] is not None
    assert (await case_handler.client.post(f"{path}/forward", json={})).status_code == 200


async def test_r19_near_the_decision_term_an_open_question_goes_to_the_commission_with_negative_advice(provider, case_handler, registration, clock):
    # rule R-19: submitted, then asked late, the three-month term comes near before the month ends.
    result = await submitted(provider)
    path = f"/v1/back-office/applications/{result['application_id']}"
    clock.advance(days(70))
    await registration.run_due_jobs()
    await case_handler.client.post(f"{path}/information-requests", json={"question": "Nog een vraag."})
    clock.advance(days(10))  # 80 days after submission: within 14 days of the 3-month term
    await registration.run_due_jobs()
    dossier = (await case_handler.client.get(path)).json()
    assert dossier["status"] == "forwarded"
    assert dossier["deciding_body"] == "commission"
    assert "insufficient information" in dossier["advice"]
    assert await registration.events("registration.application_forwarded.v1", application_id=result["application_id"])


async def test_the_queue_shows_each_dossiers_deadline_nearest_first(provider, case_handler):
    first = await submitted(provider)
    queue = (await case_handler.client.get("/v1/back-office/queue", params={"organisation_id": str(provider.organisation_id)})).json()["items"]
    entry = next(d for d in queue if d["application_id"] == first["application_id"])
    assert entry["deadline"] == entry["decision_due_on"] == first["decision_due_on"]
    assert (await provider.client.get("/v1/back-office/queue")).status_code == 403  # providers are not case handlers


# ------------------------------------------------------------------------------- decision and register


@pytest.mark.parametrize(
    ("kind", "prefix"), [("higher_education", "ODB-X"), ("adult_education_centre", "ODB-Y"), ("syntra", "ODB-Z"), ("training_provider", "ODB-")]
)
async def test_r20_approval_registers_the_training_with_a_prefix_by_kind(registration, case_handler, kind, prefix):
    # rule R-20, rule R-21
    organisation_id = await registration.organisation(kind=kind)
    provider = await registration.actor(organisation_id=organisation_id, role="dwse_organisation_officer")
    dossier = await registered(provider, case_handler)
    number = dossier["odb_number"]
    assert number.startswith(prefix) and number[len(prefix) :].isdigit()
    event = (await registration.events("registration.training_registered.v1", odb_number=number))[0]
    submitted_on = datetime.fromisoformat(dossier["submitted_at"]).astimezone(BRUSSELS).date()
    assert event["holds_from"] == submitted_on.isoformat()  # by default the day it came in (in Brussels)
    assert event["modules"][0]["hours"] == "40" and event["school_years"] == ["2026-2027"]


async def test_r20_rejection_carries_reasons_and_the_contact_person_is_emailed(provider, case_handler, registration):
    # rule R-20, rule N-1
    result = await submitted(provider)
    path = f"/v1/back-office/applications/{result['application_id']}"
    await case_handler.client.post(f"{path}/forward", json={})
    assert (await case_handler.client.post(f"{path}/decision", json={"outcome": "rejected"})).status_code == 422
    decided = await case_handler.client.post(f"{path}/decision", json={"outcome": "rejected", "reasons": "niet arbeidsmarktgericht"})
    assert decided.json()["status"] == "rejected" and decided.json()["odb_number"] is None
    email = (await registration.emails(f"ODB-dossier-{result['dossier_number']}"))[-1]
    assert email["template_id"] == "registration.application_decided" and email["personalisation"]["outcome"] == "rejected"


async def test_r22_the_provider_sees_its_open_dossiers_and_registered_trainings(provider, other_provider, case_handler):
    # rule R-22
    open_one = await submitted(provider)
    done = await registered(provider, case_handler)
    dossiers = [d["application_id"] for d in (await provider.client.get("/v1/provider/applications")).json()["items"]]
    assert open_one["application_id"] in dossiers and done["application_id"] not in dossiers
    assert [t["odb_number"] for t in (await provider.client.get("/v1/provider/trainings")).json()["items"]] == [done["odb_number"]]
    assert (await other_provider.client.get("/v1/provider/trainings")).json()["items"] == []


async def test_r23_stopping_needs_a_date_from_today_and_leaves_the_register_on_that_date(provider, case_handler, public_client, registration, clock):
    # rule R-23, rule N-1
    number = (await registered(provider, case_handler))["odb_number"]
    yesterday = (clock.now() - days(1)).date().isoformat()
    refused = await provider.client.post(f"/v1/provider/trainings/{number}/stop", json={"stop_on": yesterday, "reason": "x"})
    assert refused.status_code == 422 and "stop_on" in problems(refused)
    stop_on = (clock.now() + days(5)).date()
    stopped = await provider.client.post(f"/v1/provider/trainings/{number}/stop", json={"stop_on": stop_on.isoformat(), "reason": "niet meer georganiseerd"})
    assert stopped.status_code == 200
    assert (await registration.events("registration.training_stopped.v1", odb_number=number))[0]["stop_on"] == stop_on.isoformat()
    assert (await registration.emails(number))[-1]["template_id"] == "registration.training_stopped"
    assert (await public_client.get(f"/v1/register/trainings/{number}")).status_code == 200
    clock.advance(days(6))
    assert (await public_client.get(f"/v1/register/trainings/{number}")).status_code == 404  # gone, without anyone acting


async def test_r24_replacement_three_months_ahead_replaces_the_old_number_on_approval(provider, case_handler, registration, clock):
    # rule R-24
    old = (await registered(provider, case_handler))["odb_number"]
    soon = (clock.now() + days(30)).date()
    too_soon = {"modules": [module(starts_on=soon.isoformat(), ends_on=(soon + days(60)).isoformat())]}
    refused = await submitted(provider, training_overrides=too_soon, replaces=old)
    assert (refused["status"], refused["inadmissible_rule"]) == ("inadmissible", "R-24")
    later = (clock.now() + days(100)).date()
    in_time = {"modules": [module(starts_on=later.isoformat(), ends_on=(later + days(60)).isoformat())]}
    application = await submitted(provider, training_overrides=in_time, replaces=old)
    assert application["status"] == "in_review"
    path = f"/v1/back-office/applications/{application['application_id']}"
    await case_handler.client.post(f"{path}/forward", json={})
    new = (await case_handler.client.post(f"{path}/decision", json={"outcome": "approved"})).json()["odb_number"]
    replaced = await registration.events("registration.training_replaced.v1", odb_number=old)
    assert replaced and replaced[0]["replaced_by"] == new
    trainings = {t["odb_number"]: t for t in (await provider.client.get("/v1/provider/trainings")).json()["items"]}
    assert trainings[old]["replaced_by"] == new and trainings[old]["stop_on"] is None  # the provider stops the old one


# ------------------------------------------------------------------------------- yearly


async def test_r25_once_a_year_the_general_contact_is_asked_to_verify_the_contacts(provider, registration, clock):
    # rule R-25, rule N-4
    await provider.client.put(
        "/v1/provider/organisation", json={"contact": contact(), "general_contact": contact(name="Algemeen", email="algemeen@opleidingen.example")}
    )
    due_at = await registration.fetchval("SELECT due_at FROM scheduled_jobs WHERE job = 'registration.contact_verification' AND status = 'pending'")
    assert (due_at.astimezone(BRUSSELS).month, due_at.astimezone(BRUSSELS).day) == (1, 15)  # armed once a year, in January
    clock.set(due_at + days(1))
    await registration.run_due_jobs()
    emails = [e for e in await registration.emails(str(provider.organisation_id)) if e["template_id"] == "registration.contact_verification"]
    assert emails and emails[0]["recipients"][0]["email"] == "algemeen@opleidingen.example"
    confirmed = await provider.client.post("/v1/provider/organisation/contacts/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["contacts_confirmed_on"] is not None


async def test_r26_a_negative_yearly_evaluation_is_emailed_to_the_general_contact(provider, case_handler, registration):
    # rule R-26
    await provider.client.put(
        "/v1/provider/organisation", json={"contact": contact(), "general_contact": contact(name="Algemeen", email="algemeen@opleidingen.example")}
    )
    number = (await registered(provider, case_handler))["odb_number"]
    path = f"/v1/back-office/trainings/{number}/evaluations"
    assert (await case_handler.client.post(path, json={"year": 2026, "outcome": "negative"})).status_code == 422
    assert (await case_handler.client.post(path, json={"year": 2026, "outcome": "negative", "remarks": "geen eindevaluatie"})).status_code == 201
    assert (await case_handler.client.post(path, json={"year": 2026, "outcome": "positive"})).status_code == 409
    email = (await registration.emails(number))[-1]
    assert email["template_id"] == "registration.negative_evaluation" and email["recipients"][0]["email"] == "algemeen@opleidingen.example"


async def test_r14_office_software_is_basic_ict_and_cad_profession_specific(provider):
    # rule R-14: the self-analysis offers both groups; either one makes the training qualify.
    office = await submitted(
        provider,
        training_overrides={"name": "Rekenblad voor kantoormedewerkers", "competence_group": "basic"},
        analysis=self_analysis(profession_specific=[], basic=["basic_ict"]),
    )
    assert office["status"] == "in_review"
    cad = await submitted(provider, training_overrides={"name": "CAD voor tekenaars"}, analysis=self_analysis(profession_specific=["shortage_occupation"]))
    assert cad["status"] == "in_review"


async def test_r16_extra_documents_are_for_the_back_office_only(provider, case_handler, public_client):
    # rule R-16
    upload = await provider.client.post(
        "/v1/provider/documents",
        params={"purpose": "extra", "filename": "brochure.pdf"},
        content=b"%PDF-1.4\n%brochure\n",
        headers={"content-type": "application/pdf"},
    )
    document_id = upload.json()["document_id"]
    application = await draft(
        provider,
        contact=contact(),
        training=training(),
        self_analysis=self_analysis(),
        deciding_body=deciding_body(),
        documents={"document_ids": [document_id]},
    )
    result = (await submit(provider, application["application_id"])).json()
    path = f"/v1/back-office/applications/{result['application_id']}"
    assert (await case_handler.client.get(path)).json()["sections"]["documents"]["document_ids"] == [document_id]
    assert (await case_handler.client.get(f"/v1/back-office/documents/{document_id}")).content.startswith(b"%PDF")
    await case_handler.client.post(f"{path}/forward", json={})
    number = (await case_handler.client.post(f"{path}/decision", json={"outcome": "approved"})).json()["odb_number"]
    public = (await public_client.get(f"/v1/register/trainings/{number}")).text
    assert document_id not in public and "self_analysis" not in public and "shortage_occupation" not in public
