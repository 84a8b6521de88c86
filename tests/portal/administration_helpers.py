"""Set-up and small steps the Gebruikersbeheer journeys share (tests/portal/test_administration.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from playwright.async_api import Browser, Page

from tests.portal.conftest import Organisation, Person, World, sign_in


async def appoint_local_administrator(world: World, organisation: Organisation, person: Person) -> None:
    """ID-2 through the API, as the head would: for journeys that start from a local administrator."""
    head = await world.token(organisation.head.national_register_number, organisation.organisation_id)
    async with httpx.AsyncClient(base_url=world.identity, headers={"authorization": f"Bearer {head}"}) as client:
        answer = await client.post(f"/v1/organisations/{organisation.organisation_id}/administrators", json={"person_id": person.person_id})
        assert answer.status_code == 204, answer.text


async def page_of(browser: Browser, portal_url: str, number: str, tile: str | None) -> Page:
    """A second person in a browser of their own (their own cookies), signed in and on their tile."""
    context = await browser.new_context(base_url=portal_url, locale="nl-BE", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await sign_in(page, number, tile=tile)
    return page


async def email_to(world: World, address: str, containing: str, *, seconds: float = 60) -> dict[str, Any]:
    """The first email to `address` whose text contains `containing`, waiting for the outbox,
    Kafka and the notification service to deliver it."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        for message in await world.emails_to(address):
            if containing in (message.get("text") or "") or containing in (message.get("subject") or ""):
                return message
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no email to {address} containing {containing!r}: {await world.emails_to(address)}")
        await asyncio.sleep(0.5)
