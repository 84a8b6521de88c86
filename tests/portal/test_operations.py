"""What operations see of the portal (issue 15): its HTTP metrics by route template on a port of
their own (the Ingress routes only the pages' port), and a correlation id on every answer, which
the portal sends on to the services."""

from __future__ import annotations

import re

import httpx
import pytest

from devstack.config import StackConfig

pytestmark = pytest.mark.slow


def _count(metrics: str, **labels: str) -> float:
    wanted = [f'{name}="{value}"' for name, value in labels.items()]
    total = 0.0
    for line in metrics.splitlines():
        if line.startswith("http_requests_total{") and all(label in line for label in wanted):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_the_portals_requests_are_counted_by_route_template_on_the_metrics_port(browser_stack: StackConfig, portal_url: str) -> None:
    metrics_url = f"http://127.0.0.1:{browser_stack.portal_metrics_port}/metrics"
    before = httpx.get(metrics_url).text
    pages = httpx.get(f"{portal_url}/register", params={"q": "heftruck"})
    unknown_training = f"ODB-{len(before)}"  # a value in the path, as anyone may type one
    training = httpx.get(f"{portal_url}/register/{unknown_training}")
    assert pages.status_code == 200 and training.status_code == 404
    # Every answer names its request, for the helpdesk and the logs; a caller's own id is kept.
    assert re.fullmatch(r"[0-9a-f]+-[0-9a-f]+", pages.headers["x-correlation-id"])
    assert httpx.get(f"{portal_url}/register", headers={"x-correlation-id": "support-1234"}).headers["x-correlation-id"] == "support-1234"

    after = httpx.get(metrics_url).text
    assert (
        _count(after, app_name="portal", method="GET", path="/register", status_code="200")
        >= _count(before, app_name="portal", method="GET", path="/register", status_code="200") + 2
    )
    # Series by route template, not by URL: the training's page counted under its template.
    assert _count(after, app_name="portal", method="GET", path="/register/{odb_number}", status_code="404") >= 1
    assert unknown_training not in after
    # The pages' port does not serve the metrics.
    assert httpx.get(f"{portal_url}/metrics").status_code == 404
