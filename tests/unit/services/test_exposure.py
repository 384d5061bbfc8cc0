"""Exposure: no public listening without auth unless asked; TLS with a self-signed certificate; a plaintext
health-only port for probes."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import grpc
import pytest
from click.testing import CliRunner
from grpc_health.v1 import health_pb2, health_pb2_grpc

from numrep.config import Settings
from numrep.errors import ConfigError
from numrep.sdk.client import Client
from numrep.store.base import Store
from scripts.devcerts import self_signed
from services.server import Server, is_loopback

ROOT = Path(__file__).resolve().parents[3]


def image_env() -> dict[str, str]:
    """The NUMREP_* environment the Docker image sets (its ENV lines)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(re.findall(r"(NUMREP_\w+)=(\S+)", line))
    return env


def test_loopback_addresses() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "[::]", "10.0.0.7", "numrep-lookup"))


def test_the_image_refuses_to_serve_publicly_without_auth(tmp_path: Path) -> None:
    env = {**image_env(), "NUMREP_DATA_DIR": str(tmp_path), "NUMREP_GRPC_PORT": "0"}
    assert env["NUMREP_GRPC_HOST"] == "0.0.0.0"  # the image listens on every interface ...
    from numrep.cli import main

    result = CliRunner().invoke(main, ["serve"], env=env)
    said = " ".join(result.output.split())  # the console wraps lines
    assert result.exit_code == 2, said  # ... so without auth it does not start
    assert "refusing to listen beyond this machine without auth" in said
    assert "--insecure-allow-public" in said
    up = CliRunner().invoke(main, ["up"], env=env)
    assert up.exit_code == 2 and "without auth" in " ".join(up.output.split())
    assert not (tmp_path / "worker.log").exists()  # refused before a worker was started


def test_public_without_auth_only_when_asked_and_with_a_warning(
    settings: Settings, sqlite_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    public = settings.model_copy(update={"grpc_host": "0.0.0.0"})
    with pytest.raises(ConfigError, match="NUMREP_GRPC_HOST=0.0.0.0: refusing"):
        Server(public, store=sqlite_store, nudge=lambda: None)
    with caplog.at_level(logging.WARNING):
        srv = Server(
            public.model_copy(update={"insecure_allow_public": True}), store=sqlite_store, nudge=lambda: None
        ).start()
    try:
        with Client(f"127.0.0.1:{srv.port}", timeout=5) as c:
            assert c.lookup("110").protected
    finally:
        srv.stop(grace=0)
    warnings = " | ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "WITHOUT AUTH" in warnings and "PLAINTEXT" in warnings


def test_public_with_auth_starts_and_warns_about_plaintext(
    settings: Settings, sqlite_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        srv = Server(
            settings.model_copy(update={"grpc_host": "0.0.0.0", "auth_required": True}),
            store=sqlite_store,
            nudge=lambda: None,
        ).start()
    srv.stop(grace=0)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("PLAINTEXT" in w for w in warnings) and not any("WITHOUT AUTH" in w for w in warnings)


def test_tls_with_a_self_signed_certificate_and_a_plaintext_health_port(
    settings: Settings, sqlite_store: Store, tmp_path: Path
) -> None:
    """Given a server with a self-signed certificate and a health port, a client trusting that certificate looks
    up over TLS; the kubelet's plaintext probe reaches health on the health port, and nothing else there."""
    tls = self_signed(tmp_path / "tls", ["localhost", "127.0.0.1"])
    srv = Server(
        settings.model_copy(update={"tls_cert_file": tls["cert"], "tls_key_file": tls["key"], "grpc_health_port": 0}),
        store=sqlite_store,
        nudge=lambda: None,
    ).start()
    try:
        with Client(srv.address, timeout=5, root_ca=tls["ca"].read_bytes()) as c:
            assert c.lookup("110").protected
            assert c.lookup("13800138000").action
        with Client(srv.address, timeout=3) as plain:  # the main port speaks TLS only
            with pytest.raises(grpc.RpcError) as exc:
                plain.lookup("110")
            assert exc.value.code() is grpc.StatusCode.UNAVAILABLE
        probe = f"127.0.0.1:{srv.health_port}"
        assert srv.health_port not in (0, srv.port)
        with grpc.insecure_channel(probe) as ch:
            health = health_pb2_grpc.HealthStub(ch)
            assert (
                health.Check(health_pb2.HealthCheckRequest(), timeout=5).status
                == health_pb2.HealthCheckResponse.SERVING
            )
            assert (
                health.Check(health_pb2.HealthCheckRequest(service="numrep.v1.ReputationService"), timeout=5).status
                == health_pb2.HealthCheckResponse.SERVING
            )
        with Client(probe, timeout=3) as only_health:
            with pytest.raises(grpc.RpcError) as exc:
                only_health.lookup("110")
            assert exc.value.code() is grpc.StatusCode.UNIMPLEMENTED
        srv.health.enter_graceful_shutdown()  # on SIGTERM the probe port tells the kubelet too
        with grpc.insecure_channel(probe) as ch:
            assert (
                health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5).status
                == health_pb2.HealthCheckResponse.NOT_SERVING
            )
    finally:
        srv.stop(grace=0)


def test_the_health_port_is_its_own() -> None:
    from numrep.config import load_settings

    with pytest.raises(ConfigError, match="NUMREP_GRPC_HEALTH_PORT must differ from NUMREP_GRPC_PORT"):
        load_settings(environ={"NUMREP_GRPC_PORT": "50051", "NUMREP_GRPC_HEALTH_PORT": "50051"})
