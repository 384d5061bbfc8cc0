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
    out = subprocess.run(
        [kustomize(), "build", str(ROOT / "k8s" / "overlays" / overlay)], capture_output=True, text=True, check=True
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def values_of(container: dict[str, Any]) -> dict[str, str]:
    """A container's plain ``env`` values (not those from Secrets)."""
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


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
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        health = int(values_of(c)["NUMREP_GRPC_HEALTH_PORT"])
        # the API port (50051) speaks TLS, which the kubelet's gRPC probe cannot: it probes the plaintext health port
        assert ports["grpc"] == 50051 and ports["health"] == health != 50051
        assert c["readinessProbe"]["grpc"]["port"] == health
        assert c["livenessProbe"]["grpc"]["port"] == health
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


# ---- exposure: TLS, store credentials, NetworkPolicies (issue 11, item 4) -------------------------
NUMREP_WORKLOADS = ("numrep-lookup", "numrep-intake", "numrep-worker", "numrep-beat", "numrep-migrate")


def workloads(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] in ("Deployment", "StatefulSet", "Job")}


def secret_data(docs: list[dict[str, Any]], prefix: str) -> dict[str, bytes]:
    import base64

    [secret] = [d for d in by_kind(docs, "Secret").values() if d["metadata"]["name"].startswith(prefix)]
    return {k: base64.b64decode(v) for k, v in secret["data"].items()}


def test_grpc_services_serve_tls_from_a_cert_manager_secret(docs: list[dict[str, Any]]) -> None:
    for name in ("numrep-lookup", "numrep-intake"):
        spec = pod_spec(by_kind(docs, "Deployment")[name])
        [c] = spec["containers"]
        env = values_of(c)
        assert env["NUMREP_TLS_CERT_FILE"] == "/etc/numrep/tls/tls.crt"
        assert env["NUMREP_TLS_KEY_FILE"] == "/etc/numrep/tls/tls.key"
        [mount] = [m for m in c["volumeMounts"] if m["mountPath"] == "/etc/numrep/tls"]
        [volume] = [v for v in spec["volumes"] if v["name"] == mount["name"]]
        assert volume["secret"]["secretName"].startswith("numrep-tls")  # cert-manager's tls.crt, tls.key, ca.crt
    cm = config_map(docs, "numrep-config")
    assert cm["data"]["NUMREP_AUTH_REQUIRED"] == "true" or cm["data"]["NUMREP_INSECURE_ALLOW_PUBLIC"] == "true"


def test_dev_pods_start_with_their_rendered_settings(tmp_path: Path) -> None:
    """Every numrep container of the dev overlay: ConfigMap + generated Secret + its env make valid settings, with
    the TLS files mounted where the env says; the gRPC pods pass the exposure check and serve TLS."""
    from numrep.config import load_settings
    from services.server import check_exposure, server_credentials

    docs = render("dev")
    cm = config_map(docs, "numrep-config")
    secrets = {k: v.decode() for k, v in secret_data(docs, "numrep-secrets").items()}
    tls = secret_data(docs, "numrep-tls")
    assert set(tls) == {"tls.crt", "tls.key", "ca.crt"}
    for key, data in tls.items():
        (tmp_path / key).write_bytes(data)
    (tmp_path / "rules-ed25519.pem").write_bytes(secret_data(docs, "numrep-signing-key")["rules-ed25519.pem"])
    for name in NUMREP_WORKLOADS:
        spec = pod_spec(workloads(docs)[name])
        for c in spec["containers"]:
            env = {
                k: v.replace("/etc/numrep/tls", str(tmp_path)).replace("/etc/numrep/signing", str(tmp_path))
                for k, v in values_of(c).items()
                if k.startswith("NUMREP_")
            }
            settings = load_settings(environ={**cm["data"], **secrets, **env, "NUMREP_DATA_DIR": str(tmp_path)})
            assert settings.celery_broker_url == f"redis://:{secrets['NUMREP_BROKER_PASSWORD']}@redis:6379/0"
            assert settings.cassandra_username == "numrep"
            if c.get("args") == ["serve"]:
                check_exposure(settings)
                assert server_credentials(settings) is not None


