"""The seed's whole journey through the API on the real stack (Kafka, PostgreSQL): from an empty
application to a recognition in the public list, and on to its end by expiry and by inactivity.
Terms move with the runtime's clock, never with sleeping."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from recognition import domain
from service_runtime.calendar import start_of
from tests.recognition.conftest import back_office, decided, examined, project, simplified, territory
from tests.recognition.conftest import declaration as declaration_part
from tests.recognition.conftest import experience as experience_part


async def test_from_an_empty_application_to_the_public_list(recognition, provider, case_handler, public_client, clock):
    # rule E-13: an application can be started at any time
    started = await provider.client.post("/v1/provider/applications")
    assert started.status_code == 201, started.text
    application = started.json()
    assert application["status"] == "draft"
    assert application["missing_parts"] == ["project", "simplified", "experience", "territory", "declaration"]
    path = f"/v1/provider/applications/{application['application_id']}"

    # rule E-3: five parts, each saved on its own
    for name, body in (
        ("project", project()),
        ("simplified", simplified()),
        ("experience", experience_part()),
        ("territory", territory(municipalities=["Gent", "Brugge"])),
        ("declaration", declaration_part()),
    ):
        saved = await provider.client.put(f"{path}/parts/{name}", json=body)
        assert saved.status_code == 200, saved.text
    assert saved.json()["missing_parts"] == []

    # rule E-4: submitting confirms in the answer and by email (N-3)
    submitted_ = await provider.client.post(f"{path}/submit")
    assert submitted_.status_code == 200, submitted_.text
    confirmation = submitted_.json()
    assert confirmation["status"] == "submitted"
    assert confirmation["submitted_on"] == recognition.today().isoformat()
    assert confirmation["admissibility_due_on"] == domain.admissibility_due_on(recognition.today()).isoformat()  # rule E-5
    dossier = confirmation["dossier_number"]
    emails = await recognition.emails(dossier)
    assert [e["template_id"] for e in emails] == ["recognition.application_confirmed"]  # rule N-3
    assert emails[0]["recipients"][0]["email"] == saved.json()["parts"]["project"]["contact"]["email"]
    # rule E-4: no edits after submitting
    edit = await provider.client.put(f"{path}/parts/declaration", json=declaration_part())
    assert edit.status_code == 409 and edit.json()["rule"] == "E-4"

    # The queue shows it with its admissibility deadline; the back office sees the WSE quality registration as a fact (E-2).
    queue = (await case_handler.client.get("/v1/back-office/queue", params={"organisation_id": str(provider.organisation_id)})).json()
    assert [(i["dossier_number"], i["deadline"]) for i in queue["items"]] == [(dossier, confirmation["admissibility_due_on"])]
    seen = (await case_handler.client.get(back_office(confirmation))).json()
    assert seen["quality_registration"]["status"] == "registered" and seen["quality_registration"]["registered_on_submission"] is True

    # rule E-5: admissible, emailed (N-3)
    judged = await case_handler.client.post(f"{back_office(confirmation)}/admissibility", json={"outcome": "admissible"})
    assert judged.status_code == 200, judged.text
    assert judged.json()["status"] == "in_examination"
    assert judged.json()["examination_due_on"] is None  # rule E-6: not before the email is delivered
    assert [e["template_id"] for e in await recognition.emails(dossier)][-1] == "recognition.admissibility"

    # rule E-6: the term runs from the day the admissibility email was delivered (two days later here)
    delivered_on = recognition.today() + timedelta(days=2)
    clock.advance(timedelta(days=2))
    await recognition.delivered(confirmation["application_id"], "admissibility", on=delivered_on)
    examined_ = (await case_handler.client.get(back_office(confirmation))).json()
    assert examined_["examination_starts_on"] == delivered_on.isoformat()
    assert examined_["examination_due_on"] == domain.examination_due_on(delivered_on, 0).isoformat()

    # rule E-7: advice to the minister, then the minister's decision (rule E-8: 5 years from its date)
    advised = await case_handler.client.post(
        f"{back_office(confirmation)}/advice", json={"advice": "favourable", "motivation": "Voldoet aan alle voorwaarden."}
    )
    assert advised.status_code == 200, advised.text
    starts_on = recognition.today() + timedelta(days=10)
    decision = await case_handler.client.post(
        f"{back_office(confirmation)}/decision",
        json={"outcome": "granted", "decided_on": recognition.today().isoformat(), "recognition_starts_on": starts_on.isoformat()},
    )
    assert decision.status_code == 200, decision.text
    granted = decision.json()
    assert granted["status"] == "granted"
    assert granted["recognition"]["valid_from"] == starts_on.isoformat()
    assert granted["recognition"]["valid_until"] == domain.valid_until(starts_on).isoformat()
    decision_email = (await recognition.emails(dossier))[-1]
    assert decision_email["template_id"] == "recognition.decision" and decision_email["personalisation"]["outcome"] == "approved"  # rule N-3
    assert await recognition.events("recognition.recognition_granted.v1", application_id=confirmation["application_id"])

    # The public list: not before the recognition starts, then found by name, province and municipality.
    name = seen["organisation_name"]
    listed = (await public_client.get("/v1/recognised-providers", params={"name": name})).json()
    assert listed["items"] == []
    clock.advance(timedelta(days=10))
    for params in ({"name": name}, {"name": name.split()[1].upper(), "province": "west-vlaanderen"}, {"name": name, "municipality": "gent"}):
        listed = (await public_client.get("/v1/recognised-providers", params=params)).json()
        assert [p["recognition_number"] for p in listed["items"]] == [dossier], params
    assert listed["items"][0]["capacity"] == 40 and listed["items"][0]["valid_until"] == domain.valid_until(starts_on).isoformat()
    assert (await public_client.get("/v1/recognised-providers", params={"name": name, "province": "limburg"})).json()["items"] == []

    # A coaching assignment that never ends keeps E-9 away; then the five years pass (rule E-8).
    recognition_id = granted["recognition"]["recognition_id"]
    coached = await provider.client.post(
        f"/v1/provider/recognitions/{recognition_id}/assignments", json={"employer_name": "Bakkerij Janssens", "starts_on": recognition.today().isoformat()}
    )
    assert coached.status_code == 201, coached.text
    assert coached.json()["inactivity_end_on"] is None

    last_day = domain.valid_until(starts_on)
    # Six months before the end: the reminder to apply again in time.
    clock.set(clock.now() + (domain.expiry_reminder_on(last_day) - recognition.today()))
    await recognition.run_due_jobs()
    assert [e["template_id"] for e in await recognition.emails(dossier)][-1] == "recognition.expiry_reminder"
    # The last day: still listed; the next day: not, before any job ran (no job needed for the answer).
    clock.set(clock.now() + (last_day - recognition.today()))
    assert [p["recognition_number"] for p in (await public_client.get("/v1/recognised-providers", params={"name": name})).json()["items"]] == [dossier]
    clock.advance(timedelta(days=1))
    assert (await public_client.get("/v1/recognised-providers", params={"name": name})).json()["items"] == []
    # The job publishes the end and emails the provider.
    await recognition.run_due_jobs()
    ended = await recognition.events("recognition.recognition_ended.v1", recognition_id=recognition_id)
    assert [(e["reason"], e["ended_on"]) for e in ended] == [("expiry", (last_day + timedelta(days=1)).isoformat())]
    email = (await recognition.emails(dossier))[-1]
    assert email["template_id"] == "recognition.ended" and email["personalisation"]["reason"] == "expiry"
    mine = (await provider.client.get(f"/v1/provider/recognitions/{recognition_id}")).json()
    assert mine["recognised_today"] is False and mine["end_reason"] == "expiry"


async def test_e9_a_recognition_ends_after_two_years_without_coaching(recognition, provider, case_handler, public_client, clock):
    # rule E-9
    granted = await decided(recognition, provider, case_handler)
    recognition_id = granted["recognition"]["recognition_id"]
    starts_on = recognition.today()
    detail = (await provider.client.get(f"/v1/provider/recognitions/{recognition_id}")).json()
    assert detail["inactivity_end_on"] == domain.inactivity_end_on(valid_from=starts_on, valid_until=domain.valid_until(starts_on), assignments=[]).isoformat()

    # An assignment of three months a year in: the two years count from the day after it ended.
    clock.advance(timedelta(days=365))
    started, ended_on = recognition.today(), recognition.today() + timedelta(days=90)
    recorded = await provider.client.post(
        f"/v1/provider/recognitions/{recognition_id}/assignments",
        json={"employer_name": "Tuinbouw De Smet", "employer_enterprise_number": "0403.170.701", "starts_on": started.isoformat()},
    )
    assert recorded.status_code == 201, recorded.text
    assignment_id = recorded.json()["assignments"][0]["assignment_id"]
    # The original day passes with the assignment running: the job finds coaching, nothing ends.
    clock.advance(timedelta(days=400))
    await recognition.run_due_jobs()
    assert await recognition.events("recognition.recognition_ended.v1", recognition_id=recognition_id) == []
    finished = await provider.client.post(f"/v1/provider/recognitions/{recognition_id}/assignments/{assignment_id}/end", json={"ends_on": ended_on.isoformat()})
    assert finished.status_code == 200, finished.text
    ends_on = ended_on + timedelta(days=1)
    ends_on = ends_on.replace(year=ends_on.year + 2)
    assert finished.json()["inactivity_end_on"] == ends_on.isoformat()

    # The day before: still recognised; on the day the job ends it for inactivity.
    clock.set(clock.now() + (ends_on - recognition.today()) - timedelta(days=1))
    await recognition.run_due_jobs()
    assert await recognition.events("recognition.recognition_ended.v1", recognition_id=recognition_id) == []
    clock.advance(timedelta(days=1))
    await recognition.run_due_jobs()
    ended = await recognition.events("recognition.recognition_ended.v1", recognition_id=recognition_id)
    assert [(e["reason"], e["ended_on"]) for e in ended] == [("inactivity", ends_on.isoformat())]
    email = (await recognition.emails(granted["dossier_number"]))[-1]
    assert email["template_id"] == "recognition.ended" and email["personalisation"]["reason"] == "inactivity"
    assert email["personalisation"]["explanation"]
    listed = (await public_client.get("/v1/recognised-providers", params={"name": granted["organisation_name"]})).json()
    assert listed["items"] == []


async def test_e10_a_reconsideration_granted_after_the_hearing(recognition, provider, case_handler, clock):
    # rule E-10
    refused = await decided(recognition, provider, case_handler, outcome="refused")
    assert refused["status"] == "refused" and refused["recognition"] is None
    assert (await recognition.emails(refused["dossier_number"]))[-1]["personalisation"]["outcome"] == "refused"  # rule N-3
    informed_on = recognition.today() + timedelta(days=1)
    clock.advance(timedelta(days=1))
    await recognition.delivered(refused["application_id"], "decision", on=informed_on)
    mine = (await provider.client.get(f"/v1/provider/applications/{refused['application_id']}")).json()
    assert mine["reconsideration_last_day"] == domain.reconsideration_last_day(informed_on).isoformat()

    # On the last day: accepted.
    clock.set(clock.now() + (domain.reconsideration_last_day(informed_on) - recognition.today()))
    asked = await provider.client.post(
        f"/v1/provider/applications/{refused['application_id']}/reconsideration",
        json={"motivation": "Wij tonen met bijgevoegde jaarverslagen aan dat wij sinds 2012 werknemers begeleiden."},
    )
    assert asked.status_code == 200, asked.text
    assert asked.json()["status"] == "reconsideration_requested"

    heard_on = recognition.today() + timedelta(days=14)
    clock.advance(timedelta(days=14))
    heard = await case_handler.client.post(f"{back_office(refused)}/reconsideration/hearing", json={"heard_on": heard_on.isoformat()})
    assert heard.status_code == 200, heard.text
    assert heard.json()["commission_advice_due_on"] == domain.commission_advice_due_on(heard_on).isoformat()
    queue = (await case_handler.client.get("/v1/back-office/queue", params={"organisation_id": str(provider.organisation_id)})).json()
    assert [(i["status"], i["deadline"]) for i in queue["items"]] == [("reconsideration_heard", domain.commission_advice_due_on(heard_on).isoformat())]

    advised = await case_handler.client.post(
        f"{back_office(refused)}/reconsideration/advice", json={"advice": "favourable", "motivation": "Ervaring aangetoond."}
    )
    assert advised.status_code == 200, advised.text
    decided_ = await case_handler.client.post(
        f"{back_office(refused)}/reconsideration/decision",
        json={"outcome": "granted", "decided_on": recognition.today().isoformat(), "recognition_starts_on": recognition.today().isoformat()},
    )
    assert decided_.status_code == 200, decided_.text
    assert decided_.json()["status"] == "granted" and decided_.json()["recognition"]["valid_from"] == recognition.today().isoformat()
    outcome = (await recognition.emails(refused["dossier_number"]))[-1]
    assert outcome["template_id"] == "recognition.reconsideration_outcome" and outcome["personalisation"]["outcome"] == "approved"  # rule N-3


async def test_e10_a_reconsideration_on_day_31_is_refused_with_the_last_day(recognition, provider, case_handler, clock):
    # rule E-10
    refused = await decided(recognition, provider, case_handler, outcome="refused")
    informed_on = recognition.today()
    await recognition.delivered(refused["application_id"], "decision", on=informed_on)
    last_day = domain.reconsideration_last_day(informed_on)
    clock.set(clock.now() + (last_day - recognition.today()) + timedelta(days=1))
    late = await provider.client.post(
        f"/v1/provider/applications/{refused['application_id']}/reconsideration",
        json={"motivation": "Wij zijn het niet eens met de beslissing en lichten dat graag toe."},
    )
    assert late.status_code == 422, late.text
    error = late.json()["errors"][0]
    assert error["rule"] == "E-10" and last_day.isoformat() in error["reason"]
    mine = (await provider.client.get(f"/v1/provider/applications/{refused['application_id']}")).json()
    assert mine["status"] == "refused"


async def test_e6_information_suspends_the_examination_and_moves_the_reminder(recognition, provider, case_handler, clock):
    # rule E-6
    application = await examined(recognition, provider, case_handler)
    starts_on = recognition.today()
    application_id = UUID(application["application_id"])
    first_due = domain.examination_due_on(starts_on, 0)
    assert application["examination_due_on"] == first_due.isoformat()
    reminder = "SELECT due_at, status FROM scheduled_jobs WHERE job = 'recognition.examination_reminder' AND dedup_key = $1"
    assert (await recognition.fetch(reminder, str(application_id)))[0]["status"] == "pending"

    clock.advance(timedelta(days=5))
    asked = await case_handler.client.post(f"{back_office(application)}/information-requests", json={"question": "Bezorg de diploma's van uw begeleiders."})
    assert asked.status_code == 201, asked.text
    suspended = asked.json()
    assert suspended["status"] == "awaiting_information" and suspended["examination_due_on"] is None
    assert suspended["suspended_since"] == recognition.today().isoformat()
    assert (await recognition.fetch(reminder, str(application_id)))[0]["status"] == "cancelled"
    email = (await recognition.emails(application["dossier_number"]))[-1]
    assert email["template_id"] == "recognition.information_requested"
    request_id = suspended["information_requests"][0]["request_id"]

    clock.advance(timedelta(days=9))
    answered = await provider.client.post(
        f"/v1/provider/applications/{application_id}/information-requests/{request_id}/answer",
        json={
            "answer": "In bijlage de diploma's.",
            "documents": [{"filename": "diploma.pdf", "content_type": "application/pdf", "content_base64": "JVBERi0xLjQK"}],
        },
    )
    assert answered.status_code == 200, answered.text
    running = answered.json()
    assert running["status"] == "in_examination" and running["suspended_days"] == 9
    new_due = domain.examination_due_on(starts_on, 9)
    assert running["examination_due_on"] == new_due.isoformat() and new_due > first_due
    assert running["information_requests"][0]["documents"][0]["filename"] == "diploma.pdf"
    rearmed = (await recognition.fetch(reminder, str(application_id)))[0]
    assert rearmed["status"] == "pending"
    assert rearmed["due_at"] == start_of(new_due - timedelta(days=domain.EXAMINATION_REMINDER_DAYS))

    # The reminder comes when its day comes, and the queue shows the deadline overdue after it.
    clock.set(clock.now() + (new_due - recognition.today()) + timedelta(days=1))
    await recognition.run_due_jobs()
    history = (await case_handler.client.get(back_office(application))).json()["history"]
    assert "examination_deadline_near" in [h["action"] for h in history]
    overdue = (await case_handler.client.get("/v1/back-office/queue", params={"overdue": "true", "organisation_id": str(provider.organisation_id)})).json()
    assert [(i["application_id"], i["overdue"]) for i in overdue["items"]] == [(str(application_id), True)]


async def test_e6_two_questions_suspend_the_term_once_from_the_first_to_the_last_answer(recognition, provider, case_handler, clock):
    # rule E-6: suspended while any question is open; the span counts once
    application = await examined(recognition, provider, case_handler)
    starts_on = recognition.today()
    path = back_office(application)
    ask = {"question": "Bezorg de jaarverslagen van 2025 en 2026."}
    clock.advance(timedelta(days=3))
    first = (await case_handler.client.post(f"{path}/information-requests", json=ask)).json()["information_requests"][0]["request_id"]
    clock.advance(timedelta(days=2))
    second = (await case_handler.client.post(f"{path}/information-requests", json=ask)).json()["information_requests"][1]["request_id"]
    answer = {"answer": "In bijlage."}
    clock.advance(timedelta(days=3))
    answered = await provider.client.post(f"/v1/provider/applications/{application['application_id']}/information-requests/{first}/answer", json=answer)
    assert answered.json()["status"] == "awaiting_information" and answered.json()["examination_due_on"] is None
    clock.advance(timedelta(days=4))
    answered = await provider.client.post(f"/v1/provider/applications/{application['application_id']}/information-requests/{second}/answer", json=answer)
    running = answered.json()
    assert running["status"] == "in_examination" and running["suspended_days"] == 9  # day 3 to day 12
    assert running["examination_due_on"] == domain.examination_due_on(starts_on, 9).isoformat()
    again = await provider.client.post(f"/v1/provider/applications/{application['application_id']}/information-requests/{second}/answer", json=answer)
    assert again.status_code == 409 and again.json()["rule"] == "E-6"
