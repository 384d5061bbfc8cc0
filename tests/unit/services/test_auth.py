"""API keys and scopes: UNAUTHENTICATED without a valid key, PERMISSION_DENIED without the scope."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from numrep import auth
from numrep.client import Client
from numrep.config import Settings
from numrep.models import Scope
from numrep.store.base import Store
from numrep.v1 import admin_pb2, rules_pb2
from services.server import Server


@pytest.fixture
def secured(settings: Settings, store: Store) -> Iterator[Server]:
    s = settings.model_copy(update={"auth_required": True, "auth_cache_seconds": 0})
    srv = Server(s, store=store, nudge=lambda: None).start()
    yield srv
    srv.stop(grace=1)


def call(server: Server, key: str | None, fn: str) -> grpc.StatusCode:
    with Client(server.address, timeout=5, api_key=key) as c:
        try:
            {"lookup": lambda: c.lookup("13800138000"),
             "report": lambda: c.report("13800138000", "alice"),
             "rules": lambda: c.rules.GetRules(rules_pb2.GetRulesRequest(), timeout=5),
             "admin": lambda: c.admin.ListAllowlist(admin_pb2.ListAllowlistRequest(), timeout=5)}[fn]()
        except grpc.RpcError as exc:
            return exc.code()
    return grpc.StatusCode.OK


def test_the_whole_matrix(secured: Server) -> None:
    store, settings = secured.store, secured.settings
    switch, _ = auth.create_key(store, settings, "China Mobile switch", [Scope.LOOKUP, Scope.RULES])
    admin, _ = auth.create_key(store, settings, "regulator analysts", [Scope.ADMIN, Scope.REPORT])
    for fn in ("lookup", "report", "rules", "admin"):
        assert call(secured, None, fn) is grpc.StatusCode.UNAUTHENTICATED
        assert call(secured, "nrk_not-a-key", fn) is grpc.StatusCode.UNAUTHENTICATED
    assert [call(secured, switch, fn) for fn in ("lookup", "report", "rules", "admin")] == [
        grpc.StatusCode.OK, grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.OK, grpc.StatusCode.PERMISSION_DENIED]
    assert [call(secured, admin, fn) for fn in ("lookup", "report", "rules", "admin")] == [
        grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.OK, grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.OK]
    with Client(secured.address, timeout=5, api_key=switch) as c:
        with pytest.raises(grpc.RpcError) as exc:
            c.admin.GetStatus(admin_pb2.GetStatusRequest(), timeout=5)
        assert exc.value.details() == (
            "the key of China Mobile switch lacks the 'admin' scope needed for /numrep.v1.AdminService/GetStatus")
        # health checking stays open for probes
        health = health_pb2_grpc.HealthStub(grpc.insecure_channel(secured.address))
        assert health.Check(health_pb2.HealthCheckRequest(), timeout=5).status == health_pb2.HealthCheckResponse.SERVING


def test_revoked_keys_stop_working(secured: Server) -> None:
    raw, key = auth.create_key(secured.store, secured.settings, "reseller", [Scope.LOOKUP])
    assert call(secured, raw, "lookup") is grpc.StatusCode.OK
    auth.revoke(secured.store, key.key_hash[:12])
    assert call(secured, raw, "lookup") is grpc.StatusCode.UNAUTHENTICATED


def test_keys_are_stored_hashed_only(settings: Settings, sqlite_store: Store) -> None:
    raw, key = auth.create_key(sqlite_store, settings, "op", [Scope.LOOKUP])
    assert raw.startswith("nrk_") and key.key_hash.startswith("h1:") and raw not in key.key_hash
    sqlite_store.close()
    dump = "\n".join(sqlite3.connect(settings.sqlite_file).iterdump())
    assert key.key_hash in dump and raw not in dump


def test_key_creation_validates(settings: Settings, sqlite_store: Store) -> None:
    with pytest.raises(auth.ValidationError, match="operator: required"):
        auth.create_key(sqlite_store, settings, " ", [Scope.LOOKUP])
    with pytest.raises(auth.ValidationError, match="scopes"):
        auth.create_key(sqlite_store, settings, "op", [])
