"""From an application to the contact person's mailbox and back: recognition asks for the email
through its outbox, Kafka carries it, the notification service renders it and delivers it over
SMTP to the stack's mail server, and publishes the delivery; recognition learns the day the email
was delivered and starts the examination term from it (E-6), not from the day it asked."""

from __future__ import annotations

from datetime import date

import pytest

from recognition import domain
from tests.platform.helpers import eventually
from tests.recognition.conftest import back_office, complete_parts, contact, draft, project

pytestmark = pytest.mark.slow


async def test_the_examination_term_starts_from_the_delivery_of_the_admissibility_email(recognition, provider, case_handler, notifications):
    # rule N-3, rule E-4, rule E-5, rule E-6
    address = f"erkenning-{provider.organisation_id.hex[:8]}@werkkracht.example"
    application = await draft(provider, **complete_parts(project=project(contact=contact(email=address))))
    submitted = await provider.client.post(f"/v1/provider/applications/{application['application_id']}/submit")
    assert submitted.status_code == 200, submitted.text
    dossier = submitted.json()["dossier_number"]
    [confirmation] = await eventually(lambda: notifications.mails_to(address), timeout=60, what="the confirmation in the SMTP server")
    assert dossier in confirmation["subject"]

    judged = await case_handler.client.post(f"{back_office(application)}/admissibility", json={"outcome": "admissible"})
    assert judged.status_code == 200, judged.text
    assert judged.json()["examination_starts_on"] is None
    mails = await eventually(lambda: _two(notifications.mails_to(address)), timeout=60, what="the admissibility email in the SMTP server")
    assert any("De aanvraag is ontvankelijk" in mail["text"] for mail in mails)

    # The notification service's clock is the real one: the delivery happened today in Brussels.
    from service_runtime.calendar import today
    from service_runtime.clock import SystemClock

    delivered_on: date = today(SystemClock())
    examined = await eventually(
        lambda: _started(case_handler, application),
        timeout=60,
        what="recognition to learn the delivery from the notification service's event",
    )
    assert examined["examination_starts_on"] == delivered_on.isoformat()
    assert examined["examination_due_on"] == domain.examination_due_on(delivered_on, 0).isoformat()
    assert "examination_started" in [h["action"] for h in examined["history"]]


async def _two(mails):
    found = await mails
    return found if len(found) >= 2 else None


async def _started(case_handler, application):
    found = (await case_handler.client.get(back_office(application))).json()
    return found if found["examination_starts_on"] else None
