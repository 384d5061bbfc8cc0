"""API keys and scopes: UNAUTHENTICATED without a valid key, PERMISSION_DENIED without the scope."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from numrep import auth
from numrep.config import Settings
from numrep.models import Scope
from numrep.sdk.client import Client
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
            {
                "lookup": lambda: c.lookup("13800138000"),
                "report": lambda: c.report("13800138000", "alice"),
                "rules": lambda: c.rules.GetRules(rules_pb2.GetRulesRequest(), timeout=5),
                "admin": lambda: c.admin.ListAllowlist(admin_pb2.ListAllowlistRequest(), timeout=5),
            }[fn]()
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
        grpc.StatusCode.OK,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.OK,
        grpc.StatusCode.PERMISSION_DENIED,
    ]
    assert [call(secured, admin, fn) for fn in ("lookup", "report", "rules", "admin")] == [
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.OK,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.OK,
    ]
    with Client(secured.address, timeout=5, api_key=switch) as c:
        with pytest.raises(grpc.RpcError) as exc:
            c.admin.GetStatus(admin_pb2.GetStatusRequest(), timeout=5)
        assert exc.value.details() == (
            "the key of China Mobile switch lacks the 'admin' scope needed for /numrep.v1.AdminService/GetStatus"
        )
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


def test_a_holder_key_handles_only_its_own_complaints(secured: Server) -> None:
    import uuid
    from datetime import datetime

    from numrep.regulator.periods import Period

    store, settings = secured.store, secured.settings
    admin, _ = auth.create_key(store, settings, "regulator analysts", [Scope.ADMIN, Scope.REPORT])
    telecom, _ = auth.create_key(store, settings, "China Telecom", [Scope.HOLDER])
    reseller, _ = auth.create_key(store, settings, "Virtual Mobile Co", [Scope.HOLDER])
    period = Period.containing(datetime.now(UTC).date(), "month").label
    rid = str(uuid.uuid4())
    with Client(secured.address, timeout=5, api_key=admin) as c:
        data = b"prefix,holder,holder_type,size\n+86 170,China Telecom,operator,100000000\n"
        c.admin.ImportAllocations(iter([admin_pb2.ImportChunk(filename="r.csv", data=data)]), timeout=10)
        c.report("17012345678", "alice", "fraud", report_id=rid)
    with Client(secured.address, timeout=5, api_key=telecom) as c:
        mine = c.admin.ListComplaints(admin_pb2.ListComplaintsRequest(period=period), timeout=5).complaints
        assert [x.report_id for x in mine] == [rid]  # empty holder: the key's own
        with pytest.raises(grpc.RpcError) as exc:
            c.admin.ListComplaints(
                admin_pb2.ListComplaintsRequest(holder="Virtual Mobile Co", period=period), timeout=5
            )
        assert exc.value.code() is grpc.StatusCode.PERMISSION_DENIED
        assert (
            exc.value.details()
            == "the key of China Telecom handles only China Telecom's complaints, not Virtual Mobile Co's"
        )
        done = c.admin.ResolveComplaint(admin_pb2.ComplaintStepRequest(report_id=rid, note="suspended"), timeout=5)
        assert done.state == "resolved" and done.holder == "China Telecom"
        with pytest.raises(grpc.RpcError) as other:  # nothing but complaints
            c.admin.GetStatus(admin_pb2.GetStatusRequest(), timeout=5)
        assert other.value.code() is grpc.StatusCode.PERMISSION_DENIED
        assert "'admin' scope" in (other.value.details() or "")
    with Client(secured.address, timeout=5, api_key=reseller) as c:
        with pytest.raises(grpc.RpcError) as exc:  # the complaint is routed to China Telecom, not to this holder
            c.admin.AcknowledgeComplaint(admin_pb2.ComplaintStepRequest(report_id=rid), timeout=5)
        assert exc.value.code() is grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.RpcError) as exc:  # and naming the other holder does not help
            c.admin.AcknowledgeComplaint(
                admin_pb2.ComplaintStepRequest(report_id=rid, holder="China Telecom"), timeout=5
            )
        assert exc.value.code() is grpc.StatusCode.PERMISSION_DENIED
    with Client(secured.address, timeout=5, api_key=admin) as c:  # an admin key acts for any holder
        assert (
            len(
                c.admin.ListComplaints(
                    admin_pb2.ListComplaintsRequest(holder="China Telecom", period=period), timeout=5
                ).complaints
            )
            == 1
        )
