"""Requests to emails over real Kafka, PostgreSQL and SMTP (the stack's mail sink): rendered,
delivered, logged; idempotent; retried on temporary refusals, not on permanent ones; failed with
the reason when a placeholder is missing."""

from __future__ import annotations

import asyncio
import email
import re
import uuid
from email import policy
from email.header import decode_header, make_header
from email.utils import getaddresses

import httpx
import pytest

from tests.notification.conftest import operator_client
from tests.platform.helpers import eventually

pytestmark = pytest.mark.slow

SUBMITTED = {
    "dossier_number": 4711,
    "training_name": "Lastechnieken <basis>",
    "organisation_name": "Centrum & Co",
    "decision_due_on": "2027-02-22",
    "held_for_quality_registration": False,
}


async def test_a_request_becomes_an_email_with_both_parts_logged_as_delivered(notifications):
    # rule N-1: the contact person gets the submission confirmation.
    request = await notifications.request(template_id="registration.application_submitted", personalisation=SUBMITTED)
    address = str(request.recipients[0].email)
    row = await notifications.settled(request.reference, "delivered")
    assert row["log"] == ["created", "sending", "delivered"] and row["last_answer"].startswith("250")
    [mail] = await eventually(lambda: notifications.mails_to(address), what="the email in the SMTP server")
    assert mail["rcpt_tos"] == [address]
    assert "4711" in mail["subject"]
    assert "Lastechnieken <basis>" in mail["text"] and "22 februari 2027" in mail["text"]
    assert "Lastechnieken &lt;basis&gt;" in mail["html"] and "Centrum &amp; Co" in mail["html"]  # escaped in HTML
    headers = dict((k.lower(), v) for k, v in mail["headers"])
    assert headers["x-wse-reference"] == request.reference and "Werk en Sociale Economie" in headers["from"]


async def test_names_in_any_script_arrive_exactly_as_written(notifications):
    # Issue 11, point 5: what SMTP carried (the sink's raw bytes) decodes back to the very name and
    # subject, with the modern parser and with RFC 2047's decoding; encoded words of at most 75.
    name, training = "Zoë Ōtsuka Sánchez-Øvergård", "Çağlayan Łódź: Ελληνικά, Кириллица, 日本語 en 😀"
    request = await notifications.request(template_id="registration.application_submitted", personalisation={**SUBMITTED, "training_name": training}, name=name)
    await notifications.settled(request.reference, "delivered")
    [mail] = await eventually(lambda: notifications.mails_to(str(request.recipients[0].email)), what="the email in the SMTP server")
    raw = await notifications.raw(mail["id"])
    subject = f"Ontvangstbevestiging: registratieaanvraag {training} (dossiernummer 4711)"
    message = email.message_from_bytes(raw, policy=policy.default)
    assert str(message["Subject"]) == subject and message["To"].addresses[0].display_name == name
    assert message["Auto-Submitted"] == "auto-generated"
    folded = email.message_from_bytes(raw)
    assert str(make_header(decode_header(folded["Subject"]))) == subject
    assert str(make_header(decode_header(getaddresses([re.sub(r"\r?\n(?=[ \t])", "", folded["To"])])[0][0]))) == name
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert all(len(word) <= 75 for word in re.findall(r"=\?[^?\s]+\?[bq]\?[^?\s]*\?=", head)) and max(map(len, head.split("\r\n"))) <= 76, head


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
    async with notifications.faulty("temporary", 2):
        request = await notifications.request(template_id="registration.application_submitted", personalisation=SUBMITTED)
        row = await notifications.settled(request.reference, "delivered")
    assert row["log"] == ["created", "sending", "temporary-failure", "sending", "temporary-failure", "sending", "delivered"] and row["attempts"] == 3
    assert len(await notifications.mails_to(str(request.recipients[0].email))) == 1