def test_redis_requires_a_password_from_the_secret(docs: list[dict[str, Any]]) -> None:
    [c] = pod_spec(workloads(docs)["redis"])["containers"]
    script = " ".join(c.get("command", []) + c.get("args", []))
    assert "--protected-mode no" not in script and "requirepass $REDISCLI_AUTH" in script
    [auth] = [e for e in c["env"] if e["name"] == "REDISCLI_AUTH"]
    ref = auth["valueFrom"]["secretKeyRef"]
    assert ref["name"].startswith("numrep-secrets") and ref["key"] == "NUMREP_BROKER_PASSWORD"


def test_cassandra_requires_authentication_and_numrep_has_a_role(docs: list[dict[str, Any]], tmp_path: Path) -> None:
    import re

    [c] = pod_spec(workloads(docs)["cassandra"])["containers"]
    script = c["args"][0]
    assert "authenticator: PasswordAuthenticator" in script and "exec docker-entrypoint.sh cassandra -f" in script
    # the rewrite works on either form of the image's setting
    awk = re.search(r"(awk '.*?') \"\$conf\"", script, re.S)
    assert awk is not None
    for before in (
        "authenticator: AllowAllAuthenticator\nauthorizer: AllowAllAuthorizer\n",
        "authenticator:\n  class_name : org.apache.cassandra.auth.AllowAllAuthenticator\n"
        "# a comment\nauthorizer: AllowAllAuthorizer\n",
    ):
        conf = tmp_path / "cassandra.yaml"
        conf.write_text(before)
        after = subprocess.run(
            ["sh", "-c", f'{awk.group(1)} "$0"', str(conf)], capture_output=True, text=True, check=True
        ).stdout
        assert yaml.safe_load(after) == {"authenticator": "PasswordAuthenticator", "authorizer": "AllowAllAuthorizer"}
    [init] = pod_spec(workloads(docs)["numrep-migrate"])["initContainers"]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in init["env"] if "valueFrom" in e}
    assert refs["NUMREP_CASSANDRA_USERNAME"]["name"].startswith("numrep-secrets")
    assert refs["NUMREP_CASSANDRA_PASSWORD"]["name"].startswith("numrep-secrets")
    assert refs["CASSANDRA_ADMIN_PASSWORD"]["name"].startswith("cassandra-admin")
    script = init["args"][0]
    assert "user=$NUMREP_CASSANDRA_USERNAME" in script and "CREATE ROLE IF NOT EXISTS $user" in script
    assert "ALTER ROLE cassandra WITH PASSWORD" in script  # the default superuser password does not survive


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def test_only_numrep_pods_reach_the_stores(docs: list[dict[str, Any]]) -> None:
    pods = {name: w["spec"]["template"]["metadata"]["labels"] for name, w in workloads(docs).items()}
    policies = by_kind(docs, "NetworkPolicy")
    for store, port in (("redis", 6379), ("cassandra", 9042)):
        [policy] = [p for p in policies.values() if _selects(p["spec"]["podSelector"], pods[store])]
        assert policy["spec"]["policyTypes"] == ["Ingress"]
        admitted: set[str] = set()
        for rule in policy["spec"]["ingress"]:
            for peer in rule["from"]:
                assert set(peer) == {"podSelector"}, "no namespace or address may come in"
                admitted |= {name for name, labels in pods.items() if _selects(peer["podSelector"], labels)}
        clients = {
            name
            for name, labels in pods.items()
            if any(
                _selects(peer["podSelector"], labels)
                for rule in policy["spec"]["ingress"]
                if {"protocol": "TCP", "port": port} in rule["ports"]
                for peer in rule["from"]
            )
        }
        numrep_clients = set(NUMREP_WORKLOADS) - ({"numrep-migrate"} if store == "redis" else set())
        assert clients - {"cassandra"} == numrep_clients, store
        assert admitted <= set(NUMREP_WORKLOADS) | {"cassandra"}, store
