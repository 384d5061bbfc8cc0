"""A running platform: the gRPC server and a real Celery worker (with beat) as processes."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from evaluation.platform import ROOT, Platform, free_port

__all__ = ["ROOT", "Platform", "free_port", "platform", "wait_for"]


@pytest.fixture(scope="module", params=["embedded", pytest.param("clustered", marks=pytest.mark.integration)])
def platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The platform on its embedded defaults (SQLite, SQLite broker), or on Cassandra and Redis."""
    extra: dict[str, str] = {}
    if request.param == "clustered":
        hosts = request.getfixturevalue("cassandra_hosts")
        extra = {
            "NUMREP_STORE": "cassandra",
            "NUMREP_CASSANDRA_HOSTS": ",".join(hosts),
            "NUMREP_CASSANDRA_KEYSPACE": "numrep_e2e",
            "NUMREP_BROKER_URL": request.getfixturevalue("redis_url"),
        }
        from cassandra.cluster import Cluster

        cluster = Cluster(hosts)
        try:
            cluster.connect().execute("DROP KEYSPACE IF EXISTS numrep_e2e", timeout=60)
        finally:
            cluster.shutdown()
        # the Redis server is shared by the session: start from an empty queue
        import redis

        redis.Redis.from_url(extra["NUMREP_BROKER_URL"]).flushdb()
    p = Platform(tmp_path_factory.mktemp(f"platform-{request.param}"), extra)
    p.migrate()
    p.start_server()
    p.start_worker()
    yield p
    p.stop()


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05):  # type: ignore[no-untyped-def]
    """Poll until ``predicate()`` is truthy; return it, or fail after ``timeout`` seconds.

    A test's own direct store read that times out (the store's short lookup deadline, on a busy
    three-node ring on two cores) counts as "not yet", not as the platform failing: the last such
    error is named if the condition is never met.
    """
    from numrep.errors import StoreUnavailable

    deadline = time.monotonic() + timeout
    last_error: StoreUnavailable | None = None
    while True:
        try:
            value = predicate()
        except StoreUnavailable as exc:
            value, last_error = None, exc
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"condition not met within {timeout}s" + (f" (last store error: {last_error})" if last_error else "")
            )
        time.sleep(interval)
