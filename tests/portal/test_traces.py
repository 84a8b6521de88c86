"""Issue 15, traces: one trace id from a portal request to the email it causes, over the real
stack. The browser stack's portal and services export their spans over OTLP/HTTP to the stack's
mail sink (devstack's config.traces_env); the browser sends a W3C traceparent of the test's own, so
the test knows the trace id before the request is made.

The journey: a member asks for a right in the portal (ID-8); the portal calls identity; identity
writes the request and the email to the organisation's local administrators to its outbox in the
same transaction; the relay publishes the email request to Kafka with the trace in
ce_traceparent; notification's consumer accepts it; the deliverer sends it over SMTP. Every one of
those steps must be a span of that one trace, each a child of the one before."""

from __future__ import annotations

import asyncio
import re
import secrets
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from service_runtime.logging import mask_national_register_numbers_in
from tests.portal.administration_helpers import email_to
from tests.portal.conftest import World, sign_in

pytestmark = pytest.mark.slow


async def _spans(world: World, trace_id: str, *, until: Any, seconds: float = 30) -> list[dict[str, Any]]:
    """The trace's spans in the mail sink once `until(spans)` holds (exports come in batches)."""
    deadline = asyncio.get_running_loop().time() + seconds
    async with httpx.AsyncClient(base_url=world.mailsink) as client:
        while True:
            spans: list[dict[str, Any]] = (await client.get("/api/spans", params={"trace_id": trace_id})).json()
            if until(spans):
                return spans
            if asyncio.get_running_loop().time() > deadline:
                names = sorted(f"{s['service']}: {s['name']}" for s in spans)
                raise AssertionError(f"the trace {trace_id} is incomplete after {seconds} s; it has {names}")
            await asyncio.sleep(0.3)


def _one(spans: list[dict[str, Any]], *, service: str, name: str) -> dict[str, Any]:
    found = [s for s in spans if s["service"] == service and re.fullmatch(name, s["name"])]
    assert len(found) == 1, f"{service}: {name}: {len(found)} spans in {[(s['service'], s['name']) for s in spans]}"
    return found[0]


async def test_one_trace_from_a_portal_request_through_identity_the_outbox_kafka_and_notification_to_the_email(page: Page, world: World) -> None:
    organisation = await world.organisation()
    member = await world.member(organisation, first_name="Tracy")
    await sign_in(page, member.national_register_number, tile=organisation.name)
    await page.goto("/organisatie/mijn-rechten/aanvragen?rol=dwse_organisation_officer&context=training_database")
    await page.get_by_label("Reden").fill("Ik registreer de opleidingen van ons centrum.")

    # The browser's request continues a trace of the test's own making.
    trace_id, root_span_id = secrets.token_hex(16), secrets.token_hex(8)
    await page.context.set_extra_http_headers({"traceparent": f"00-{trace_id}-{root_span_id}-01"})
    await page.get_by_role("button", name="Aanvragen").click()
    await expect(page.locator(".notice[role=status]").first).to_contain_text("Je aanvraag is verstuurd")
    await page.context.set_extra_http_headers({})

    email = await email_to(world, organisation.head.email, member.last_name)
    notification_id = _header(email, "X-WSE-Notification-Id")

    def complete(spans: list[dict[str, Any]]) -> bool:
        # The email's span is in, and every span's parent too: a parent ends, and is exported, after its children.
        ids = {s["span_id"] for s in spans} | {root_span_id}
        sent = any(s["name"] == "smtp send" and s["attributes"].get("wse.notification_id") == notification_id for s in spans)
        return sent and all(s["parent_span_id"] in ids for s in spans)

    spans = await _spans(world, trace_id, until=complete)
    by_id = {s["span_id"]: s for s in spans}

    form = _one(spans, service="portal", name=r"POST /organisatie/mijn-rechten/aanvragen")
    assert form["parent_span_id"] == root_span_id and form["kind"] == "server"

    # The email request left identity's outbox on Kafka in the trace of identity's answer to the
    # portal's call, which the portal made while answering the form ...
    requests_topic = "notification.requests"
    sent = [s for s in spans if s["service"] == "identity" and s["kind"] == "producer" and s["attributes"].get("messaging.destination.name") == requests_topic]
    assert len({s["parent_span_id"] for s in sent}) == 1, sent
    served = by_id[sent[0]["parent_span_id"]]
    assert served["service"] == "identity" and served["kind"] == "server"
    assert served["name"] == "POST /v1/organisations/{organisation_id}/right-requests", served["name"]
    assert served["attributes"]["http.response.status_code"] == 201
    assert served["attributes"]["wse.correlation_id"]  # a problem's correlation_id finds its trace
    call = by_id[served["parent_span_id"]]
    assert call["service"] == "portal" and call["kind"] == "client" and call["attributes"]["server.address"] == "identity"
    assert call["parent_span_id"] == form["span_id"]
    # ... was processed by notification's consumer as a child of the span that wrote it ...
    processed = [s for s in spans if s["service"] == "notification" and s["kind"] == "consumer"]
    assert processed and all(s["parent_span_id"] == served["span_id"] for s in processed), processed
    assert {s["attributes"]["messaging.message.id"] for s in processed} <= {s["attributes"]["messaging.message.id"] for s in sent}
    # ... and the email that reached the mail sink was sent in a span under that consumer's.
    smtp = next(s for s in spans if s["name"] == "smtp send" and s["attributes"]["wse.notification_id"] == notification_id)
    assert smtp["service"] == "notification" and smtp["kind"] == "client"
    assert by_id[smtp["parent_span_id"]] in processed
    assert smtp["status"] != "error"

    # Every span of the trace hangs together: its parent is in the trace, or the browser's.
    for span in spans:
        assert span["parent_span_id"] in by_id or span["parent_span_id"] == root_span_id, span
    # No national register number in any span (the member's was in the sign-in, not in this trace).
    # Nor any email address of the people involved, in attributes, status or events.
    for span in spans:
        readable = {k: span[k] for k in ("name", "attributes", "status_message", "events")}  # ids are hex, and may hold 11 digits in a row
        assert mask_national_register_numbers_in(readable) == readable, span
        for personal in (member.national_register_number, member.email, organisation.head.email, organisation.head.national_register_number):
            assert personal not in repr(span), span


def _header(email: dict[str, Any], name: str) -> str:
    for header_name, value in email["headers"]:
        if header_name.lower() == name.lower():
            return str(value)
    raise AssertionError(f"the email has no {name} header: {email['headers']}")
