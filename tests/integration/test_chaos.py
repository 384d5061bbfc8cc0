"""Chaos on the clustered platform: the worker, one Cassandra node and Redis are killed in turn while
reports and lookups flow (Cassandra ring at RF 3, Redis broker, the real server and Celery worker).

Then: every acknowledged report is stored exactly once; rescored at a pinned ``as_of`` by the worker,
the reputations and rules equal those of a clean store holding the same reports, scored at the same
``as_of``; lookups were answered throughout (the share answered and the worst latency are printed).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from evaluation.platform import Platform
from numrep import pipeline
from numrep.rules import canonical_checksum
from numrep.sdk.client import Client
from numrep.store.cassandra import CassandraStore
from numrep.v1 import common_pb2, report_pb2
from scripts.cassandra import LocalCluster
from tests.conftest import cassandra_settings, missing_backend

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AS_OF = datetime.now(UTC).replace(microsecond=0)
SUBJECTS = [f"1700555{i:04d}" for i in range(40)]
PHASE = 8.0  # seconds each fault lasts, and between faults


class Redis:
    """A Redis server of this test's own (the session's is shared; this one gets killed)."""

    def __init__(self, workdir: Path) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            missing_backend("Redis", "redis-server is not installed")
        self.exe, self.workdir = str(exe), workdir
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        self.proc = subprocess.Popen(
            [
                self.exe,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=open(self.workdir / "redis.log", "ab"),
            stderr=subprocess.STDOUT,
        )
        client = redis.Redis(host="127.0.0.1", port=self.port)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, (self.workdir / "redis.log").read_text()
                time.sleep(0.05)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[Redis]:
    r = Redis(tmp_path)
    r.start()
    yield r
    r.kill()


def stored_state(store: CassandraStore, subjects: list[str]) -> tuple[dict, str]:
    reps = store.get_reputations(subjects)
    return (
        {s: (r.score, r.actions, r.reporters, r.reasons) for s, r in reps.items()},
        canonical_checksum(store.active_rules().values()),
    )


@pytest.mark.timeout(1500)
def test_kill_worker_node_and_redis_in_turn_while_reports_and_lookups_flow(
    cassandra_cluster: LocalCluster, redis_server: Redis, tmp_path: Path
) -> None:
    hosts = cassandra_cluster.contact_points
    platform = Platform(
        tmp_path / "platform",
        {
            "NUMREP_STORE": "cassandra",
            "NUMREP_CASSANDRA_HOSTS": ",".join(hosts),
            "NUMREP_CASSANDRA_KEYSPACE": "numrep_chaos",
            "NUMREP_CASSANDRA_REPLICATION": "SimpleStrategy:3",
            "NUMREP_BROKER_URL": redis_server.url,
            "NUMREP_HASH_KEY": "k" * 64,
        },
    )
    from cassandra.cluster import Cluster

    cluster = Cluster(hosts)
    try:
        cluster.connect().execute("DROP KEYSPACE IF EXISTS numrep_chaos", timeout=60)
        cluster.connect().execute("DROP KEYSPACE IF EXISTS numrep_chaos_clean", timeout=60)
    finally:
        cluster.shutdown()
    platform.data_dir.mkdir(parents=True)
    platform.migrate()
    try:
        run_chaos(platform, cassandra_cluster, redis_server)
    finally:
        platform.stop()  # idempotent; never leave the server or worker running


def run_chaos(platform: Platform, cassandra_cluster: LocalCluster, redis_server: Redis) -> None:
    hosts = cassandra_cluster.contact_points
    platform.start_server()
    platform.start_worker()
    acked: set[str] = set()
    answered: list[float] = []
    unanswered: list[str] = []
    stop = threading.Event()

    def reporter() -> None:
        n = 0
        with Client(platform.address, timeout=5) as c:
            while not stop.is_set():
                batch = [
                    report_pb2.Report(
                        report_id=f"20000000-0000-4000-8000-{n + k:012d}",
                        reporter_id=f"chaos-{n + k}",
                        subject=SUBJECTS[(n + k) % len(SUBJECTS)],
                        category=common_pb2.CATEGORY_FRAUD,
                    )
                    for k in range(20)
                ]
                for r in batch:
                    r.occurred_at.FromDatetime(AS_OF - timedelta(minutes=(n % 600)))
                while not stop.is_set():  # a client retries a failed batch with the same ids
                    try:
                        results = c.submit_reports(batch)
                        acked.update(r.report_id for r in results if r.accepted)
                        break
                    except grpc.RpcError:
                        time.sleep(0.2)
                n += 20
                time.sleep(0.05)

    def looker() -> None:
        i = 0
        with Client(platform.address, timeout=1.0) as c:  # a switch's deadline
            while not stop.is_set():
                start = time.monotonic()
                try:
                    c.lookup(SUBJECTS[i % len(SUBJECTS)])
                    answered.append(time.monotonic() - start)
                except grpc.RpcError as exc:
                    unanswered.append(str(exc.code()))
                i += 1
                time.sleep(0.01)

    threads = [threading.Thread(target=reporter), threading.Thread(target=looker)]
    for t in threads:
        t.start()
    victim = cassandra_cluster.nodes[2]
    worker_survived_redis = True
    try:
        time.sleep(PHASE)
        platform.kill_worker()  # 1. the worker, mid-task
        time.sleep(PHASE)
        platform.start_worker()
        time.sleep(PHASE)
        victim.kill()  # 2. one Cassandra node (RF 3, LOCAL_QUORUM: 2 of 3 remain)
        time.sleep(PHASE)
        victim.start()
        victim.wait_ready(timeout=420)  # a restart takes minutes on a busy two-core machine
        time.sleep(PHASE)
        redis_server.kill()  # 3. the broker
        time.sleep(PHASE)
        redis_server.start()
        time.sleep(PHASE)
        worker_survived_redis = platform.worker is not None and platform.worker.poll() is None
        if not worker_survived_redis:
            platform.start_worker()
    finally:
        stop.set()
        for t in threads:
            t.join(60)
        if not victim.running:
            victim.start()
            victim.wait_ready(timeout=420)

    # let the worker catch up (beat and nudges rescore at "now"), then stop the platform
    time.sleep(PHASE)
    platform.stop()
    store = CassandraStore(
        cassandra_settings(platform.settings, hosts, keyspace="numrep_chaos", replication="SimpleStrategy:3")
    )
    clean = CassandraStore(
        cassandra_settings(platform.settings, hosts, keyspace="numrep_chaos_clean", replication="SimpleStrategy:1")
    )
    try:
        # then: every acknowledged report is stored, once
        subjects = [f"tel:+86{s}" for s in SUBJECTS]
        stored = [r for rs in store.reports_for_subjects(subjects, AS_OF - timedelta(days=2)).values() for r in rs]
        assert {r.report_id for r in stored} == acked
        assert store.count_reports() == len(acked)
        # and rescored at the pinned as_of, the platform's store reaches the state of a clean store of the same reports
        store.mark_dirty(subjects)
        pipeline.rescore_dirty(store, platform.settings, time_budget=300, as_of=AS_OF)
        clean.migrate()
        clean.add_reports(stored)
        pipeline.rescore_dirty(clean, platform.settings, time_budget=300, as_of=AS_OF)
        assert store.dirty_subjects(10) == [] and clean.dirty_subjects(10) == []
        assert stored_state(store, subjects) == stored_state(clean, subjects)
        assert len(store.active_rules()) > 0
    finally:
        clean.close()
        store.close()

    share = len(answered) / max(1, len(answered) + len(unanswered))
    worst = max(answered, default=0.0)
    print(
        f"\nchaos: {len(acked)} reports acknowledged; lookups answered {share:.4f} of "
        f"{len(answered) + len(unanswered)}, worst latency {worst * 1000:.0f} ms; "
        f"worker survived the Redis outage: {worker_survived_redis}; unanswered codes: {sorted(set(unanswered))}"
    )
    assert share >= 0.99, f"lookups unanswered: {len(unanswered)} ({sorted(set(unanswered))})"
