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


def config_map(docs: list[dict[str, Any]], prefix: str) -> dict[str, Any]:
    [cm] = (d for name, d in by_kind(docs, "ConfigMap").items() if name.startswith(prefix))
    return cm


def test_config_selects_cassandra_and_redis(docs: list[dict[str, Any]]) -> None:
    cm = config_map(docs, "numrep-config")
    assert cm["data"]["NUMREP_STORE"] == "cassandra"
    assert cm["data"]["NUMREP_BROKER_URL"].startswith("redis://")
    from numrep.config import load_settings

    load_settings(environ={**cm["data"], "NUMREP_HASH_KEY": "x" * 64})  # the ConfigMap is a valid configuration


def test_replication_and_scale_per_overlay() -> None:
    dev, prod = render("dev"), render("prod")
    dev_cm, prod_cm = config_map(dev, "numrep-config"), config_map(prod, "numrep-config")
    assert prod_cm["data"]["NUMREP_CASSANDRA_REPLICATION"].endswith("=3")
    assert dev_cm["data"]["NUMREP_CASSANDRA_REPLICATION"].endswith("=1")
    assert by_kind(prod, "StatefulSet")["cassandra"]["spec"]["replicas"] >= 3
    assert by_kind(dev, "StatefulSet")["cassandra"]["spec"]["replicas"] == 1
    assert all(d["spec"]["replicas"] == 1 for d in by_kind(dev, "Deployment").values())
    assert by_kind(prod, "Deployment")["numrep-lookup"]["spec"]["replicas"] > 1
    assert "numrep-migrate" in by_kind(prod, "Job")
    assert by_kind(dev, "Secret"), "dev generates its own secret"
    assert not by_kind(prod, "Secret"), "prod secrets are created out of band, never committed"


def test_serving_pods_and_workers_are_scraped_on_their_metrics_port(docs: list[dict[str, Any]]) -> None:
    cm = config_map(docs, "numrep-config")
    port = cm["data"]["NUMREP_METRICS_PORT"]
    assert cm["data"]["NUMREP_METRICS_HOST"] == "0.0.0.0" and cm["data"]["NUMREP_LOG_FORMAT"] == "json"
    deployments = by_kind(docs, "Deployment")
    for name in ("numrep-lookup", "numrep-intake", "numrep-worker"):
        template = deployments[name]["spec"]["template"]
        notes = template["metadata"]["annotations"]
        assert notes["prometheus.io/scrape"] == "true" and notes["prometheus.io/path"] == "/metrics"
        assert notes["prometheus.io/port"] == port
        [c] = pod_spec(deployments[name])["containers"]
        assert {"name": "metrics", "containerPort": int(port), "protocol": "TCP"} in c["ports"]
    # the prefork worker aggregates its children's metrics from a writable directory
    [worker] = pod_spec(deployments["numrep-worker"])["containers"]
    env = {e["name"]: e["value"] for e in worker.get("env", [])}
    assert env["PROMETHEUS_MULTIPROC_DIR"] in {m["mountPath"] for m in worker["volumeMounts"]}


def test_grafana_dashboard_queries_only_metrics_numrep_exposes(docs: list[dict[str, Any]]) -> None:
    import json
    import re

    from numrep.metrics import METRIC_NAMES

    cm = config_map(docs, "numrep-grafana-dashboard")
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(cm["data"]["numrep-dashboard.json"])
    assert dashboard["uid"] and dashboard["panels"]
    exposed = set(METRIC_NAMES) | {f"{n}_{s}" for n in METRIC_NAMES for s in ("bucket", "count", "sum")}
    used = set()
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            names = set(re.findall(r"\bnumrep_[a-z_]+", target["expr"]))
            assert names and names <= exposed, (panel["title"], names - exposed)
            used |= names
    # every metric family shows on the dashboard
    assert {n for n in METRIC_NAMES} <= {u.removesuffix("_bucket") for u in used}
