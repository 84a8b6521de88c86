"""The portal in a real browser over the real stack.

`browser_stack` (session): a whole stack of its own, as `./dev up` runs it (PostgreSQL, Kafka,
the mail sink, the five services and the portal as processes), on the browser ports
(devstack.config: `StackConfig.browser()`, the portal on 10000) and apart from the test stack,
whose Kafka the in-process runtimes share. `WSE_BROWSER_REUSE_STACK=1` keeps it between runs.

`world` prepares what a journey starts from through the services' public APIs (an organisation,
its head local administrator, a member with a right), as the helpdesk would; the journey itself is
then done in the browser. `browser`: Debian's Chromium driven by Playwright (`executable_path`,
never Playwright's own download). `accessible(page)` runs axe-core (WCAG 2.1 A and AA) on a page
and fails on any violation.
"""

from __future__ import annotations

import os
import random
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from devstack import stack as devstack
from devstack.config import REPO_ROOT, StackConfig
from tests.identity.conftest import national_register_number as identity_number

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("WSE_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
# Chromium as root in a sandboxless container, and no calls to Google's services (the network is closed).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
OPERATOR_NUMBER = devstack.DEVELOPMENT_OPERATOR["national_register_number"]


# ------------------------------------------------------------------------------- numbers


def national_register_number(born: date | None = None) -> str:
    """A valid national register number of nobody real, born before 2000 (identity's test helper)."""
    born = born or date(random.randint(1960, 1999), random.randint(1, 12), random.randint(1, 28))
    return identity_number(born, random.randint(1, 997))


def enterprise_number() -> str:
    """A fresh valid KBO number (0 + 7 digits + mod-97 check)."""
    body = random.randint(1_000_000, 9_999_999)
    return f"0{body:07d}{97 - body % 97:02d}"


# ------------------------------------------------------------------------------- the stack


@pytest.fixture(scope="session")
def browser_stack() -> Any:
    config = StackConfig.browser()
    reuse = os.environ.get("WSE_BROWSER_REUSE_STACK") == "1"
    if not reuse:
        devstack.down(config)
        shutil.rmtree(config.state_dir, ignore_errors=True)
    try:
        devstack.up(config)
    except BaseException:
        devstack.down(config)
        raise
    yield config
    if not reuse:
        devstack.down(config)


@pytest.fixture(scope="session")
def portal_url(browser_stack: StackConfig) -> str:
    return f"http://127.0.0.1:{browser_stack.portal_port}"


# ------------------------------------------------------------------------------- the world, through the APIs


@dataclass
class Person:
    national_register_number: str
    first_name: str
    last_name: str
    email: str
    person_id: str = ""

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class Organisation:
    organisation_id: str
    name: str
    enterprise_number: str
    head: Person
    members: list[Person] = field(default_factory=list)


class World:
    """What the helpdesk and administrators set up through identity's public API, so a browser
    journey can start from it."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.identity = f"http://127.0.0.1:{config.service_ports['identity']}"
        self.mailsink = f"http://127.0.0.1:{config.smtp_http_port}"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.config.service_ports[service]}"

    async def token(self, number: str, organisation_id: str | None = None) -> str:
        async with httpx.AsyncClient(base_url=self.identity) as client:
            proof = (await client.post("/v1/dev-idp/proofs", json={"national_register_number": number})).json()["proof"]
            answer = await client.post("/v1/sign-in", json={"proof": proof})
            assert answer.status_code == 200, answer.text
            token: str = answer.json()["access_token"]
            if organisation_id is not None:
                chosen = await client.post("/v1/me/organisation", json={"organisation_id": organisation_id}, headers={"authorization": f"Bearer {token}"})
                assert chosen.status_code == 200, chosen.text
                token = chosen.json()["access_token"]
            return token

    async def operator(self) -> str:
        async with httpx.AsyncClient(base_url=self.identity) as client:
            token = await self.token(OPERATOR_NUMBER)
            me = (await client.get("/v1/me", headers={"authorization": f"Bearer {token}"})).json()
            department = next(t["organisation_id"] for t in me["tiles"] if t["kind"] == "organisation")
        return await self.token(OPERATOR_NUMBER, department)

    async def department_id(self) -> str:
        async with httpx.AsyncClient(base_url=self.identity) as client:
            token = await self.token(OPERATOR_NUMBER)
            me = (await client.get("/v1/me", headers={"authorization": f"Bearer {token}"})).json()
            return str(next(t["organisation_id"] for t in me["tiles"] if t["kind"] == "organisation"))

    def new_person(self, first_name: str = "Griet", last_name: str | None = None) -> Person:
        last = last_name or f"Test{uuid.uuid4().hex[:6]}"
        return Person(national_register_number(), first_name, last, f"{first_name.lower()}.{last.lower()}@example.org")

    async def register_person(self, token: str, person: Person) -> Person:
        born = date(1900 + int(person.national_register_number[:2]), int(person.national_register_number[2:4]), int(person.national_register_number[4:6]))
        async with httpx.AsyncClient(base_url=self.identity, headers={"authorization": f"Bearer {token}"}) as client:
            answer = await client.post(
                "/v1/persons",
                json={
                    "national_register_number": person.national_register_number,
                    "first_name": person.first_name,
                    "last_name": person.last_name,
                    "gender": "female",
                    "date_of_birth": born.isoformat(),
                    "email": person.email,
                },
            )
            assert answer.status_code in (200, 201), answer.text
            person.person_id = answer.json()["person_id"]
        return person

    async def organisation(self, *, kind: str = "training_provider", name: str | None = None) -> Organisation:
        """A new organisation with its head local administrator (ID-1), registered by the helpdesk."""
        operator = await self.operator()
        number = enterprise_number()
        name = name or f"Vormingscentrum {uuid.uuid4().hex[:6]}"
        async with httpx.AsyncClient(base_url=self.identity, headers={"authorization": f"Bearer {operator}"}) as client:
            answer = await client.post("/v1/organisations", json={"name": name, "kind": kind, "enterprise_number": number, "contact_email": "info@example.org"})
            assert answer.status_code == 201, answer.text
            organisation_id = answer.json()["organisation_id"]
            head = await self.register_person(operator, self.new_person("Griet"))
            appointed = await client.post(f"/v1/organisations/{organisation_id}/head-administrators", json={"person_id": head.person_id})
            assert appointed.status_code == 204, appointed.text
        return Organisation(organisation_id, name, number, head)

    async def member(self, organisation: Organisation, *, first_name: str = "Bram", rights: list[tuple[str, str]] = ()) -> Person:  # type: ignore[assignment]
        """A member of the organisation, added by its head, holding `rights` [(role, context)] from today."""
        head = await self.token(organisation.head.national_register_number, organisation.organisation_id)
        person = await self.register_person(head, self.new_person(first_name))
        async with httpx.AsyncClient(base_url=self.identity, headers={"authorization": f"Bearer {head}"}) as client:
            added = await client.post(f"/v1/organisations/{organisation.organisation_id}/members", json={"person_id": person.person_id})
            assert added.status_code == 204, added.text
            for role, context in rights:
                granted = await client.post(
                    f"/v1/organisations/{organisation.organisation_id}/rights",
                    json={"person_id": person.person_id, "role": role, "context": context, "valid_from": date.today().isoformat()},
                )
                assert granted.status_code == 201, granted.text
        organisation.members.append(person)
        return person

    async def emails_to(self, address: str) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=self.mailsink) as client:
            messages: list[dict[str, Any]] = (await client.get("/api/messages", params={"to": address})).json()
        return messages


@pytest.fixture(scope="session")
def world(browser_stack: StackConfig) -> World:
    return World(browser_stack)


# ------------------------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: apt-get install -y chromium (.ci/run installs it)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        await browser.close()


@pytest.fixture
async def context(browser: Browser, portal_url: str) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(base_url=portal_url, locale="nl-BE", viewport={"width": 1280, "height": 900})
    yield context
    await context.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


_axe = Axe()


async def accessible(page: Page) -> None:
    """axe-core on the page as it is now: zero violations of WCAG 2.0/2.1 A and AA."""
    results = await _axe.run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
    violations = results.response.get("violations", [])
    assert not violations, f"axe-core on {page.url}:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}" for v in violations
    )


async def screenshot(page: Page, name: str) -> None:
    """The README shows these (docs/screenshots)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def sign_in(page: Page, number: str, *, tile: str | None = None) -> None:
    """Sign in through the development identity provider's page and, when given, choose a tile by its text."""
    await page.goto("/aanmelden")
    await page.get_by_label("Rijksregisternummer van de testpersoon").fill(number)
    await page.get_by_role("button", name="Aanmelden").click()
    if tile is not None:
        await page.get_by_role("button", name=tile).click()