async def test_a_permanent_refusal_is_not_retried(notifications):
    async with notifications.faulty("permanent", 1):
        request = await notifications.request(template_id="registration.application_submitted", personalisation=SUBMITTED)
        row = await notifications.settled(request.reference, "permanent-failure")
    assert row["attempts"] == 1 and row["last_answer"].startswith("5")
    assert await notifications.mails_to(str(request.recipients[0].email)) == []


async def test_a_missing_placeholder_fails_with_the_reason_and_sends_nothing(notifications):
    incomplete = {k: v for k, v in SUBMITTED.items() if k != "training_name"}
    request = await notifications.request(template_id="registration.application_submitted", personalisation=incomplete)
    row = await notifications.settled(request.reference, "technical-failure")
    assert "training_name" in row["last_answer"] and row["subject"] is None
    assert await notifications.mails_to(str(request.recipients[0].email)) == []


async def test_a_request_that_breaks_its_templates_contract_fails_naming_the_template_and_the_field(notifications):
    # The model in wse_contracts.emails is the contract: a field it does not have (a sender's typo)
    # or a value of the wrong type is refused at acceptance, not guessed at.
    request = await notifications.request(
        template_id="registration.application_submitted", personalisation={**SUBMITTED, "dossier_number": "4711", "training_nmae": "Lassen"}
    )
    row = await notifications.settled(request.reference, "technical-failure")
    assert "registration.application_submitted" in row["last_answer"]
    assert "personalisation.dossier_number" in row["last_answer"] and "personalisation.training_nmae" in row["last_answer"]
    assert row["subject"] is None and row["log"] == ["created", "technical-failure"]
    assert await notifications.mails_to(str(request.recipients[0].email)) == []


async def test_with_the_smtp_server_down_it_is_retried_until_it_is_back_nothing_lost(notifications, stack):
    from devstack import processes
    from devstack.stack import MAILSINK, start_mailsink

    processes.stop(stack, MAILSINK)  # the SMTP server is down (its stored messages stay on disk)
    try:
        request = await notifications.request(template_id="registration.application_submitted", personalisation=SUBMITTED)

        async def retrying():
            row = await notifications.notification(request.reference)
            return row if row and row["status"] == "temporary-failure" else None

        row = await eventually(retrying, what="a temporary failure while the server is down")
        assert "Connect" in row["last_answer"] or "Errno" in row["last_answer"] or "connect" in row["last_answer"].lower()

        # Down for longer than the attempts allowed (4 in these tests): an unreachable server is
        # not the email's fault, so it keeps waiting instead of failing for good.
        async def outlasted_the_attempt_bound():
            row = await notifications.notification(request.reference)
            return row if row["log"].count("temporary-failure") > 4 else None

        row = await eventually(outlasted_the_attempt_bound, what="more unreachable tries than the attempt bound")
        assert row["status"] == "temporary-failure" and row["attempts"] == 0
    finally:
        await asyncio.to_thread(start_mailsink, stack)
    row = await notifications.settled(request.reference, "delivered")
    assert row["log"][0] == "created" and row["log"][-1] == "delivered" and "temporary-failure" in row["log"]
    assert row["attempts"] == 1  # only the try the server answered counts
    assert len(await notifications.mails_to(str(request.recipients[0].email))) == 1


async def test_an_address_that_cannot_be_sent_to_fails_alone_and_the_rest_of_the_batch_goes_out(notifications):
    # An internationalised domain goes out as punycode; a local part that is not ASCII needs
    # SMTPUTF8, which this service does not use: a permanent failure with the reason, for that
    # email only.
    international = await notifications.request(template_id="registration.application_submitted", personalisation=SUBMITTED, to="zoe@bücher.example")
    impossible = await notifications.request(template_id="registration.application_submitted", personalisation=SUBMITTED, to="jörg@bücher.example")
    row = await notifications.settled(impossible.reference, "permanent-failure")
    assert "SMTPUTF8" in row["last_answer"] and row["log"] == ["created", "sending", "permanent-failure"]
    await notifications.settled(international.reference, "delivered")
    assert len(await notifications.mails_to("zoe@xn--bcher-kva.example")) == 1


