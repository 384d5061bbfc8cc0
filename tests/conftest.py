"""Shared fixtures: settings on a temporary data dir, and stores of every backend."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from numrep.config import Settings, load_settings
from numrep.models import Category, Channel, Report, Source
from numrep.store.base import Store

if TYPE_CHECKING:
    from scripts.cassandra import LocalCluster

# Backends that need no server; Cassandra is added by the `store` fixture below.
STORE_BACKENDS: dict[str, Callable[[Settings], Store]] = {}


def _sqlite(settings: Settings) -> Store:
    from numrep.store.sqlite import SQLiteStore

    store = SQLiteStore(settings.sqlite_file, rules_log_keep_versions=settings.rules_log_keep_versions)
    store.migrate()
    return store


STORE_BACKENDS["sqlite"] = _sqlite
INTEGRATION_BACKENDS = {"cassandra"}


def missing_backend(what: str, why: str) -> None:
    """A real backend the suite needs is missing: fail, never skip (`make test` installs them all)."""
    pytest.fail(f"{what} is required but unavailable: {why} (`make test` installs it)", pytrace=False)


# The test ring fails a read that scans more tombstones than this (Cassandra's default is 100,000), so
# a queue design that piles them up fails at a scale a test reaches (tests/unit/store/test_cassandra_queue.py).
TEST_TOMBSTONE_FAILURE_THRESHOLD = 2000


@pytest.fixture(scope="session")
def cassandra_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A real three-node Cassandra ring on 127.0.0.1-3, started once per session.

    The store contract suite uses it with a keyspace at RF 1; the fault tests
    use a keyspace at RF 3 and kill and restart nodes (leaving them running).
    """
    import fcntl

    from scripts.cassandra import CassandraError, LocalCluster

    # The ring listens on fixed loopback ports: two test sessions on one machine
    # (a developer's and a worktree's) take turns rather than collide.
    with open(Path(os.environ.get("TMPDIR", "/tmp")) / "numrep-cassandra.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cluster = LocalCluster(
            tmp_path_factory.mktemp("cassandra"), nodes=3, tombstone_failure_threshold=TEST_TOMBSTONE_FAILURE_THRESHOLD
        )
        try:
            took = cluster.start()
        except (CassandraError, OSError) as exc:
            cluster.stop()
            missing_backend("Cassandra", str(exc))
        print(f"\nCassandra ring of 3 ready in {took:.1f}s")
        try:
            yield cluster
        finally:
            cluster.stop()


@pytest.fixture(scope="session")
def cassandra_hosts(request: pytest.FixtureRequest) -> list[str]:
    """Contact points of a real Cassandra; TEST_CASSANDRA_HOSTS=127.0.0.1 reuses a running one."""
    given = os.environ.get("TEST_CASSANDRA_HOSTS")
    if given:
        return [h.strip() for h in given.split(",")]
    return list(request.getfixturevalue("cassandra_cluster").contact_points)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis server on 127.0.0.1 (from Debian's redis-server package), per session."""
    import shutil
    import socket
    import subprocess
    import time

    exe = shutil.which("redis-server")
    if exe is None:
        missing_backend("Redis", "redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [
            str(exe),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=open(workdir / "redis.log", "wb"),
        stderr=subprocess.STDOUT,
    )
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                missing_backend("Redis", (workdir / "redis.log").read_text())
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


_TRUNCATE_TABLES: list[str] = []


def cassandra_settings(
    settings: Settings, hosts: list[str], keyspace: str = "numrep_test", replication: str = "SimpleStrategy:1"
) -> Settings:
    return settings.model_copy(
        update={
            "store": "cassandra",
            "cassandra_hosts": hosts,
            "cassandra_keyspace": keyspace,
            "cassandra_consistency": "LOCAL_QUORUM",
            "cassandra_replication": replication,
        }
    )


def _cassandra(settings: Settings, hosts: list[str]) -> Store:
    from numrep.store.cassandra import CassandraStore, migrations

    s = cassandra_settings(settings, hosts)
    store = CassandraStore(s)
    store.migrate()
    if not _TRUNCATE_TABLES:
        import re

        for _name, statements in migrations():
            _TRUNCATE_TABLES.extend(
                m.group(1) for st in statements if (m := re.search(r"CREATE TABLE IF NOT EXISTS (\w+)", st))
            )
    for table in _TRUNCATE_TABLES:
        for attempt in range(3):  # TRUNCATE needs every replica; retry a node that is catching up
            try:
                store.session.execute(f"TRUNCATE {table}", timeout=60)
                break
            except Exception:
                if attempt == 2:
                    raise
                import time

                time.sleep(2)
    return store


NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clean_numrep_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests build their own settings; stray NUMREP_* variables must not leak in."""
    for var in list(os.environ):
        if var.startswith("NUMREP_"):
            monkeypatch.delenv(var)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(environ={}, data_dir=tmp_path / "data", hash_key="k" * 64, grpc_port=0)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    """A fresh, empty embedded store, for tests of what is built on the store contract.

    The contract itself is proven on every backend by ``tests/unit/store/``, whose
    conftest overrides this fixture with one parametrised over the backends; the
    end-to-end tests run the whole platform on each backend too. So the fast
    tests (``make unit``) need no server.
    """
    s = STORE_BACKENDS["sqlite"](settings)
    yield s
    s.close()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("cassandra", marks=pytest.mark.integration),
    ]
)
def any_store(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Store]:
    """A fresh, empty store of every backend: the contract suite runs against each."""
    if request.param == "cassandra":
        s = _cassandra(settings, request.getfixturevalue("cassandra_hosts"))
    else:
        s = STORE_BACKENDS[request.param](settings)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(settings: Settings) -> Iterator[Store]:
    s = _sqlite(settings)
    yield s
    s.close()


def make_report(
    n: int,
    subject: str = "tel:+8617012345678",
    reporter: str | None = None,
    at: datetime = NOW,
    channel: Channel = Channel.VOICE,
    category: Category = Category.LOANS_FINANCE,
    source: Source = Source.APP,
    attested_by: str = "",
    number_hash: str = "",
) -> Report:
    """A valid stored report; ``n`` picks the id (and the reporter unless given).

    ``attested_by`` names the operator that vouched for the reporter (scoring v2 weighs it as attested);
    ``number_hash`` is the reporter's own number, hashed (call records can corroborate it).
    """
    return Report(
        report_id=f"00000000-0000-4000-8000-{n:012d}",
        reporter_hash=reporter or f"h1:reporter{n}",
        subject=subject,
        channel=channel,
        category=category,
        occurred_at=at,
        received_at=at + timedelta(seconds=1),
        source=source,
        reporter_number_hash=number_hash,
        attested_by=attested_by,
    )
