"""The Prometheus alert rules (deploy/prometheus) and the Grafana dashboards (deploy/grafana):
promtool checks and unit-tests the rules; every rule links to its runbook section; every PromQL
expression names only metrics the services' code defines. Fast: no stack, no services."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
GRAFANA = ROOT / "deploy" / "grafana"
RUNBOOK = ROOT / "docs" / "operations.md"
SERVICES = ("identity", "registration", "recognition", "attestation", "notification")

# Series Prometheus makes itself, not the services.
PROMETHEUS_OWN = {"up"}
PROMQL_WORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "inf", "nan"}


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is missing: install Debian's `prometheus` package (apt-get install -y prometheus; .ci/run does) to check the alert rules")
    return path


def run_promtool(*args: str) -> str:
    result = subprocess.run([promtool(), *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"promtool {' '.join(args)} failed:\n{output}"
    return output


def test_the_alert_rules_pass_promtool_check_rules():
    assert "SUCCESS" in run_promtool("check", "rules", "alerts.yml")


def test_the_alert_rules_pass_their_unit_tests():
    """alerts.test.yml: for every alert, a series that fires it and one that does not."""
    assert "SUCCESS" in run_promtool("test", "rules", "alerts.test.yml")


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"] if "alert" in rule]


def test_every_alert_is_unit_tested():
    tested = {case["alertname"] for test in yaml.safe_load((PROMETHEUS / "alerts.test.yml").read_text())["tests"] for case in test.get("alert_rule_test", [])}
    assert {rule["alert"] for rule in alert_rules()} <= tested


def github_anchor(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to dashes."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_alert_has_a_severity_wording_and_a_runbook_section():
    anchors = {github_anchor(line.lstrip("#")) for line in RUNBOOK.read_text().splitlines() if line.startswith("#")}
    for rule in alert_rules():
        name = rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        annotations = rule["annotations"]
        assert annotations["summary"].strip() and annotations["description"].strip(), name
        path, _, anchor = annotations["runbook_url"].partition("#")
        assert path == "docs/operations.md", name
        assert anchor in anchors, f"{name}: docs/operations.md has no section #{anchor}"


# ------------------------------------------------------------------------------ metric names


def defined_metrics() -> set[str]:
    """The names the code registers with prometheus_client, and the series they expose."""
    names: set[str] = set()
    sources = [*(ROOT / "runtime" / "src").rglob("*.py"), *(ROOT / "services").glob("*/src/**/*.py"), *(ROOT / "portal").rglob("*.py")]
    for source in sources:
        if ".venv" in source.parts:
            continue
        for kind, name in re.findall(r"\b(Counter|Gauge|Histogram|Summary)\(\s*\"([a-zA-Z_:][a-zA-Z0-9_:]*)\"", source.read_text(encoding="utf-8")):
            if kind == "Counter":
                names.add(name if name.endswith("_total") else f"{name}_total")
            elif kind in ("Histogram", "Summary"):
                names.update({f"{name}_bucket", f"{name}_sum", f"{name}_count"})
            else:
                names.add(name)
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers that are neither functions,
    keywords, label names (in {...} or by/without/on (...)) nor durations."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges and subqueries
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = set()
    for match in re.finditer(r"(?<![\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?", expr):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in PROMQL_WORDS:
            continue
        names.add(name)
    return names


def test_the_metric_name_scanner_reads_promql():
    assert metric_names('sum by (consumer) (increase(consumer_events_total{outcome="dead_lettered"}[10m])) > 0') == {"consumer_events_total"}
    assert metric_names('histogram_quantile(0.95, sum by (le, path) (rate(http_request_duration_seconds_bucket{app_name="x"}[5m])))') == {
        "http_request_duration_seconds_bucket"
    }
    assert metric_names("a / on (x) group_left b > 0 and up == 0") == {"a", "b", "up"}


def dashboards() -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(GRAFANA.glob("*.json"))}


def dashboard_expressions(dashboard: dict[str, Any]) -> list[str]:
    found = []

    def walk(panels: list[dict[str, Any]]) -> None:
        for panel in panels:
            found.extend(target["expr"] for target in panel.get("targets", []) if target.get("expr"))
            walk(panel.get("panels", []))

    walk(dashboard["panels"])
    return found


def test_every_expression_names_only_metrics_the_services_expose():
    known = defined_metrics() | PROMETHEUS_OWN
    expressions = [(f"alert {rule['alert']}", rule["expr"]) for rule in alert_rules()]
    for name, dashboard in dashboards().items():
        expressions += [(f"dashboard {name}", expr) for expr in dashboard_expressions(dashboard)]
    assert len(expressions) > 50
    unknown = {(where, metric) for where, expr in expressions for metric in metric_names(expr) if metric not in known}
    assert not unknown, f"metrics no service defines: {sorted(unknown)}"


def test_one_dashboard_per_service_that_parses_with_a_uid_and_a_title():
    found = dashboards()
    assert set(found) == {*SERVICES, "portal"}, "one dashboard per service and the portal"
    uids = [dashboard["uid"] for dashboard in found.values()]
    assert len(set(uids)) == len(uids)
    for name, dashboard in found.items():
        assert dashboard["uid"] and dashboard["title"], name
        assert dashboard_expressions(dashboard), name


def test_the_dashboards_are_what_the_generator_writes():
    spec = importlib.util.spec_from_file_location("grafana_generate", GRAFANA / "generate.py")
    assert spec and spec.loader
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    for service in (*SERVICES, "portal"):
        assert (GRAFANA / f"{service}.json").read_text(encoding="utf-8") == generate.render(service), (
            f"deploy/grafana/{service}.json is stale: run `uv run python deploy/grafana/generate.py`"
        )
