"""Sign-in with a digital key: the portal as an OpenID Connect client (authorization code with
PKCE, state and nonce) of the government's identity provider (here a test provider of our own),
whose ID token identity checks and exchanges for a platform token (ID-10)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from devstack.config import REPO_ROOT, StackConfig
from tests.platform.helpers import free_port
from tests.portal.conftest import World, accessible
from tests.portal.oidc_provider import OidcProvider

pytestmark = pytest.mark.slow

CLIENT_ID, CLIENT_SECRET = "wse-portal", "portal-secret-for-tests"


def _start(module: str, env: dict[str, str], port: int, log_name: str, config: StackConfig) -> subprocess.Popen[bytes]:
    log = open(config.logs_dir / log_name, "ab")  # noqa: SIM115  # the child writes to it for its whole life
    process = subprocess.Popen([sys.executable, "-m", module, "serve"], env={**os.environ, **env}, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    raise AssertionError(f"{module} did not start: see {config.logs_dir / log_name}")


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with OidcProvider(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as provider:
        yield provider


@pytest.fixture(scope="module")
def oidc_portal(browser_stack: StackConfig, provider: OidcProvider) -> Iterator[str]:
    """An identity replica that trusts the provider and a portal that signs in through it, beside the stack's own."""
    identity_port, portal_port = free_port(), free_port()
    identity_env = {
        **browser_stack.service_env("identity"),
        "IDENTITY_HTTP_PORT": str(identity_port),
        "IDENTITY_IDENTITY_PROVIDER_JWKS_URL": f"{provider.issuer}/jwks.json",
        "IDENTITY_IDENTITY_PROVIDER_ISSUER": provider.issuer,
        "IDENTITY_IDENTITY_PROVIDER_AUDIENCE": CLIENT_ID,
        "IDENTITY_DEVELOPMENT_IDENTITY_PROVIDER": "false",
    }
    portal_env = {
        **browser_stack.portal_env(),
        "PORTAL_HTTP_PORT": str(portal_port),
        "PORTAL_METRICS_PORT": "0",  # a second portal: the stack's has the metrics port
        "PORTAL_IDENTITY_URL": f"http://127.0.0.1:{identity_port}",
        "PORTAL_DEVELOPMENT_SIGN_IN": "false",
        "PORTAL_OIDC_AUTHORIZATION_ENDPOINT": f"{provider.issuer}/authorize",
        "PORTAL_OIDC_TOKEN_ENDPOINT": f"{provider.issuer}/token",
        "PORTAL_OIDC_CLIENT_ID": CLIENT_ID,
        "PORTAL_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "PORTAL_OIDC_REDIRECT_URI": f"http://127.0.0.1:{portal_port}/aanmelden/terug",
    }
    identity = _start("identity", identity_env, identity_port, "identity-oidc.log", browser_stack)
    try:
        portal = _start("portal", portal_env, portal_port, "portal-oidc.log", browser_stack)
        try:
            yield f"http://127.0.0.1:{portal_port}"
        finally:
            portal.terminate()
            portal.wait(timeout=20)
    finally:
        identity.terminate()
        identity.wait(timeout=20)


@pytest.fixture
async def oidc_page(browser: Browser, oidc_portal: str) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=oidc_portal, locale="nl-BE")
    yield await context.new_page()
    await context.close()


async def test_id10_sign_in_with_a_digital_key_through_openid_connect(oidc_page: Page, world: World) -> None:
    organisation = await world.organisation()
    page = oidc_page
    await page.goto("/aanmelden")
    await expect(page.get_by_label("Rijksregisternummer van de testpersoon")).to_have_count(0)  # no test persons here
    await accessible(page)
    await page.get_by_role("link", name="Aanmelden met je digitale sleutel").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Aanmelden bij de overheid (test)")
    await page.get_by_label("Rijksregisternummer").fill(organisation.head.national_register_number)
    await page.get_by_role("button", name="Bevestigen").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Kies hoe je verder gaat")
    await page.get_by_role("button", name=organisation.name).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(organisation.name)


async def test_a_forged_or_replayed_answer_of_the_provider_signs_nobody_in(oidc_page: Page, oidc_portal: str, provider: OidcProvider) -> None:
    page = oidc_page
    # No sign-in was started in this browser: any code and state are refused.
    answer = await page.goto("/aanmelden/terug?code=abc&state=forged")
    assert answer is not None and answer.status == 400
    await expect(page.get_by_role("heading", level=1)).to_have_text("Aanmelden niet gelukt")
    # Started, but the state sent back is another: refused, and the started sign-in is spent.
    await page.goto("/aanmelden/digitale-sleutel")
    await page.goto("/aanmelden/terug?code=abc&state=other")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Aanmelden niet gelukt")
    async with httpx.AsyncClient(base_url=oidc_portal, cookies={c["name"]: c["value"] for c in await page.context.cookies()}) as client:
        assert (await client.get("/kies")).status_code == 303  # still not signed in
