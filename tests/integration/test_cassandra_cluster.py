"""Fault tests on a real three-node Cassandra ring (127.0.0.1-3), keyspace at RF 3.

* Reports written at LOCAL_QUORUM while a node is SIGKILLed: every write the
  store acknowledged is readable afterwards.
* With every node down, the lookup service still answers within its deadline
  from the filter and the last published rules, and recovers by itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from numrep import pipeline
from numrep.config import Settings
from numrep.errors import StoreError
from numrep.models import Category, Channel, Report, Source
from numrep.sdk.client import Client
from numrep.store.cassandra import CassandraStore
from numrep.v1 import common_pb2, reputation_pb2
from scripts.cassandra import LocalCluster
from services.server import Server
from tests.conftest import cassandra_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NOW = datetime.now(UTC)


@pytest.fixture
def rf3(settings: Settings, cassandra_cluster: LocalCluster) -> Iterator[tuple[CassandraStore, Settings]]:
    s = cassandra_settings(
        settings, cassandra_cluster.contact_points, keyspace="numrep_rf3", replication="SimpleStrategy:3"
    )
    s = s.model_copy(update={"refresh_interval_seconds": 0.2})
    store = CassandraStore(s)
    store.migrate()
    wait_for_quorum(store)
    yield store, s
    store.close()
    for node in cassandra_cluster.nodes:  # leave the ring whole for the next test
        if not node.running:
            node.start()
            node.wait_ready()


def wait_for_quorum(store: CassandraStore, timeout: float = 90) -> None:
    """Wait until a lightweight transaction (Paxos over a quorum) succeeds: the ring has settled."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with store._lease("probe", wait=1):  # noqa: SLF001 - the probe is exactly a store LWT
                return
        except StoreError:
            assert time.monotonic() < deadline, "the ring never reached quorum"
            time.sleep(1)


def retrying(fn, attempts: int = 10):  # type: ignore[no-untyped-def]
    """Retry a store call on UNAVAILABLE, as a gRPC client does (every store call is idempotent)."""
    for attempt in range(attempts):
        try:
            return fn()
        except StoreError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))


def report(i: int, subject: str = "tel:+8617012345678", reporter: str | None = None, attested_by: str = "") -> Report:
    return Report(
        report_id=f"10000000-0000-4000-8000-{i:012d}",
        reporter_hash=reporter or f"h1:r{i}",
        subject=subject,
        channel=Channel.VOICE,
        category=Category.FRAUD,
        occurred_at=NOW - timedelta(seconds=i % 600),
        received_at=NOW,
        source=Source.APP,
        attested_by=attested_by,
    )


def test_acknowledged_writes_survive_a_node_kill(
    rf3: tuple[CassandraStore, Settings], cassandra_cluster: LocalCluster
) -> None:
    store, _ = rf3
    victim = cassandra_cluster.nodes[2]
    acked: list[Report] = []
    failed = 0
    stop = threading.Event()

    def writer() -> None:
        nonlocal failed
        i = 0
        while not stop.is_set() and i < 5000:
            batch = [report(i + k, subject=f"tel:+86170{(i + k) % 50:08d}") for k in range(10)]
            i += 10
            try:
                store.add_reports(batch)
                acked.extend(batch)
            except StoreError:
                failed += 1

    def wait_acked(n: int, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while len(acked) < n and t.is_alive():
            assert time.monotonic() < deadline, f"only {len(acked)} writes acknowledged, wanted {n}"
            time.sleep(0.05)

    t = threading.Thread(target=writer)
    t.start()
    try:
        wait_acked(40)
        before_kill = len(acked)
        victim.kill()  # SIGKILL: no flush, no drain
        # writes go on at LOCAL_QUORUM with 2 of 3 replicas
        wait_acked(before_kill + 100)
    finally:
        stop.set()
        t.join(60)

    since = NOW - timedelta(days=1)
    stored = {r.report_id for s in {r.subject for r in acked} for r in store.reports_for_subject(s, since)}
    missing = {r.report_id for r in acked} - stored
    print(
        f"\nacknowledged {len(acked)} reports, {failed} batches failed during the kill; missing after: {len(missing)}"
    )
    assert not missing
    assert store.count_reports() >= len(acked)


def test_lookup_serves_from_filter_and_rules_with_every_node_down(
    rf3: tuple[CassandraStore, Settings], cassandra_cluster: LocalCluster
) -> None:
    store, settings = rf3
    spam = "tel:+8617198765432"
    # reports an operator vouched for: evidence scoring v2 blocks on
    retrying(
        lambda: store.add_reports([report(100_000 + i, subject=spam, attested_by="China Telecom") for i in range(12)])
    )
    retrying(lambda: pipeline.rescore_dirty(store, settings))
    server = Server(settings, store=store, nudge=lambda: None).start()
    try:
        with Client(server.address, timeout=1.0) as client:  # a switch's deadline
            client.wait_ready()
            assert client.lookup(spam).action == common_pb2.ACTION_BLOCK

            cassandra_cluster.stop()  # every node down
            t0 = time.monotonic()
            r = client.lookup(spam)
            unknown = client.lookup("13800138000")
            protected = client.lookup("110")
            took = time.monotonic() - t0
            assert r.action == common_pb2.ACTION_BLOCK and r.source == reputation_pb2.VERDICT_SOURCE_PUBLISHED_RULES
            assert unknown.action == common_pb2.ACTION_ALLOW and unknown.source == reputation_pb2.VERDICT_SOURCE_FILTER
            assert protected.protected
            print(f"\nthree lookups with Cassandra down answered in {took * 1000:.0f} ms in all")
            time.sleep(3 * settings.refresh_interval_seconds)
            assert client.status().store_healthy is False

            cassandra_cluster.start()  # Cassandra returns
            deadline = time.monotonic() + 60
            while not client.status().store_healthy:
                assert time.monotonic() < deadline, "the service did not reconnect by itself"
                time.sleep(0.5)
            # and the store path serves again
            deadline = time.monotonic() + 30
            while (resp := client.lookup(spam)).source != reputation_pb2.VERDICT_SOURCE_STORE:
                assert time.monotonic() < deadline
                time.sleep(0.5)
            assert resp.action == common_pb2.ACTION_BLOCK and resp.reasons
    except grpc.RpcError as exc:
        pytest.fail(f"lookup failed instead of answering: {exc.code()} {exc.details()}")
    finally:
        server.stop(grace=1)
