"""Signing in, the tiles (ID-10), signing out, and the session's protections, in a real browser."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.portal.conftest import OPERATOR_NUMBER, World, accessible, screenshot, sign_in

pytestmark = pytest.mark.slow


async def test_home_and_sign_in_pages_are_accessible(page: Page) -> None:
    await page.goto("/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Online diensten van Werk en Sociale Economie")
    assert await page.locator("html").get_attribute("lang") == "nl"
    await accessible(page)
    await screenshot(page, "home")
    await page.get_by_role("link", name="Aanmelden").first.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Aanmelden")
    await accessible(page)


async def test_a_wrong_number_is_named_next_to_the_field_and_in_the_summary(page: Page) -> None:
    await page.goto("/aanmelden")
    await page.get_by_label("Rijksregisternummer van de testpersoon").fill("85073003399")
    await page.get_by_role("button", name="Aanmelden").click()
    summary = page.get_by_role("alert").filter(has_text="Er is een probleem")
    await expect(summary).to_be_visible()
    await expect(page.locator("#national_register_number-fout")).to_contain_text("geen geldig rijksregisternummer")
    assert (await page.title()).startswith("Fout:")
    await accessible(page)
    # The summary links to the field.
    await summary.get_by_role("link").click()
    await expect(page.locator("#national_register_number")).to_be_focused()


async def test_id10_tiles_the_citizen_and_each_organisation(page: Page, world: World) -> None:
    organisation = await world.organisation()
    await sign_in(page, organisation.head.national_register_number)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Kies hoe je verder gaat")
    await expect(page.get_by_role("button", name="Als burger")).to_be_visible()
    await accessible(page)
    await screenshot(page, "tiles")
    await page.get_by_role("button", name=organisation.name).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(organisation.name)
    await expect(page.locator(".site-header__who")).to_contain_text(organisation.name)
    await accessible(page)


async def test_id10_without_an_organisation_only_the_citizen_and_whom_to_contact(page: Page, world: World) -> None:
    operator = await world.operator()
    alone = await world.register_person(operator, world.new_person("Sofie"))
    await sign_in(page, alone.national_register_number)
    # Only the citizen tile: nothing to choose, straight to the citizen's start page with the message.
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Welkom")
    await expect(page.get_by_role("status")).to_contain_text("lokale beheerder")
    await accessible(page)


async def test_signing_out_ends_the_session(page: Page, world: World, portal_url: str) -> None:
    await sign_in(page, OPERATOR_NUMBER, tile="Als burger")
    cookies = await page.context.cookies()
    session = next(c for c in cookies if c["name"] == "wse_portal_session")
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    await page.get_by_role("button", name="Afmelden").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Je bent afgemeld")
    # The old cookie opens nothing any more.
    async with httpx.AsyncClient(base_url=portal_url, cookies={"wse_portal_session": session["value"]}) as client:
        answer = await client.get("/burger")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/aanmelden")


async def test_a_form_without_its_csrf_token_is_refused(page: Page, portal_url: str) -> None:
    await sign_in(page, OPERATOR_NUMBER)
    cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
    async with httpx.AsyncClient(base_url=portal_url, cookies=cookies) as client:
        refused = await client.post("/kies", data={"organisation_id": ""})
        assert refused.status_code == 403 and "Formulier niet aanvaard" in refused.text
        # A form posted from another site is refused before anything reads it.
        cross = await client.post("/kies", data={"organisation_id": ""}, headers={"origin": "https://evil.example"})
        assert cross.status_code == 403


async def test_pages_carry_a_strict_content_security_policy(page: Page) -> None:
    answer = await page.goto("/")
    assert answer is not None
    policy = (await answer.all_headers())["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy


async def test_sign_in_by_keyboard_alone(page: Page, world: World) -> None:
    organisation = await world.organisation()
    await page.goto("/")
    await page.keyboard.press("Tab")  # the skip link comes first
    await expect(page.get_by_role("link", name="Naar de inhoud")).to_be_focused()
    await page.goto("/aanmelden")
    field = page.get_by_label("Rijksregisternummer van de testpersoon")
    for _ in range(20):
        await page.keyboard.press("Tab")
        if await field.evaluate("element => element === document.activeElement"):
            break
    await page.keyboard.type(organisation.head.national_register_number)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Kies hoe je verder gaat")
    tile = page.get_by_role("button", name=organisation.name)
    for _ in range(30):
        await page.keyboard.press("Tab")
        if await tile.evaluate("element => element === document.activeElement"):
            break
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text(organisation.name)


async def test_a_second_portal_replica_serves_the_same_session(page: Page, browser_stack, world: World) -> None:
    """The portal keeps no per-request state in memory: a session made on one replica is served by another."""
    import os
    import subprocess
    import sys
    import time

    from devstack.config import REPO_ROOT
    from tests.platform.helpers import free_port

    organisation = await world.organisation()
    await sign_in(page, organisation.head.national_register_number, tile=organisation.name)
    cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
    port = free_port()
    env = {**os.environ, **browser_stack.portal_env(), "PORTAL_HTTP_PORT": str(port), "PORTAL_METRICS_PORT": "0"}  # the stack's portal has the metrics port
    log = open(browser_stack.logs_dir / "portal-replica.log", "ab")  # noqa: SIM115
    replica = subprocess.Popen([sys.executable, "-m", "portal", "serve"], env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", cookies=cookies) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if (await client.get("/health/ready")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline and replica.poll() is None, "the second replica did not start"
                await asyncio.sleep(0.2)
            answer = await client.get("/organisatie")
            assert answer.status_code == 200 and organisation.name in answer.text
    finally:
        replica.terminate()
        replica.wait(timeout=20)
        log.close()


async def test_an_expired_platform_token_sends_to_sign_in_and_back_with_what_was_typed(page: Page, world: World, browser_stack) -> None:
    """The platform token lives 15 minutes: when it has expired mid-step, posting the step sends
    the person to sign in, and back to the same step, for the same organisation, with what they
    typed. (The token's end is moved, not waited for: the session's record of it is put in the past.)"""
    import hashlib

    import asyncpg

    organisation = await world.organisation()
    member = await world.member(organisation)
    await sign_in(page, member.national_register_number, tile=organisation.name)
    await page.goto("/organisatie/mijn-rechten/aanvragen")
    await page.get_by_label("Gebruikersrecht").select_option("dwse_organisation_officer@platos")
    reason = "Ik dien de erkenningsaanvraag voor Platos in."
    await page.get_by_label("Reden").fill(reason)

    cookie = next(c["value"] for c in await page.context.cookies() if c["name"] == "wse_portal_session")
    connection = await asyncpg.connect(browser_stack.database_url("portal"))
    try:
        moved = await connection.execute(
            "UPDATE sessions SET data = jsonb_set(data, '{expires_at}', to_jsonb('2000-01-01T00:00:00+00:00'::text)) WHERE session_hash = $1",
            hashlib.sha256(cookie.encode()).digest(),
        )
        assert moved == "UPDATE 1"
    finally:
        await connection.close()

    await page.get_by_role("button", name="Aanvragen").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Aanmelden")
    await expect(page.get_by_role("status")).to_contain_text("Je sessie was verlopen")
    await accessible(page)
    await page.get_by_label("Rijksregisternummer van de testpersoon").fill(member.national_register_number)
    await page.get_by_role("button", name="Aanmelden").click()
    # Back on the step, for the same organisation, with what was typed.
    await expect(page.get_by_role("heading", level=1)).to_have_text("Gebruikersrecht aanvragen")
    await expect(page.get_by_label("Reden")).to_have_value(reason)
    await expect(page.get_by_label("Gebruikersrecht")).to_have_value("dwse_organisation_officer@platos")
    await expect(page.locator(".site-header__who")).to_contain_text(organisation.name)
    await page.get_by_role("button", name="Aanvragen").click()
    await expect(page.get_by_role("status")).to_contain_text("Je aanvraag is verstuurd")
