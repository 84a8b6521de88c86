"""From a dossier to the contact person's mailbox: registration writes the notification request
through its outbox, Kafka carries it, the notification service renders and sends it over SMTP."""

from __future__ import annotations

import pytest

from tests.platform.helpers import eventually
from tests.registration.conftest import contact, deciding_body, draft, self_analysis, submit, training

pytestmark = pytest.mark.slow


async def test_a_submitted_application_reaches_the_contact_person_as_an_email(provider, notifications):
    # rule N-1, rule R-17
    address = f"ontvangst-{provider.organisation_id.hex[:8]}@opleidingen.example"
    application = await draft(provider, contact=contact(email=address), training=training(), self_analysis=self_analysis(), deciding_body=deciding_body())
    result = (await submit(provider, application["application_id"])).json()
    [mail] = await eventually(lambda: notifications.mails_to(address), timeout=60, what="the confirmation in the SMTP server")
    assert str(result["dossier_number"]) in mail["subject"]
    assert "Lastechnieken" in mail["text"] and mail["html"]
