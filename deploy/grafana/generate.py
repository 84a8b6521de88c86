"""Writes one Grafana dashboard per service (deploy/grafana/<service>.json) over the metrics the
services expose. Run `uv run python deploy/grafana/generate.py` after changing it; the test
(tests/deploy/test_alerts.py) checks the files are what this writes.

The portal's dashboard has the HTTP and scrape panels only: it has no Kafka, outbox or jobs (its
metrics are on PORTAL_METRICS_PORT, apart from its pages).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
SERVICES = ("identity", "registration", "recognition", "attestation", "notification")
APPS = (*SERVICES, "portal")
# Services with a work queue whose statutory deadlines are counted (work_queue_overdue).
WORK_QUEUES = ("registration", "recognition")


class Panels:
    def __init__(self) -> None:
        self.panels: list[dict[str, Any]] = []
        self.y = 0
        self.x = 0

    def row(self, title: str) -> None:
        if self.x:
            self.x, self.y = 0, self.y + 8
        self.panels.append(
            {"type": "row", "title": title, "id": len(self.panels) + 1, "collapsed": False, "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []}
        )
        self.y += 1

    def graph(self, title: str, targets: list[tuple[str, str]], *, unit: str = "short", description: str = "") -> None:
        self.panels.append(
            {
                "type": "timeseries",
                "title": title,
                "description": description,
                "id": len(self.panels) + 1,
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
                "gridPos": {"h": 8, "w": 12, "x": self.x, "y": self.y},
                "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
                "options": {"legend": {"displayMode": "table", "placement": "bottom"}, "tooltip": {"mode": "multi"}},
                "targets": [
                    {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend, "datasource": {"type": "prometheus", "uid": "${datasource}"}}
                    for i, (expr, legend) in enumerate(targets)
                ],
            }
        )
        self.x += 12
        if self.x >= 24:
            self.x, self.y = 0, self.y + 8


def dashboard(service: str) -> dict[str, Any]:
    p = Panels()
    http = f'app_name="{service}"'
    p.row("HTTP")
    p.graph("Requests per second by route", [(f"sum by (method, path) (rate(http_requests_total{{{http}}}[5m]))", "{{method}} {{path}}")], unit="reqps")
    p.graph(
        "Server errors (5xx) per second by route",
        [(f"sum by (method, path, status_code) (rate(http_requests_error_total{{{http}}}[5m]))", "{{method}} {{path}} {{status_code}}")],
        unit="reqps",
        description="Alert HighServerErrorRate: more than 5 % of the answers are 5xx.",
    )
    p.graph(
        "Latency p95 by route",
        [(f"histogram_quantile(0.95, sum by (le, method, path) (rate(http_request_duration_seconds_bucket{{{http}}}[5m])))", "{{method}} {{path}}")],
        unit="s",
    )
    p.graph("Requests in progress", [(f"sum by (method, path) (http_requests_in_progress{{{http}}})", "{{method}} {{path}}")])
    if service == "portal":
        p.row("Scrape")
        p.graph("Scraped (up)", [(f'up{{job="{service}"}}', "{{instance}}")], description="Alert ServiceDown.")
        return _dashboard(service, p, "The portal: its pages' HTTP requests, by route template.")
    p.row("Readiness")
    p.graph(
        "Ready (1) or not (0), by replica and dependency",
        [
            (f'min by (instance) (service_ready{{service="{service}"}})', "{{instance}}"),
            (f'min by (instance, check) (service_ready_check{{service="{service}"}})', "{{instance}} {{check}}"),
        ],
        description="Alert ServiceNotReady.",
    )
    p.graph("Scraped (up)", [(f'up{{job="{service}"}}', "{{instance}}")], description="Alert ServiceDown.")
    consumer = f'consumer=~"{service}[.].*"'
    p.row("Kafka consumers")
    p.graph(
        "Consumer lag by group",
        [(f"sum by (consumer) (consumer_lag{{{consumer}}})", "{{consumer}}")],
        description="Records not yet handled, summed over partitions. Alert ConsumerLagGrowing.",
    )
    p.graph("Consumer lag by partition", [(f"max by (consumer, topic, partition) (consumer_lag{{{consumer}}})", "{{consumer}} {{topic}}/{{partition}}")])
    p.graph(
        "Events per second by outcome",
        [(f"sum by (consumer, outcome) (rate(consumer_events_total{{{consumer}}}[5m]))", "{{consumer}} {{outcome}}")],
        unit="ops",
    )
    p.graph(
        "Dead letters written",
        [(f'sum by (consumer) (increase(consumer_events_total{{{consumer}, outcome="dead_lettered"}}[1h]))', "{{consumer}}")],
        description="Per hour. Alert DeadLetterWritten; replay with `python -m <service> dead-letters`.",
    )
    p.graph(
        "Batch time p95",
        [(f"histogram_quantile(0.95, sum by (le, consumer) (rate(consumer_batch_seconds_bucket{{{consumer}}}[5m])))", "{{consumer}}")],
        unit="s",
    )
    p.graph("Batches rolled back per second", [(f"sum by (consumer) (rate(consumer_batch_failures_total{{{consumer}}}[5m]))", "{{consumer}}")], unit="ops")
    own = f'service="{service}"'
    p.row("Outbox")
    p.graph("Outbox pending rows", [(f"max(outbox_pending{{{own}}})", "pending")])
    p.graph(
        "Oldest unpublished event's age",
        [(f"max(outbox_oldest_pending_age_seconds{{{own}}})", "age")],
        unit="s",
        description="Alert OutboxNotPublishing above 60 s.",
    )
    p.graph(
        "Published per second, and publish errors",
        [(f"sum(rate(outbox_published_total{{{own}}}[5m]))", "published"), (f"sum(rate(outbox_publish_errors_total{{{own}}}[5m]))", "failed batches")],
        unit="ops",
    )
    p.graph(
        "Publish batch time p95",
        [(f"histogram_quantile(0.95, sum by (le) (rate(outbox_publish_batch_seconds_bucket{{{own}}}[5m])))", "p95")],
        unit="s",
    )
    p.row("Scheduled jobs")
    # scheduler_jobs_total's own `job` label clashes with the scrape job's: Prometheus keeps it as `exported_job`.
    p.graph(
        "Jobs run per hour by job and outcome",
        [(f'sum by (exported_job, outcome) (increase(scheduler_jobs_total{{job="{service}"}}[1h]))', "{{exported_job}} {{outcome}}")],
    )
    if service in WORK_QUEUES:
        p.row("Work queue")
        p.graph(
            "Cases past their statutory deadline",
            [(f"max by (queue) (work_queue_overdue{{{own}}})", "{{queue}}")],
            description="Alert StatutoryDeadlineOverdue.",
        )
    if service == "notification":
        p.row("Emails")
        p.graph("Backlog by state", [("max by (state) (notification_backlog)", "{{state}}")])
        p.graph(
            "Oldest due email's wait",
            [("max(notification_oldest_due_seconds)", "oldest due")],
            unit="s",
            description="Alert NotificationEmailsWaiting above 5 minutes.",
        )
        p.graph("Attempts per second by outcome", [("sum by (status) (rate(notification_outcomes_total[5m]))", "{{status}}")], unit="ops")
    return _dashboard(service, p, f"The {service} service: HTTP, readiness, Kafka consumers, outbox, scheduled jobs.")


def _dashboard(service: str, p: Panels, description: str) -> dict[str, Any]:
    return {
        "uid": f"wse-{service}",
        "title": f"WSE {service}",
        "description": f"{description} Generated by deploy/grafana/generate.py.",
        "tags": ["wse", service],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus", "current": {}, "hide": 0},
            ]
        },
        "annotations": {"list": []},
        "links": [{"title": "Runbook", "type": "link", "url": "docs/operations.md", "targetBlank": True}],
        "panels": p.panels,
    }


def render(service: str) -> str:
    return json.dumps(dashboard(service), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    for service in APPS:
        (HERE / f"{service}.json").write_text(render(service), encoding="utf-8")


if __name__ == "__main__":
    main()
