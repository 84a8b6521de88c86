"""work_queue_overdue (the StatutoryDeadlineOverdue alert): a dossier past its three-month
decision term counts; the recognition queue's count runs too."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import REGISTRY

from tests.registration.conftest import submitted


async def test_an_open_dossier_past_its_decision_term_counts_as_overdue(registration, provider, clock, recognition):
    start = clock.now()
    clock.set(start + timedelta(days=130))  # past three months for every dossier open now
    before = (await registration.runtime.refresh_overdue())["applications"]
    clock.set(start)
    await submitted(provider)
    assert (await registration.runtime.refresh_overdue())["applications"] <= before  # not yet overdue
    clock.set(start + timedelta(days=130))
    assert await registration.runtime.refresh_overdue() == {"applications": before + 1}
    assert REGISTRY.get_sample_value("work_queue_overdue", {"service": "registration", "queue": "applications"}) == before + 1

    counts = await recognition.runtime.refresh_overdue()
    assert set(counts) == {"applications"} and counts["applications"] >= 0
    assert REGISTRY.get_sample_value("work_queue_overdue", {"service": "recognition", "queue": "applications"}) == counts["applications"]
