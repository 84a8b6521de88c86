"""Requests to emails over real Kafka, PostgreSQL and SMTP (the stack's mail sink): rendered,
delivered, logged; idempotent; retried on temporary refusals, not on permanent ones; failed with
the reason when a placeholder is missing."""

from __future__ import annotations

import pytest

from tests.platform.helpers import eventually

pytestmark = pytest.mark.slow

SUBMITTED = {
    "dossier_number": 4711, "training_name": "Lastechnieken <basis>", "organisation_name": "Centrum & Co",
    "decision_due_on": "2027-02-22", "held_for_quality_registration": False,
}


async def test_a_request_becomes_an_email_with_both_parts_logged_as_delivered(notifications):
    # rule N-1: the contact person gets the submission confirmation.
    request = await notifications.request(template_id="registration.application_submitted", personalisation=SUBMITTED)
    address = str(request.recipients[0].email)
    row = await notifications.settled(request.reference, "delivered")
    assert row["log"] == ["created", "delivered"] and row["last_answer"]
    [mail] = await eventually(lambda: notifications.mails_to(address), what="the email in the SMTP server")
    assert mail["rcpt_tos"] == [address]
    assert "4711" in mail["subject"]
    assert "Lastechnieken <basis>" in mail["text"] and "22 februari 2027" in mail["text"]
    assert "Lastechnieken &lt;basis&gt;" in mail["html"] and "Centrum &amp; Co" in mail["html"]  # escaped in HTML
    headers = dict((k.lower(), v) for k, v in mail["headers"])
    assert headers["x-wse-reference"] == request.reference and "Werk en Sociale Economie" in headers["from"]


async def test_the_same_request_twice_gives_one_email(notifications):
    first = await notifications.request(template_id="registration.application_submitted", personalisation=SUBMITTED, key="same-key-1")
    address = str(first.recipients[0].email)
    await notifications.request(
        template_id="registration.application_submitted", personalisation=SUBMITTED, key="same-key-1", to=address, reference=first.reference
    )
    await notifications.settled(first.reference, "delivered")
    later = await notifications.request(template_id="registration.application_submitted", personalisation=SUBMITTED)
    await notifications.settled(later.reference, "delivered")  # the second copy, had it counted, was consumed before this
    assert len(await notifications.mails_to(address)) == 1


async def test_a_temporary_refusal_is_retried_and_delivered(notifications):
    await notifications.fault("temporary", 2)
    try:
        request = await notifications.request(template_id="registration.application_submitted", personalisation=SUBMITTED)
        row = await notifications.settled(request.reference, "delivered")
    finally:
        await notifications.fault("none", 0)
    assert row["log"] == ["created", "temporary-failure", "temporary-failure", "delivered"] and row["attempts"] == 3
    assert len(await notifications.mails_to(str(request.recipients[0].email))) == 1


async def test_a_permanent_refusal_is_not_retried(notifications):
    await notifications.fault("permanent", 1)
    try:
        request = await notifications.request(template_id="registration.application_submitted", personalisation=SUBMITTED)
        row = await notifications.settled(request.reference, "permanent-failure")
    finally:
        await notifications.fault("none", 0)
    assert row["attempts"] == 1 and row["last_answer"].startswith("5")
    assert await notifications.mails_to(str(request.recipients[0].email)) == []


async def test_a_missing_placeholder_fails_with_the_reason_and_sends_nothing(notifications):
    incomplete = {k: v for k, v in SUBMITTED.items() if k != "training_name"}
    request = await notifications.request(template_id="registration.application_submitted", personalisation=incomplete)
    row = await notifications.settled(request.reference, "technical-failure")
    assert "training_name" in row["last_answer"] and row["subject"] is None
    assert await notifications.mails_to(str(request.recipients[0].email)) == []