async def test_the_back_office_reads_the_log_and_previews_templates(notifications, registration, department):
    request = await notifications.request(template_id="registration.application_submitted", personalisation=SUBMITTED)
    await notifications.settled(request.reference, "delivered")
    # The back office: a department operator (a right learned from identity's events).
    app = notifications.runtime.app()
    async with await operator_client(notifications, registration, department) as client:
        listed = (await client.get("/v1/notifications", params={"reference": request.reference})).json()["items"]
        assert [n["status"] for n in listed] == ["delivered"]
        by_status = (await client.get("/v1/notifications", params={"reference": request.reference, "status": "delivered"})).json()["items"]
        assert [n["notification_id"] for n in by_status] == [listed[0]["notification_id"]]
        assert (await client.get("/v1/notifications", params={"reference": request.reference, "status": "failed"})).status_code == 422
        assert (await client.get(f"/v1/notifications/{uuid.uuid4()}")).status_code == 404
        one = (await client.get(f"/v1/notifications/{listed[0]['notification_id']}")).json()
        assert [entry["status"] for entry in one["log"]] == ["created", "sending", "delivered"] and "4711" in one["subject"]
        templates = (await client.get("/v1/templates")).json()["items"]
        assert {"identity.right_requested", "registration.application_submitted"} <= {t["template_id"] for t in templates}
        preview = await client.post("/v1/templates/registration.application_submitted/preview", json={"personalisation": SUBMITTED})
        assert preview.status_code == 200 and "Lastechnieken &lt;basis&gt;" in preview.json()["html"]
        missing = await client.post("/v1/templates/registration.application_submitted/preview", json={"personalisation": {}})
        assert missing.status_code == 422 and "personalisation.training_name" in {e["field"] for e in missing.json()["errors"]}
        unknown = await client.post("/v1/templates/registration.application_submitted/preview", json={"personalisation": {**SUBMITTED, "extra": 1}})
        assert unknown.status_code == 422 and [e["field"] for e in unknown.json()["errors"]] == ["personalisation.extra"]
        nothing = await client.post("/v1/templates/registration.no_such_email/preview", json={"personalisation": {}})
        assert nothing.status_code == 404
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notification") as anonymous:
        assert (await anonymous.get("/v1/notifications")).status_code == 401


async def test_the_operator_sees_the_backlog_in_the_metrics(notifications):
    # A notification waiting for its retry in an hour: counted as retrying, not due.
    request = await notifications.request(template_id="registration.application_submitted", personalisation=SUBMITTED)
    row = await notifications.settled(request.reference, "delivered")
    async with notifications.runtime.pool.acquire() as connection:
        await connection.execute(
            "UPDATE notifications SET status = 'temporary-failure', next_attempt_at = now() + interval '1 hour' WHERE notification_id = $1",
            row["notification_id"],
        )
    try:
        figures = await notifications.runtime.extensions["deliverer"].measure_backlog()
        assert figures["retrying"] >= 1 and figures["oldest_due_seconds"] >= 0
        app = notifications.runtime.app()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notification") as client:
            metrics = (await client.get("/metrics")).text
        # (The loop refreshes the gauges too, every 15 s: the figures may have moved on since.)
        retrying = re.search(r'^notification_backlog\{state="retrying"\} (\S+)$', metrics, re.M)
        assert retrying and float(retrying.group(1)) >= 1, metrics
        assert re.search(r"^notification_oldest_due_seconds \S+$", metrics, re.M), metrics
    finally:
        async with notifications.runtime.pool.acquire() as connection:
            await connection.execute("UPDATE notifications SET status = 'delivered', next_attempt_at = NULL WHERE notification_id = $1", row["notification_id"])
