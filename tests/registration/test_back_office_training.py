"""The back office's view of a registered training (GET /v1/back-office/trainings/{odb_number}) and
what an evaluation says of its email, over the real stack: a stopped training, gone from the public
register (R-23), is still shown to the case handlers and evaluated (R-26); its evaluations are
listed; a negative evaluation of a provider without a general contact (R-25) says nobody was told;
only case handlers see it (R-1's deny by default: a provider 403 naming the right, anonymous 401)."""

from __future__ import annotations

import pytest

from registration.views.schemas import BackOfficeTraining, EvaluationOut, TrainingEvaluation
from tests.registration.conftest import contact, days, registered

pytestmark = pytest.mark.slow

GENERAL = "algemeen@opleidingen.example"


async def _with_general_contact(provider) -> None:
    saved = await provider.client.put("/v1/provider/organisation", json={"contact": contact(), "general_contact": contact(name="Algemeen", email=GENERAL)})
    assert saved.status_code == 200, saved.text


async def test_r23_r26_a_stopped_training_is_still_shown_to_the_back_office_and_evaluated(provider, case_handler, public_client, registration, clock):
    # rule R-23, rule R-26, rule R-21, rule R-25
    await _with_general_contact(provider)
    dossier = await registered(provider, case_handler)
    number = dossier["odb_number"]
    path = f"/v1/back-office/trainings/{number}"

    shown = await case_handler.client.get(path.lower())  # any case of the ODB number
    assert shown.status_code == 200, shown.text
    training = shown.json()
    assert set(training) == set(BackOfficeTraining.model_fields)
    assert training["odb_number"] == number and training["status"] == "registered" and training["stop_on"] is None
    assert training["application_id"] == dossier["application_id"] and training["organisation_id"] == str(provider.organisation_id)
    assert training["organisation_name"] == await registration.fetchval(
        "SELECT name FROM organisations_projection WHERE organisation_id = $1", provider.organisation_id
    )
    assert training["has_general_contact"] is True and training["evaluations"] == []
    assert [(m["name"], m["contact_hours"], m["blended"]) for m in training["modules"]] == [("Lassen basis", 40, False)]
    assert training["holds_from"] == (await registration.events("registration.training_registered.v1", odb_number=number))[0]["holds_from"]

    # stopped in five days: in the register until then ('stopping'), then out of it, and still the back office's.
    stop_on = (clock.now() + days(5)).date()
    stopped = await provider.client.post(f"/v1/provider/trainings/{number}/stop", json={"stop_on": stop_on.isoformat(), "reason": "niet meer georganiseerd"})
    assert stopped.status_code == 200, stopped.text
    assert (await case_handler.client.get(path)).json()["status"] == "stopping"
    clock.advance(days(6))
    assert (await public_client.get(f"/v1/register/trainings/{number}")).status_code == 404
    training = (await case_handler.client.get(path)).json()
    assert (training["status"], training["stop_on"], training["stop_reason"]) == ("stopped", stop_on.isoformat(), "niet meer georganiseerd")

    # evaluated all the same; the negative one is emailed to the general contact and listed, the last year first.
    negative = await case_handler.client.post(f"{path}/evaluations", json={"year": 2026, "outcome": "negative", "remarks": "geen eindevaluatie"})
    assert negative.status_code == 201, negative.text
    answer = negative.json()
    assert set(answer) == set(EvaluationOut.model_fields)
    assert (answer["contact_emailed"], answer["emailed_to"], answer["not_emailed_reason"]) == (True, "general_contact", None)
    assert answer["recorded_by"] == str(case_handler.person_id)
    assert (await registration.emails(number))[-1]["template_id"] == "registration.negative_evaluation"
    positive = await case_handler.client.post(f"{path}/evaluations", json={"year": 2027, "outcome": "positive"})
    assert positive.status_code == 201 and (positive.json()["contact_emailed"], positive.json()["not_emailed_reason"]) == (False, "positive")

    listed = (await case_handler.client.get(path)).json()["evaluations"]
    assert all(set(e) == set(TrainingEvaluation.model_fields) for e in listed)
    assert [(e["year"], e["outcome"], e["remarks"], e["contact_emailed"], e["emailed_to"]) for e in listed] == [
        (2027, "positive", None, False, None),
        (2026, "negative", "geen eindevaluatie", True, "general_contact"),
    ]
    assert listed[1]["recorded_by"] == str(case_handler.person_id) and listed[1]["recorded_at"] == answer["recorded_at"]
    # Who was told is a role: the general contact's name and address are not in the answer.
    assert GENERAL not in (await case_handler.client.get(path)).text


async def test_r26_r25_a_negative_evaluation_without_a_general_contact_answers_contact_emailed_false(provider, case_handler, registration):
    # rule R-26, rule R-25
    await provider.client.put("/v1/provider/organisation", json={"contact": contact()})  # a contact person, no general contact
    number = (await registered(provider, case_handler))["odb_number"]
    path = f"/v1/back-office/trainings/{number}"
    assert (await case_handler.client.get(path)).json()["has_general_contact"] is False
    emails_before = len(await registration.emails(number))

    negative = await case_handler.client.post(f"{path}/evaluations", json={"year": 2026, "outcome": "negative", "remarks": "verouderde inhoud"})
    assert negative.status_code == 201, negative.text
    answer = negative.json()
    assert (answer["outcome"], answer["remarks"]) == ("negative", "verouderde inhoud")  # the fields it always had
    assert (answer["contact_emailed"], answer["emailed_to"], answer["not_emailed_reason"]) == (False, None, "no_general_contact")
    assert len(await registration.emails(number)) == emails_before  # nobody to email
    listed = (await case_handler.client.get(path)).json()["evaluations"]
    assert [(e["year"], e["contact_emailed"], e["not_emailed_reason"]) for e in listed] == [(2026, False, "no_general_contact")]


async def test_r1_r26_the_back_office_training_is_for_case_handlers_only(provider, case_handler, public_client, registration):
    # rule R-1, rule R-26: deny by default; the owner's own training is no exception
    await _with_general_contact(provider)
    number = (await registered(provider, case_handler))["odb_number"]
    path = f"/v1/back-office/trainings/{number}"
    refused = await provider.client.get(path)
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["required_right"] == {"role": "case_handler", "contexts": ["training_database"]}
    assert await registration.fetchval("SELECT count(*) FROM audit_log WHERE actor_id = $1 AND outcome = 'denied'", provider.person_id) >= 1
    anonymous = await public_client.get(path)
    assert anonymous.status_code == 401 and anonymous.headers["content-type"].startswith("application/problem+json")
    assert (await provider.client.post(f"{path}/evaluations", json={"year": 2026, "outcome": "positive"})).status_code == 403
    unknown = await case_handler.client.get("/v1/back-office/trainings/ODB-0")
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("application/problem+json")
