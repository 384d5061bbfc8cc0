"""SQLite failures after open (a lock held past the busy timeout, a full database) are retryable: UNAVAILABLE."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from numrep.config import Settings
from numrep.errors import StoreUnavailable
from numrep.sdk.client import Client
from numrep.store.sqlite import SQLiteStore
from services.server import Server
from tests.conftest import make_report


@pytest.fixture
def quick_store(settings: Settings) -> Iterator[SQLiteStore]:
    """The store with a 0.2 s busy timeout, so a held lock shows at once."""
    store = SQLiteStore(settings.sqlite_file, busy_timeout=0.2)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def locker(settings: Settings) -> Iterator[sqlite3.Connection]:
    """Another connection (as another process would) holding the write lock."""
    conn = sqlite3.connect(settings.sqlite_file, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    yield conn
    conn.execute("ROLLBACK")
    conn.close()


def test_durable_commits_by_default(quick_store: SQLiteStore) -> None:
    assert quick_store._conn().execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_write_locked_past_busy_timeout_is_store_unavailable(
    quick_store: SQLiteStore, locker: sqlite3.Connection
) -> None:
    # given another connection holds the write lock; when the store writes; then a retryable error
    with pytest.raises(StoreUnavailable, match="database is locked"):
        quick_store.add_reports([make_report(1)])


def test_store_writes_again_once_the_lock_is_released(quick_store: SQLiteStore, settings: Settings) -> None:
    other = sqlite3.connect(settings.sqlite_file, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    with pytest.raises(StoreUnavailable):
        quick_store.add_reports([make_report(1)])
    other.execute("ROLLBACK")
    other.close()
    assert quick_store.add_reports([make_report(1)]) == [True]  # no transaction was left open


def test_full_database_is_store_unavailable_and_rolls_back(quick_store: SQLiteStore) -> None:
    # given a database that cannot grow (max_page_count at its current size: SQLITE_FULL, as a full disk)
    conn = quick_store._conn()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count={pages}")
    big = [make_report(i, subject=f"tel:+86170{i:08d}") for i in range(2000)]
    with pytest.raises(StoreUnavailable, match="full"):
        quick_store.add_reports(big)
    # then nothing of the batch is stored and the connection is usable again
    conn.execute("PRAGMA max_page_count=1073741823")
    assert quick_store.count_reports() == 0
    assert quick_store.add_reports([make_report(1)]) == [True]


def test_a_bug_is_not_mistaken_for_an_outage(quick_store: SQLiteStore) -> None:
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        quick_store._conn().execute("SELECT * FROM no_such_table")


def test_locked_database_answers_unavailable_over_grpc(
    settings: Settings, quick_store: SQLiteStore, locker: sqlite3.Connection
) -> None:
    srv = Server(settings, store=quick_store, nudge=lambda: None).start()
    try:
        with Client(srv.address, timeout=10) as client:
            client.wait_ready()
            with pytest.raises(grpc.RpcError) as exc:
                client.report("+86 170 1234 5678", "reporter-1", "fraud")
            assert exc.value.code() is grpc.StatusCode.UNAVAILABLE
            assert "locked" in exc.value.details()
            assert client.lookup("+86 170 1234 5678").subject == "tel:+8617012345678"  # reads go on (WAL)
    finally:
        srv.stop(grace=1)


def test_unopenable_path_is_store_unavailable(tmp_path: Path) -> None:
    (tmp_path / "dir.sqlite3").mkdir()
    with pytest.raises(StoreUnavailable):
        SQLiteStore(tmp_path / "dir.sqlite3", busy_timeout=0.2).migrate()
