"""Every custom resource of every overlay validates against its operator's published CRD schema
(issue 15): Strimzi's Kafka, KafkaNodePool and KafkaTopic; CloudNativePG's Cluster and
ScheduledBackup; the Barman Cloud plugin's ObjectStore; KEDA's ScaledObject.

Where the CRDs come from:
- CloudNativePG, its Barman Cloud plugin and KEDA publish Go modules whose source holds their CRDs
  (config/crd/bases): the test takes them from the Go module proxy, as `go mod download` would, and
  keeps them in .cache/crds.
- Strimzi publishes its CRDs only with its GitHub releases, which this machine cannot reach:
  tests/deploy/crds/ holds them as Strimzi 1.2.0 tagged them (packaging/install/cluster-operator,
  tag 1.2.0, commit 6c7b43c4af0db547c10463ba09d1dfa6f5e156a0), unchanged.

Validation is strict, as `kubectl apply --validate=strict` is: a field the schema does not know is
an error (Kubernetes would drop it silently), except where the schema keeps unknown fields.
"""

from __future__ import annotations

import io
import os
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml

from tests.deploy.test_kubernetes import CUSTOM_GROUPS, OVERLAYS, ROOT, build

CACHE = ROOT / ".cache" / "crds"
VENDORED = Path(__file__).parent / "crds"
# (Go module, version): the operators' releases these manifests are written for.
GO_MODULES = [
    ("github.com/cloudnative-pg/cloudnative-pg", "v1.28.0"),
    ("github.com/cloudnative-pg/plugin-barman-cloud", "v0.7.0"),
    ("github.com/kedacore/keda/v2", "v2.21.0"),
]
GO_PROXY = "https://proxy.golang.org"


def _module_crds(module: str, version: str) -> list[dict[str, Any]]:
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / f"{module.replace('/', '_')}@{version}.zip"
    if archive.exists() and not zipfile.is_zipfile(archive):
        archive.unlink()  # a download cut short: fetch it again
    if not archive.exists():
        url = f"{GO_PROXY}/{module}/@v/{version}.zip"
        try:
            answer = httpx.get(url, timeout=120, follow_redirects=True)
        except httpx.HTTPError as error:
            pytest.fail(f"could not download {module} {version}'s CRDs from the Go module proxy ({url}): {error}")
        assert answer.status_code == 200, f"the Go module proxy answered {answer.status_code} for {url}"
        partial = archive.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(answer.content)
        os.replace(partial, archive)  # whole or not at all, also with two runs at once
    found = []
    with zipfile.ZipFile(archive) as zipped:
        for name in zipped.namelist():
            if "/config/crd/bases/" in name and name.endswith(".yaml"):
                found += [d for d in yaml.safe_load_all(io.BytesIO(zipped.read(name))) if d and d.get("kind") == "CustomResourceDefinition"]
    assert found, f"no CRDs in {module} {version}"
    return found


@cache
def crds() -> dict[tuple[str, str], dict[str, Any]]:
    """(group, kind) -> CRD."""
    documents = [d for path in sorted(VENDORED.glob("*.yaml")) for d in yaml.safe_load_all(path.read_text()) if d]
    for module, version in GO_MODULES:
        documents += _module_crds(module, version)
    return {(d["spec"]["group"], d["spec"]["names"]["kind"]): d for d in documents if d.get("kind") == "CustomResourceDefinition"}


def _strict(schema: Any) -> Any:
    """The schema with unknown fields refused where Kubernetes would prune them."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {key: _strict(value) for key, value in schema.items()}
    if "properties" in schema and "additionalProperties" not in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
        strict["additionalProperties"] = False
    return strict


def _schema_for(resource: dict[str, Any]) -> dict[str, Any]:
    group, version = resource["apiVersion"].split("/")
    crd = crds().get((group, resource["kind"]))
    assert crd is not None, f"no published CRD for {resource['apiVersion']} {resource['kind']}"
    served = {v["name"]: v for v in crd["spec"]["versions"] if v.get("served")}
    assert version in served, f"{resource['kind']} {resource['metadata']['name']}: {resource['apiVersion']} is not served (the CRD serves {sorted(served)})"
    schema: dict[str, Any] = served[version]["schema"]["openAPIV3Schema"]
    return schema


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_custom_resource_validates_against_its_operators_crd(overlay: str) -> None:
    resources = [r for r in build(overlay) if r["apiVersion"].startswith(CUSTOM_GROUPS)]
    assert {r["kind"] for r in resources} >= {"Kafka", "KafkaNodePool", "KafkaTopic", "Cluster", "ScheduledBackup", "ObjectStore"}
    problems = []
    for resource in resources:
        schema = _strict(_schema_for(resource))
        for error in jsonschema.Draft7Validator(schema).iter_errors(resource):
            where = "/".join(str(p) for p in error.absolute_path)
            problems.append(f"{resource['kind']} {resource['metadata']['name']}: {where}: {error.message}")
    assert not problems, "\n".join(problems)


def test_the_strict_check_refuses_a_field_the_operator_does_not_know() -> None:
    # The check itself: a misspelt field and a version the operator no longer serves are caught.
    kafka = next(r for r in build("production") if r["kind"] == "Kafka")
    misspelt = {**kafka, "spec": {**kafka["spec"], "kafka": {**kafka["spec"]["kafka"], "listners": []}}}
    assert list(jsonschema.Draft7Validator(_strict(_schema_for(kafka))).iter_errors(misspelt))
    with pytest.raises(AssertionError, match="not served"):
        _schema_for({**kafka, "apiVersion": "kafka.strimzi.io/v1beta2"})
