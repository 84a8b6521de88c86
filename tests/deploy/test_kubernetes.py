"""deploy/kubernetes: every overlay builds, validates offline, keeps secrets out and allows only the architecture's flows.

Fast: no cluster, no stack. kustomize comes from `kubectl kustomize` (kubectl on PATH) or a
`kustomize` binary (on PATH or in .cache/bin, where .ci/run installs it when neither is there).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

from devstack import manifests
from devstack.config import SERVICES
from wse_contracts.topics import TOPICS

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
OVERLAYS = ["dev", "production"]
APPS = [*SERVICES, "portal"]
PORTS = {"portal": 8000, "identity": 8001, "registration": 8002, "recognition": 8003, "attestation": 8004, "notification": 8005}
CUSTOM_GROUPS = ("kafka.strimzi.io/", "postgresql.cnpg.io/", "barmancloud.cnpg.io/", "keda.sh/")
# What docker-compose.yml sets that has no place in a cluster: nothing today (the SMTP host and port
# are set, to the relay instead of Mailpit); listed here when one appears, with the reason.
COMPOSE_ONLY: dict[str, str] = {}
SECRET_NAME = re.compile(r"KEY|SECRET|PASSWORD", re.IGNORECASE)
URL_WITH_PASSWORD = re.compile(r"://[^/\s:@]+:[^/\s@]+@")


def _kustomize_command() -> list[str]:
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    for candidate in (shutil.which("kustomize"), ROOT / ".cache" / "bin" / "kustomize"):
        if candidate and Path(candidate).exists():
            return [str(candidate), "build"]
    pytest.fail(
        "neither kubectl nor kustomize found: install kubectl (Debian: apt-get install kubectl) or run "
        "`GOBIN=$PWD/.cache/bin go install sigs.k8s.io/kustomize/kustomize/v5@v5.5.0` (.ci/run does)"
    )


@cache
def build(overlay: str) -> tuple[dict[str, Any], ...]:
    result = subprocess.run([*_kustomize_command(), str(KUBERNETES / "overlays" / overlay)], capture_output=True, text=True)
    assert result.returncode == 0, f"kustomize could not build overlays/{overlay}:\n{result.stderr}"
    return tuple(document for document in yaml.safe_load_all(result.stdout) if document)


def of_kind(overlay: str, kind: str) -> list[dict[str, Any]]:
    return [r for r in build(overlay) if r["kind"] == kind]


def named(overlay: str, kind: str, name: str) -> dict[str, Any]:
    found = [r for r in of_kind(overlay, kind) if r["metadata"]["name"] == name]
    assert len(found) == 1, f"overlays/{overlay}: expected one {kind} {name}, found {len(found)}"
    return found[0]


def container(overlay: str, app: str) -> dict[str, Any]:
    containers = named(overlay, "Deployment", app)["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    result: dict[str, Any] = containers[0]
    return result


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_built_in_resource_validates_against_the_kubernetes_schemas(overlay: str) -> None:
    version = latest_version()
    for resource in build(overlay):
        if resource["apiVersion"].startswith(CUSTOM_GROUPS):
            continue
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"overlays/{overlay}: {resource['kind']} {resource['metadata']['name']} is not valid for Kubernetes {version}: {error.message}")
        except kubernetes_validate.InvalidSchemaError as error:
            pytest.fail(f"overlays/{overlay}: no schema for {resource['apiVersion']} {resource['kind']}: {error}")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_custom_resources_have_the_fields_the_operators_need(overlay: str) -> None:
    kinds = {r["kind"] for r in build(overlay) if r["apiVersion"].startswith(CUSTOM_GROUPS)}
    assert {"Kafka", "KafkaNodePool", "KafkaTopic", "Cluster", "ObjectStore", "ScheduledBackup"} <= kinds
    brokers = 1 if overlay == "dev" else 3
    replication = 1 if overlay == "dev" else 3
    min_isr = 1 if overlay == "dev" else 2

    kafka = named(overlay, "Kafka", "wse")
    assert kafka["apiVersion"] == "kafka.strimzi.io/v1"  # Strimzi 1.x serves v1 only (KRaft and node pools, no annotations)
    assert "zookeeper" not in kafka["spec"]
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == replication
    assert config["min.insync.replicas"] == min_isr
    assert config["offsets.topic.replication.factor"] == replication
    assert [listener["port"] for listener in kafka["spec"]["kafka"]["listeners"]] == [9092]
    assert "topicOperator" in kafka["spec"]["entityOperator"]
    pool = named(overlay, "KafkaNodePool", "dual-role")
    assert pool["apiVersion"] == "kafka.strimzi.io/v1"
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == "wse"
    assert sorted(pool["spec"]["roles"]) == ["broker", "controller"]
    assert pool["spec"]["replicas"] == brokers

    for topic in of_kind(overlay, "KafkaTopic"):
        assert topic["apiVersion"] == "kafka.strimzi.io/v1"
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "wse"
        assert topic["spec"]["replicas"] == replication
        assert topic["spec"]["partitions"] >= 1

    for app in APPS:
        cluster = named(overlay, "Cluster", f"{app}-db")
        assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
        assert cluster["spec"]["instances"] == (1 if overlay == "dev" else 3)
        assert cluster["spec"]["bootstrap"]["initdb"] == {"database": app, "owner": app}
        [plugin] = cluster["spec"]["plugins"]
        assert plugin == {"name": "barman-cloud.cloudnative-pg.io", "isWALArchiver": True, "parameters": {"barmanObjectName": f"{app}-db-backup"}}
        store = named(overlay, "ObjectStore", f"{app}-db-backup")["spec"]["configuration"]
        assert store["destinationPath"].startswith("s3://")
        for key in ("accessKeyId", "secretAccessKey"):
            assert set(store["s3Credentials"][key]) == {"name", "key"}, "backup credentials come from a Secret"
        backup = named(overlay, "ScheduledBackup", f"{app}-db-daily")["spec"]
        assert backup["cluster"] == {"name": f"{app}-db"} and backup["method"] == "plugin"


def test_the_topics_file_is_what_the_generator_writes_from_the_registry() -> None:
    assert manifests.TOPICS_FILE.read_text() == manifests.render_topics(), "deploy/kubernetes/base/kafka/topics.yaml is stale: run ./dev manifests"
    topics = {t["spec"]["topicName"]: t["spec"] for t in yaml.safe_load_all(manifests.TOPICS_FILE.read_text()) if t}
    assert set(topics) == set(TOPICS) | {f"{s}.dead-letters" for s in SERVICES}
    for name, topic in TOPICS.items():
        assert topics[name]["partitions"] == topic.partitions
    assert topics["platform.clock"]["config"]["cleanup.policy"] == "compact"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_literal_secret_anywhere(overlay: str) -> None:
    for resource in build(overlay):
        assert resource["kind"] != "Secret", f"overlays/{overlay}: a Secret in the manifests ({resource['metadata']['name']})"
        if resource["kind"] == "ConfigMap":
            for key, value in resource.get("data", {}).items():
                assert not SECRET_NAME.search(key), f"{resource['metadata']['name']}: {key} belongs in a Secret"
                assert not URL_WITH_PASSWORD.search(value), f"{resource['metadata']['name']}: {key} holds a password"
    for app in APPS:
        for variable in container(overlay, app).get("env", []):
            if SECRET_NAME.search(variable["name"]) or variable["name"].endswith("DATABASE_URL"):
                assert "value" not in variable and "secretKeyRef" in variable["valueFrom"], f"{app}: {variable['name']} must come from a Secret"
            assert not URL_WITH_PASSWORD.search(str(variable.get("value", ""))), f"{app}: {variable['name']} holds a password"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_runs_locked_down_with_probes(overlay: str) -> None:
    for app in APPS:
        pod = named(overlay, "Deployment", app)["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        [spread] = pod["topologySpreadConstraints"]
        assert spread["topologyKey"] == "kubernetes.io/hostname"
        c = container(overlay, app)
        security = c["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["readOnlyRootFilesystem"] is True
        assert security["capabilities"] == {"drop": ["ALL"]}
        assert {"mountPath": "/tmp", "name": "tmp"} in c["volumeMounts"]
        assert any(v["name"] == "tmp" and "emptyDir" in v for v in pod["volumes"])
        metrics = [{"name": "metrics", "containerPort": 9464, "protocol": "TCP"}] if app == "portal" else []  # the portal's apart from its pages
        assert c["ports"] == [{"name": "http", "containerPort": PORTS[app], "protocol": "TCP"}, *metrics]
        assert c["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
        assert c["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
        assert set(c["resources"]) == {"requests", "limits"}
        named(overlay, "Service", app)
        named(overlay, "PodDisruptionBudget", app)


def _environment(overlay: str, app: str) -> set[str]:
    c = container(overlay, app)
    names = {variable["name"] for variable in c.get("env", [])}
    for source in c.get("envFrom", []):
        if "configMapRef" in source:
            names |= set(named(overlay, "ConfigMap", source["configMapRef"]["name"])["data"])
    return names


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_gets_every_variable_docker_compose_gives_it(overlay: str) -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for app in APPS:
        expected = set(compose["services"][app]["environment"]) - set(COMPOSE_ONLY)
        missing = expected - _environment(overlay, app)
        assert not missing, f"overlays/{overlay}: {app} lacks {sorted(missing)} (docker-compose.yml sets them)"
    assert "PII_KEYS" not in _environment(overlay, "identity")
    for app in SERVICES:
        refs = [s["secretRef"]["name"] for s in container(overlay, app)["envFrom"] if "secretRef" in s]
        assert refs == ["wse-pii-keys"]


def _policy_for(overlay: str, app: str) -> dict[str, Any]:
    return named(overlay, "NetworkPolicy", app)["spec"]


def _peers(rules: list[dict[str, Any]], direction: str) -> list[tuple[str, frozenset[int]]]:
    """Each (peer, ports) a policy allows: peers as 'app=<name>', 'ns=<namespace>', 'db=<cluster>', 'kafka', 'ip', 'client'."""
    found = []
    for rule in rules:
        ports = frozenset(p["port"] for p in rule.get("ports", []))
        for peer in rule[direction]:
            labels = peer.get("podSelector", {}).get("matchLabels", {})
            namespace = peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
            if "ipBlock" in peer:
                found.append(("ip", ports))
            elif namespace:
                found.append((f"ns={namespace}", ports))
            elif "app.kubernetes.io/name" in labels:
                found.append((f"app={labels['app.kubernetes.io/name']}", ports))
            elif "cnpg.io/cluster" in labels:
                found.append((f"db={labels['cnpg.io/cluster']}", ports))
            elif "strimzi.io/cluster" in labels:
                found.append(("kafka", ports))
            elif labels.get("wse.vlaanderen.be/kafka-client") == "true":
                found.append(("client", ports))
            else:
                raise AssertionError(f"a peer this test does not know: {peer}")
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_by_default_and_allow_only_the_architecture(overlay: str) -> None:
    deny = named(overlay, "NetworkPolicy", "default-deny")["spec"]
    assert deny["podSelector"] == {} and sorted(deny["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in deny and "egress" not in deny
    dns = named(overlay, "NetworkPolicy", "allow-dns")["spec"]
    assert dns["podSelector"] == {} and {p["port"] for p in dns["egress"][0]["ports"]} == {53}

    for app in APPS:
        policy = _policy_for(overlay, app)
        port = frozenset({PORTS[app]})
        ingress = set(_peers(policy["ingress"], "from"))
        egress = set(_peers(policy["egress"], "to"))
        # Prometheus scrapes a service's /metrics on its one port, the portal's on a port of its own.
        expected_in = {("ns=ingress-nginx", port), ("ns=monitoring", frozenset({9464}) if app == "portal" else port)}
        expected_out = {(f"db={app}-db", frozenset({5432}))}
        if app != "portal":
            expected_in.add(("app=portal", port))
            expected_out.add(("kafka", frozenset({9092})))
        if app == "identity":
            expected_in.add(("client", port))
            expected_out.add(("ip", frozenset({443})))  # the identity provider's JWKS
        elif app != "portal":
            expected_out.add(("app=identity", frozenset({8001})))
        if app == "notification":
            expected_out.add(("ip", frozenset({587, 25})))
        if app == "portal":
            expected_out |= {(f"app={s}", frozenset({PORTS[s]})) for s in SERVICES} | {("ip", frozenset({443}))}
        assert ingress == expected_in, f"{app}: ingress"
        assert egress == expected_out, f"{app}: egress"
        # A service's pods reach no other service's database.
        assert all(not peer.startswith("db=") or peer == f"db={app}-db" for peer, _ in egress)
    # The portal is no Kafka client (the label opens Kafka's listener and identity's JWKS to a pod).
    clients = {a for a in APPS if named(overlay, "Deployment", a)["spec"]["template"]["metadata"]["labels"].get("wse.vlaanderen.be/kafka-client") == "true"}
    assert clients == set(SERVICES)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_a_topic_a_service_creates_itself_gets_the_replication_the_kafka_topics_declare(overlay: str) -> None:
    # A service started before Strimzi's topic operator made a topic creates it (ensure_topics):
    # with the same replication as the KafkaTopics and the brokers' default, never silently 1.
    platform = next(c for c in of_kind(overlay, "ConfigMap") if c["metadata"]["name"].startswith("platform-config"))
    factor = int(platform["data"]["KAFKA_TOPIC_REPLICATION_FACTOR"])
    assert {t["spec"]["replicas"] for t in of_kind(overlay, "KafkaTopic")} == {factor}
    kafka = named(overlay, "Kafka", "wse")["spec"]["kafka"]["config"]
    assert int(kafka["default.replication.factor"]) == factor
    nodes = sum(pool["spec"]["replicas"] for pool in of_kind(overlay, "KafkaNodePool"))
    assert factor <= nodes
    assert factor == (3 if overlay == "production" else 1)


def test_production_exports_traces_to_the_collector_and_dev_does_not() -> None:
    # Issue 15, traces: off by default (dev, and the runtime's own default); production's
    # components/tracing sets the OTLP endpoint for every service and the portal, and opens only
    # the collector's OTLP/HTTP port to them.
    for app in APPS:
        assert "OTEL_EXPORTER_OTLP_ENDPOINT" in _environment("production", app), app
        assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in _environment("dev", app), app
    policy = named("production", "NetworkPolicy", "allow-otlp")["spec"]
    assert policy["policyTypes"] == ["Egress"] and "ingress" not in policy
    (selected,) = policy["podSelector"]["matchExpressions"]
    assert selected["key"] == "app.kubernetes.io/name" and selected["operator"] == "In" and set(selected["values"]) == set(APPS)
    assert _peers(policy["egress"], "to") == [("ns=observability", frozenset({4318}))]
    assert not [p for p in of_kind("dev", "NetworkPolicy") if p["metadata"]["name"] == "allow-otlp"]
    # The trust boundary: the ingress starts each request's trace, a caller's traceparent is not believed.
    annotations = named("production", "Ingress", "wse")["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/enable-opentelemetry"] == "true"
    assert annotations["nginx.ingress.kubernetes.io/opentelemetry-trust-incoming-span"] == "false"


def test_the_ingress_serves_the_portal_and_the_public_apis() -> None:
    for overlay in OVERLAYS:
        ingress = named(overlay, "Ingress", "wse")["spec"]
        backends = {rule["http"]["paths"][0]["backend"]["service"]["name"] for rule in ingress["rules"]}
        assert backends == set(APPS)
        # A service's API, its OpenAPI document and identity's keys, never /metrics or /health.
        for rule in ingress["rules"]:
            app = rule["http"]["paths"][0]["backend"]["service"]["name"]
            paths = {path["path"] for path in rule["http"]["paths"]}
            assert all(path["backend"]["service"]["name"] == app for path in rule["http"]["paths"])
            if app == "portal":
                assert paths == {"/"}, f"{overlay}: the portal's pages"
            else:
                assert paths == {"/v1", "/schema"} | ({"/.well-known"} if app == "identity" else set()), f"{overlay}: {app}'s paths"
        assert {h for t in ingress["tls"] for h in t["hosts"]} == {rule["host"] for rule in ingress["rules"]}
    assert any(rule["host"].endswith(".vlaanderen.be") for rule in named("production", "Ingress", "wse")["spec"]["rules"])


def _consumed_partitions(app: str) -> int | None:
    """The fewest partitions among the topics a service consumes (None: it consumes nothing)."""
    import importlib

    definition = importlib.import_module(f"{app}.definition")
    service = next(v for v in vars(definition).values() if type(v).__name__ == "Service")
    counts = [TOPICS[topic].partitions for consumer in service.all_consumers() for topic in consumer.topics if topic in TOPICS]
    return min(counts) if counts else None


def test_autoscaling_production_only_within_the_partitions() -> None:
    assert not of_kind("dev", "HorizontalPodAutoscaler") and not of_kind("dev", "ScaledObject")
    for app in APPS:
        assert named("dev", "Deployment", app)["spec"]["replicas"] == 1
        assert "replicas" not in named("production", "Deployment", app)["spec"], "the autoscaler owns the count"
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h["spec"] for h in of_kind("production", "HorizontalPodAutoscaler")}
    assert set(hpas) == {"identity", "registration", "recognition", "portal"}
    for app, spec in hpas.items():
        assert spec["metrics"][0]["resource"]["name"] == "cpu"
        assert 2 <= spec["minReplicas"] <= spec["maxReplicas"]
        partitions = None if app == "portal" else _consumed_partitions(app)
        if partitions is not None:
            assert spec["maxReplicas"] <= partitions, f"{app}: more replicas than partitions would sit idle"
    scaled = {s["spec"]["scaleTargetRef"]["name"]: s["spec"] for s in of_kind("production", "ScaledObject")}
    assert set(scaled) == {"notification", "attestation"}
    for app, spec in scaled.items():
        partitions = _consumed_partitions(app)
        assert partitions is not None and 2 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= partitions
        for trigger in spec["triggers"]:
            assert trigger["type"] == "kafka"
            metadata = trigger["metadata"]
            assert metadata["bootstrapServers"].startswith("wse-kafka-bootstrap")
            assert metadata["consumerGroup"].startswith(f"{app}.")
            assert metadata["topic"] in TOPICS and int(metadata["lagThreshold"]) > 0
