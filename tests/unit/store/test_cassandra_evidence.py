"""Cassandra-only parts of the evidence tables: the bounded reporter count, and a migration applied twice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from numrep.config import Settings
from numrep.store import cassandra_evidence
from numrep.store.cassandra_evidence import _Distinct
from tests.conftest import _cassandra


def test_reporters_are_counted_exactly_then_by_sketch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cassandra_evidence, "EXACT_REPORTERS", 100)
    small = _Distinct()
    for i in range(80):
        small.add(f"h1:r{i % 40}")
    assert len(small) == 40 and small.exact is not None
    big = _Distinct()
    for i in range(5000):
        big.add(f"h1:r{i % 2000}")
    assert big.exact is None  # fixed memory past the threshold
    assert abs(len(big) - 2000) < 2000 * 0.06


@pytest.fixture
def cassandra_store(settings: Settings, cassandra_hosts: list[str]) -> Iterator[object]:
    store = _cassandra(settings, cassandra_hosts)
    yield store
    store.close()


@pytest.mark.integration
def test_evidence_migration_can_be_applied_again(cassandra_store: object) -> None:
    """The runner re-applies a whole file that failed half-way: every statement must be repeatable."""
    from numrep.store.cassandra import CassandraStore, migrations

    assert isinstance(cassandra_store, CassandraStore)
    statements = dict(migrations())["0006_evidence.cql"]
    assert any(s.startswith("ALTER TABLE") for s in statements)
    for stmt in statements:
        cassandra_store.session.execute(stmt, timeout=60)


@pytest.mark.integration
def test_complaints_across_days_match_sqlite_even_past_the_exact_count(
    cassandra_store: object, sqlite_store: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from numrep.store.base import Store
    from tests.conftest import NOW, make_report

    assert isinstance(cassandra_store, Store) and isinstance(sqlite_store, Store)
    monkeypatch.setattr(cassandra_evidence, "EXACT_REPORTERS", 10)
    reports = [make_report(i, reporter=f"h1:r{i % 30}", at=NOW - timedelta(hours=7 * i)) for i in range(1, 91)]
    for store in (cassandra_store, sqlite_store):
        store.add_reports(reports)
    since = NOW - timedelta(days=20)
    got = cassandra_store.complaints_for_subject("tel:+8617012345678", since, limit=5)
    want = sqlite_store.complaints_for_subject("tel:+8617012345678", since, limit=5)
    assert got[0] == want[0] and len(got[0]) == 5
    assert got[1] == want[1] == 25  # 25 reporters past the limit: a sketch this small counts them exactly
