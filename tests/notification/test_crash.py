"""Killed in the middle of sending: the SMTP server has accepted the email, the process dies
before it commits "delivered". When the dead process's lease on it runs out, the email goes out
again: at most one duplicate, never lost (README, Notification, says why)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import pytest

from devstack.config import REPO_ROOT
from notification import use_cases
from notification.definition import service
from tests.platform.helpers import connect, eventually, new_database
from wse_contracts.notification import NotificationRequestedV1, Recipient

pytestmark = pytest.mark.slow


def start(settings: dict, *, failpoints: str = "") -> subprocess.Popen:
    env = {**os.environ, "WSE_FAILPOINTS": failpoints}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.notification.crash_runner", json.dumps(settings)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def test_killed_after_the_server_accepted_it_is_sent_again_after_a_restart(stack, notifications):
    database_url = await new_database(stack, "notification_crash")
    settings = {
        "database_url": database_url,
        "kafka_bootstrap_servers": stack.kafka_bootstrap,
        "smtp_port": stack.smtp_port,
        "http_port": 0,
        "delivery_poll_seconds": 0.05,
        "delivery_lease_seconds": 2,
        "migrate_on_start": False,
        "jwks_url": "http://127.0.0.1:9/none",
    }
    await service.runtime(service.load_settings(**settings)).migrate()
    address = f"crash-{uuid.uuid4().hex[:8]}@contact.example"
    request = NotificationRequestedV1(
        template_id="registration.application_submitted",
        recipients=[Recipient(email=address)],
        reference=f"crash-{uuid.uuid4().hex[:6]}",
        idempotency_key=uuid.uuid4().hex,
        requested_by="registration",
        personalisation={
            "dossier_number": 1,
            "training_name": "Lassen",
            "organisation_name": "Centrum",
            "decision_due_on": "2027-02-22",
            "held_for_quality_registration": False,
        },
    )
    connection = await connect(database_url)
    try:
        async with connection.transaction():
            await use_cases.accept_request(connection, request=request, now=datetime.now(UTC))
        doomed = start(settings, failpoints="notification.after_send")
        assert doomed.wait(timeout=60) == -signal.SIGKILL, doomed.communicate()[0]
        assert len(await notifications.mails_to(address)) == 1  # the server has it...
        # ...the log not: the notification is still `sending`, under the dead process's lease.
        assert await connection.fetchval("SELECT status FROM notifications WHERE reference = $1", request.reference) == "sending"
        restarted = start(settings)
        try:
            await eventually(
                lambda: connection.fetchval("SELECT status = 'delivered' FROM notifications WHERE reference = $1", request.reference),
                what="delivery after the restart",
            )
        finally:
            restarted.send_signal(signal.SIGTERM)
            restarted.wait(timeout=60)
        copies = await notifications.mails_to(address)
        assert len(copies) == 2  # at most one duplicate, nothing lost...
        ids = {dict((k.lower(), v) for k, v in copy["headers"])["message-id"] for copy in copies}
        assert len(ids) == 1  # ...and the copy says so: the same Message-ID
        log = await connection.fetch(
            "SELECT l.status, l.detail FROM delivery_log l JOIN notifications n USING (notification_id) WHERE n.reference = $1 ORDER BY l.id",
            request.reference,
        )
        assert [r["status"] for r in log] == ["created", "sending", "sending", "delivered"]
        assert "never confirmed" in log[2]["detail"]
    finally:
        await connection.close()
