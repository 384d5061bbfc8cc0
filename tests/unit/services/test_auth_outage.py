"""Authentication through a store outage, and the bounded cost of unknown keys."""

from __future__ import annotations

import time
from typing import Any

import grpc
import pytest

from numrep import auth
from numrep.config import Settings
from numrep.errors import RateLimited, StoreUnavailable
from numrep.models import Scope
from numrep.sdk.client import Client
from numrep.store.base import Store
from numrep.store.sqlite import SQLiteStore
from services.server import Server


class FlakyStore(SQLiteStore):
    """A real SQLite store that becomes unreachable on demand: every store method then raises StoreUnavailable.
    It also counts the key reads it serves."""

    down = False
    key_reads = 0

    def __getattribute__(self, name: str) -> Any:
        attr = super().__getattribute__(name)
        if name in Store.__abstractmethods__ and object.__getattribute__(self, "down"):

            def unreachable(*_args: Any, **_kwargs: Any) -> Any:
                raise StoreUnavailable(f"the store is down ({name})")

            return unreachable
        return attr

    def get_api_key(self, key_hash: str) -> Any:
        self.key_reads += 1
        return super().get_api_key(key_hash)


@pytest.fixture
def flaky(settings: Settings) -> Any:
    store = FlakyStore(settings.sqlite_file, rules_log_keep_versions=settings.rules_log_keep_versions)
    store.migrate()
    yield store
    store.down = False
    store.close()


def code_of(fn: Any) -> grpc.StatusCode:
    try:
        fn()
    except grpc.RpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


def test_authenticated_lookups_keep_working_through_a_store_outage(settings: Settings, flaky: FlakyStore) -> None:
    """Given a warmed key cache, when the store goes down for longer than the cache TTL,
    then known keys keep working, revoked keys stay refused, and an unknown key is UNAVAILABLE (retry)."""
    s = settings.model_copy(update={"auth_required": True, "auth_cache_seconds": 0.2})
    good, _ = auth.create_key(flaky, s, "switch", [Scope.LOOKUP])
    gone, gone_key = auth.create_key(flaky, s, "former reseller", [Scope.LOOKUP])
    auth.revoke(flaky, gone_key.key_hash[:12])
    srv = Server(s, store=flaky, nudge=lambda: None).start()
    try:
        with Client(srv.address, timeout=3, api_key=good) as ok, Client(srv.address, timeout=3, api_key=gone) as no:
            assert ok.lookup("13800138000").action
            assert code_of(lambda: no.lookup("13800138000")) is grpc.StatusCode.UNAUTHENTICATED
            flaky.down = True
            t0 = time.monotonic()
            while time.monotonic() - t0 < 1.0:  # five times the cache TTL
                assert ok.lookup("13800138000").action
                assert code_of(lambda: no.lookup("13800138000")) is grpc.StatusCode.UNAUTHENTICATED
                time.sleep(0.1)
            with Client(srv.address, timeout=3, api_key="nrk_never-seen") as unknown:
                assert code_of(lambda: unknown.lookup("13800138000")) is grpc.StatusCode.UNAVAILABLE
            flaky.down = False
            auth.revoke(flaky, auth.key_hash(s, good)[:12])  # back up: a revocation made meanwhile takes hold
            deadline = time.monotonic() + 5
            while code_of(lambda: ok.lookup("13800138000")) is grpc.StatusCode.OK:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert code_of(lambda: ok.lookup("13800138000")) is grpc.StatusCode.UNAUTHENTICATED
    finally:
        flaky.down = False
        srv.stop(grace=0)


def test_unknown_keys_cost_one_read_and_cannot_evict_valid_keys(settings: Settings, flaky: FlakyStore) -> None:
    s = settings.model_copy(update={"auth_cache_seconds": 3600})
    raw, _ = auth.create_key(flaky, s, "switch", [Scope.LOOKUP])
    a = auth.Authenticator(flaky, s)
    method = "/numrep.v1.ReputationService/Lookup"
    assert a.check(raw, method) is not None
    flaky.key_reads = 0
    for _ in range(5):  # the same unknown key again and again: one store read
        with pytest.raises(auth.Unauthenticated):
            a.check("nrk_guess", method)
    assert flaky.key_reads == 1
    flaky.key_reads = 0
    for i in range(auth.MAX_UNKNOWN_KEYS + 1):  # a flood of distinct unknown keys, more than either cache holds
        assert a.key_of(f"nrk_guess-{i}") is None
    assert flaky.key_reads == auth.MAX_UNKNOWN_KEYS + 1
    flaky.key_reads = 0
    assert a.check(raw, method) is not None  # the valid key is still cached
    assert flaky.key_reads == 0


def test_failed_authentications_are_limited_per_peer(settings: Settings, flaky: FlakyStore) -> None:
    """Given a peer guessing keys, after its burst of failures it gets RESOURCE_EXHAUSTED and costs no store read;
    a valid key it already used keeps working."""
    s = settings.model_copy(update={"auth_required": True, "auth_failure_burst": 3, "auth_failures_per_minute": 1})
    good, _ = auth.create_key(flaky, s, "switch", [Scope.LOOKUP])
    srv = Server(s, store=flaky, nudge=lambda: None).start()
    try:
        with Client(srv.address, timeout=3, api_key=good) as ok:
            assert ok.lookup("13800138000").action
            codes = []
            for i in range(5):
                with Client(srv.address, timeout=3, api_key=f"nrk_guess-{i}") as guess:
                    codes.append(code_of(lambda: guess.lookup("13800138000")))
            assert codes == [grpc.StatusCode.UNAUTHENTICATED] * 3 + [grpc.StatusCode.RESOURCE_EXHAUSTED] * 2
            reads = flaky.key_reads
            with Client(srv.address, timeout=3, api_key="nrk_guess-more") as guess:
                with pytest.raises(grpc.RpcError) as exc:
                    guess.lookup("13800138000")
            assert "too many failed authentications from this address" in (exc.value.details() or "")
            assert flaky.key_reads == reads  # refused without a store read
            with Client(srv.address, timeout=3) as keyless:
                assert code_of(lambda: keyless.lookup("13800138000")) is grpc.StatusCode.RESOURCE_EXHAUSTED
            assert ok.lookup("13800138000").action  # the peer's known key still works
    finally:
        srv.stop(grace=0)


def test_failure_limit_refills() -> None:
    now = [0.0]
    limit = auth.FailedAuthentications(per_minute=60, burst=2, clock=lambda: now[0])
    limit.failed("peer:ipv4:10.0.0.7")
    limit.failed("peer:ipv4:10.0.0.7")
    with pytest.raises(RateLimited, match="retry in 1.0 s"):
        limit.failed("peer:ipv4:10.0.0.7")
    limit.check("peer:ipv4:10.0.0.8")  # other peers are not affected
    with pytest.raises(RateLimited):
        limit.check("peer:ipv4:10.0.0.7")
    now[0] = 1.5
    limit.check("peer:ipv4:10.0.0.7")
    limit.failed("peer:ipv4:10.0.0.7")
