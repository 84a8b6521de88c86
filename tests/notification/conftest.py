"""The notification service on the test stack: its runtime in this process, on a PostgreSQL database
of its own, real Kafka, and the stack's real SMTP server (the mail sink, read over its HTTP API).
Requests arrive as real `NotificationRequestedV1` events on Kafka, as other services send them."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from tests.platform.helpers import eventually
from wse_contracts.kafka_binding import to_kafka_record
from wse_contracts.notification import NotificationRequestedV1, Recipient

pytestmark = pytest.mark.slow


class Notifications:
    def __init__(self, stack, runtime, producer: AIOKafkaProducer) -> None:
        self.stack, self.runtime, self.producer = stack, runtime, producer
        self.sink = f"http://127.0.0.1:{stack.smtp_http_port}"

    async def request(
        self,
        *,
        template_id: str,
        personalisation: dict[str, Any],
        to: str | None = None,
        key: str | None = None,
        reference: str | None = None,
        requested_by: str = "registration",
        name: str = "Contact Persoon",
    ) -> NotificationRequestedV1:
        request = NotificationRequestedV1(
            template_id=template_id,
            recipients=[Recipient(email=to or f"{uuid.uuid4().hex[:10]}@contact.example", name=name)],
            personalisation=personalisation,
            reference=reference or f"dossier-{uuid.uuid4().hex[:8]}",
            idempotency_key=key or uuid.uuid4().hex,
            requested_by=requested_by,
        )
        record = to_kafka_record(request.to_envelope(source=f"/wse/{requested_by}", correlation_id="notification-tests"), topic=request.topic)
        await self.producer.send_and_wait(record.topic, record.value, key=record.key, headers=record.headers)
        return request

    async def mails_to(self, address: str) -> list[dict[str, Any]]:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"{self.sink}/api/messages", params={"to": address})).json()

    async def raw(self, message_id: int) -> bytes:
        """The message's bytes as SMTP carried them."""
        async with httpx.AsyncClient() as client:
            response = await client.get(f"{self.sink}/api/messages/{message_id}/raw")
            response.raise_for_status()
            return response.content

    async def fault(self, mode: str, count: int) -> None:
        async with httpx.AsyncClient() as client:
            (await client.post(f"{self.sink}/api/faults", json={"mode": mode, "count": count})).raise_for_status()

    @contextlib.asynccontextmanager
    async def faulty(self, mode: str, count: int) -> AsyncIterator[None]:
        """The SMTP server answers the next `count` messages with an injected refusal; cleared after."""
        await self.fault(mode, count)
        try:
            yield
        finally:
            await self.fault("none", 0)

    async def notification(self, reference: str) -> dict[str, Any] | None:
        async with self.runtime.pool.acquire() as connection:
            row = await connection.fetchrow("SELECT * FROM notifications WHERE reference = $1", reference)
            if row is None:
                return None
            result = dict(row)
            result["log"] = [
                r["status"] for r in await connection.fetch("SELECT status FROM delivery_log WHERE notification_id = $1 ORDER BY id", row["notification_id"])
            ]
            return result

    async def settled(self, reference: str, status: str) -> dict[str, Any]:
        async def check():
            found = await self.notification(reference)
            return found if found and found["status"] == status else None

        return await eventually(check, timeout=60, what=f"notification {reference} to be {status}")


async def operator_client(notifications: Notifications, registration, department) -> httpx.AsyncClient:
    """A client of the notification service's app as a new operator of the department (the back
    office's right, learned from identity's events like any other)."""
    operator = await registration.grant(organisation_id=department, role="operator", context="department")

    async def known():
        async with notifications.runtime.pool.acquire() as connection:
            return await connection.fetchval("SELECT 1 FROM rights_projection WHERE person_id = $1", operator)

    await eventually(known, what="the notification service to learn the operator's right")
    token = registration.token(person=operator, organisation=department)
    app = notifications.runtime.app()
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notification", headers={"authorization": f"Bearer {token}"}, timeout=30)
