"""Kubernetes manifests: every overlay renders offline and validates against the schemas.

No cluster needed: kustomize renders, kubernetes-validate checks each object
against the Kubernetes OpenAPI schemas (strict: unknown fields are errors),
and the checks below hold the manifests to docs/ARCHITECTURE.md §7.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import missing_backend

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = sorted(p.name for p in (ROOT / "k8s" / "overlays").iterdir() if p.is_dir())
K8S_VERSION = "1.31.0"
CACHE_BIN = Path(os.environ.get("NUMREP_CACHE_DIR", Path.home() / ".cache" / "numrep")) / "bin" / "kustomize"


def kustomize() -> str:
    exe = shutil.which("kustomize") or (str(CACHE_BIN) if CACHE_BIN.exists() else None)
    if exe is None:
        missing_backend("kustomize", "not installed (scripts/test.sh installs it with `go install`)")
    return str(exe)


def render(overlay: str) -> list[dict[str, Any]]:
    out = subprocess.run([kustomize(), "build", str(ROOT / "k8s" / "overlays" / overlay)],
                         capture_output=True, text=True, check=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = obj["spec"]["template"]["spec"]
    return spec


@pytest.fixture(scope="module", params=OVERLAYS)
def docs(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(request.param)


def test_there_are_dev_and_prod_overlays() -> None:
    assert {"dev", "prod"} <= set(OVERLAYS)


def test_every_object_validates_against_the_kubernetes_schemas(docs: list[dict[str, Any]]) -> None:
    import kubernetes_validate

    for d in docs:
        kubernetes_validate.validate(d, K8S_VERSION, strict=True)


def test_workloads_run_non_root_with_requests_and_limits(docs: list[dict[str, Any]]) -> None:
    workloads = [d for d in docs if d["kind"] in ("Deployment", "StatefulSet", "Job")]
    assert len(workloads) >= 7
    for w in workloads:
        spec = pod_spec(w)
        assert spec["securityContext"]["runAsNonRoot"] is True, w["metadata"]["name"]
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        for c in spec["containers"]:
            where = f"{w['metadata']['name']}/{c['name']}"
            assert {"cpu", "memory"} <= set(c["resources"]["requests"]), where
            assert {"cpu", "memory"} <= set(c["resources"]["limits"]), where
            assert c["securityContext"]["allowPrivilegeEscalation"] is False, where
            assert c["securityContext"]["capabilities"]["drop"] == ["ALL"], where


def test_grpc_services_use_native_grpc_probes(docs: list[dict[str, Any]]) -> None:
    deployments = by_kind(docs, "Deployment")
    for name in ("numrep-lookup", "numrep-intake"):
        [c] = pod_spec(deployments[name])["containers"]
        assert c["readinessProbe"]["grpc"]["port"] == 50051
        assert c["livenessProbe"]["grpc"]["port"] == 50051
        assert c["args"] == ["serve"]
        env = {e["name"]: e["value"] for e in c.get("env", [])}
        mounts = {m["mountPath"] for m in c["volumeMounts"]}
        assert env["NUMREP_RULES_SIGNING_KEY_FILE"].startswith("/etc/numrep/signing/")
        assert "/etc/numrep/signing" in mounts  # every pod signs with the same key


def test_one_beat_hpa_on_lookup_and_pdbs(docs: list[dict[str, Any]]) -> None:
    deployments = by_kind(docs, "Deployment")
    assert deployments["numrep-beat"]["spec"]["replicas"] == 1
    assert deployments["numrep-beat"]["spec"]["strategy"]["type"] == "Recreate"
    [hpa] = by_kind(docs, "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"]["name"] == "numrep-lookup"
    assert {"numrep-lookup", "numrep-intake", "numrep-worker", "cassandra"} <= set(by_kind(docs, "PodDisruptionBudget"))
    assert set(by_kind(docs, "StatefulSet")) == {"cassandra", "redis"}


def test_config_selects_cassandra_and_redis(docs: list[dict[str, Any]]) -> None:
    [cm] = by_kind(docs, "ConfigMap").values()
    assert cm["data"]["NUMREP_STORE"] == "cassandra"
    assert cm["data"]["NUMREP_BROKER_URL"].startswith("redis://")
    from numrep.config import load_settings

    load_settings(environ={**cm["data"], "NUMREP_HASH_KEY": "x" * 64})  # the ConfigMap is a valid configuration


def test_replication_and_scale_per_overlay() -> None:
    dev, prod = render("dev"), render("prod")
    [dev_cm], [prod_cm] = by_kind(dev, "ConfigMap").values(), by_kind(prod, "ConfigMap").values()
    assert prod_cm["data"]["NUMREP_CASSANDRA_REPLICATION"].endswith("=3")
    assert dev_cm["data"]["NUMREP_CASSANDRA_REPLICATION"].endswith("=1")
    assert by_kind(prod, "StatefulSet")["cassandra"]["spec"]["replicas"] >= 3
    assert by_kind(dev, "StatefulSet")["cassandra"]["spec"]["replicas"] == 1
    assert all(d["spec"]["replicas"] == 1 for d in by_kind(dev, "Deployment").values())
    assert by_kind(prod, "Deployment")["numrep-lookup"]["spec"]["replicas"] > 1
    assert "numrep-migrate" in by_kind(prod, "Job")
    assert by_kind(dev, "Secret"), "dev generates its own secret"
    assert not by_kind(prod, "Secret"), "prod secrets are created out of band, never committed"
