"""TLS, mutual TLS, and load shedding with RESOURCE_EXHAUSTED."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import grpc
import pytest

from numrep.config import Settings
from numrep.errors import ConfigError
from numrep.sdk.client import Client
from numrep.store.base import Store
from numrep.v1 import rules_pb2
from scripts.devcerts import make
from services.server import Server


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make(tmp_path_factory.mktemp("certs"))


def started(settings: Settings, store: Store, **update: object) -> Server:
    return Server(settings.model_copy(update=update), store=store, nudge=lambda: None).start()


def test_tls_server_refuses_plaintext_and_serves_verified_clients(
    settings: Settings, store: Store, certs: dict[str, Path]
) -> None:
    srv = started(settings, store, tls_cert_file=certs["server"], tls_key_file=certs["server_key"])
    try:
        with Client(srv.address, timeout=3, root_ca=certs["ca"].read_bytes()) as c:
            assert c.lookup("110").protected
        with Client(srv.address, timeout=3) as plain:
            with pytest.raises(grpc.RpcError) as exc:
                plain.lookup("110")
            assert exc.value.code() is grpc.StatusCode.UNAVAILABLE
    finally:
        srv.stop(grace=0)


def test_mutual_tls_needs_a_client_certificate(settings: Settings, store: Store, certs: dict[str, Path]) -> None:
    srv = started(
        settings, store, tls_cert_file=certs["server"], tls_key_file=certs["server_key"], tls_client_ca_file=certs["ca"]
    )
    try:
        with Client(srv.address, timeout=3, root_ca=certs["ca"].read_bytes()) as no_cert:
            with pytest.raises(grpc.RpcError) as exc:
                no_cert.lookup("110")
            assert exc.value.code() is grpc.StatusCode.UNAVAILABLE
        with Client(
            srv.address,
            timeout=3,
            root_ca=certs["ca"].read_bytes(),
            client_cert=certs["client"].read_bytes(),
            client_key=certs["client_key"].read_bytes(),
        ) as c:
            assert c.lookup("110").protected
    finally:
        srv.stop(grace=0)


def test_tls_settings_are_checked_at_start(settings: Settings, certs: dict[str, Path]) -> None:
    from numrep.config import load_settings

    with pytest.raises(ConfigError, match="go together"):
        load_settings(environ={"NUMREP_TLS_CERT_FILE": str(certs["server"])})
    with pytest.raises(ConfigError, match="is not a readable file"):
        load_settings(environ={"NUMREP_TLS_CERT_FILE": "/nope.pem", "NUMREP_TLS_KEY_FILE": str(certs["server_key"])})


def test_overload_is_shed_at_once_with_resource_exhausted(settings: Settings, store: Store) -> None:
    srv = started(settings, store, grpc_max_concurrent_rpcs=2)
    streams: list[Any] = []
    try:
        with Client(srv.address, timeout=5) as c:
            for _ in range(2):  # two long-lived calls fill the server
                s = c.rules.WatchRules(rules_pb2.GetRulesRequest(), timeout=30)
                next(s)
                streams.append(s)
            with pytest.raises(grpc.RpcError) as exc:
                c.lookup("13800138000")
            # shed at once: a queued call would have ended in DEADLINE_EXCEEDED instead
            assert exc.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
            for s in streams:
                s.cancel()
            deadline = time.monotonic() + 10
            while True:  # capacity comes back once the streams end
                try:
                    assert c.lookup("13800138000").action
                    break
                except grpc.RpcError:
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
    finally:
        srv.stop(grace=0)


def test_rules_feed_watchers_cannot_take_every_thread(settings: Settings, store: Store) -> None:
    """Each WatchRules stream holds a serving thread; beyond the cap they are refused, lookups keep going."""
    srv = started(settings, store, grpc_max_workers=4)  # at most 2 watchers
    streams: list[Any] = []
    try:
        with Client(srv.address, timeout=5) as c:
            for _ in range(2):
                s = c.rules.WatchRules(rules_pb2.GetRulesRequest(), timeout=30)
                next(s)
                streams.append(s)
            with pytest.raises(grpc.RpcError) as exc:
                next(c.rules.WatchRules(rules_pb2.GetRulesRequest(), timeout=5))
            assert exc.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "already has 2 rules-feed watchers; poll GetRules" in (exc.value.details() or "")
            for i in range(20):  # the other threads still answer
                assert c.lookup(f"138001380{i:02d}").action
            assert c.get_rules().version == 0  # and polling the feed works
            streams.pop().cancel()
            deadline = time.monotonic() + 10
            while True:  # the cancelled watcher's place is free again
                try:
                    s = c.rules.WatchRules(rules_pb2.GetRulesRequest(), timeout=30)
                    next(s)
                    streams.append(s)
                    break
                except grpc.RpcError as err:
                    assert err.code() is grpc.StatusCode.RESOURCE_EXHAUSTED and time.monotonic() < deadline
                    time.sleep(0.1)
    finally:
        for s in streams:
            s.cancel()
        srv.stop(grace=0)


def test_the_cli_speaks_mutual_tls_from_settings(
    settings: Settings, store: Store, certs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from numrep.cli import main

    srv = started(
        settings, store, tls_cert_file=certs["server"], tls_key_file=certs["server_key"], tls_client_ca_file=certs["ca"]
    )
    try:
        for k in [k for k in __import__("os").environ if k.startswith("NUMREP_")]:
            monkeypatch.delenv(k)
        monkeypatch.setenv("NUMREP_DATA_DIR", str(settings.data_dir))
        runner = CliRunner()
        plain = runner.invoke(main, ["lookup", "110", "--target", srv.address])
        assert plain.exit_code != 0 and "UNAVAILABLE" in plain.output
        env = {
            "NUMREP_CLIENT_CA_FILE": str(certs["ca"]),
            "NUMREP_CLIENT_CERT_FILE": str(certs["client"]),
            "NUMREP_CLIENT_KEY_FILE": str(certs["client_key"]),
        }
        ok = runner.invoke(main, ["lookup", "110", "--target", srv.address, "--json"], env=env)
        assert ok.exit_code == 0, ok.output
        assert '"protected": true' in ok.output
        half = runner.invoke(
            main, ["lookup", "110", "--target", srv.address], env={"NUMREP_CLIENT_CERT_FILE": str(certs["client"])}
        )
        assert half.exit_code != 0 and "NUMREP_CLIENT_CERT_FILE and NUMREP_CLIENT_KEY_FILE go together" in half.output
    finally:
        srv.stop(grace=0)
