"""Another organisation's dossier, typed into the address bar, is refused: the page answers
"Geen toegang" (registration's 403, which it audits) or "Niet gevonden", and shows nothing of it,
whether a draft's steps or a submitted dossier. (The session and CSRF checks are in test_sign_in.py.)"""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.portal.applications_helpers import contact_address, draft, provider, submitted
from tests.portal.conftest import World, accessible, sign_in

pytestmark = pytest.mark.slow


async def test_another_organisations_dossier_url_is_refused(page: Page, world: World) -> None:
    owner = await provider(world)
    intruder = await provider(world)
    their_draft = await draft(world, owner, contact=contact_address())
    their_dossier = await submitted(world, owner, contact=contact_address())
    await sign_in(page, intruder.officer.national_register_number, tile=intruder.organisation.name)
    for path in (
        f"/opleidingen/aanvragen/{their_draft['application_id']}",
        f"/opleidingen/aanvragen/{their_draft['application_id']}/overzicht",
        f"/opleidingen/dossiers/{their_dossier['application_id']}",
    ):
        answer = await page.goto(path)
        assert answer is not None and answer.status in (403, 404), (path, answer.status if answer else None)
        await expect(page.get_by_role("heading", level=1)).to_have_text("Geen toegang" if answer.status == 403 else "Niet gevonden")
        await expect(page.get_by_role("link", name="Gebruikersrecht aanvragen")).to_have_count(0)  # no right would open it
        body = await page.locator("main").inner_text()
        assert owner.organisation.name not in body and "Lastechnieken" not in body
    await accessible(page)
    # The owner still sees it.
    await page.context.clear_cookies()
    await sign_in(page, owner.officer.national_register_number, tile=owner.organisation.name)
    answer = await page.goto(f"/opleidingen/dossiers/{their_dossier['application_id']}")
    assert answer is not None and answer.status == 200
