"""Cassandra-only parts of retention: write TTLs from the settings, real expiry, and the order of a deletion."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from numrep.config import Settings
from numrep.models import CallRecord, Channel
from numrep.store import cassandra_privacy
from numrep.store.cassandra import CassandraStore
from numrep.store.cassandra_privacy import GRACE_DAYS, ttl_seconds
from tests.conftest import _cassandra, make_report

SPAM = "tel:+8617012345678"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
DAY = 86400


def test_a_ttl_ends_the_retention_after_the_given_moment() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert ttl_seconds(400, now, now) == 400 * DAY
    assert ttl_seconds(400, now - timedelta(days=10), now) == 390 * DAY
    assert ttl_seconds(400, now - timedelta(days=500), now) == 1  # past its time: gone at once


@pytest.fixture
def cstore(settings: Settings, cassandra_hosts: list[str]) -> Iterator[CassandraStore]:
    store = _cassandra(settings, cassandra_hosts)
    assert isinstance(store, CassandraStore)
    yield store
    store.close()


def _ttl(store: CassandraStore, cql: str, *args: object) -> int:
    rows = store._exec(cql, args)
    assert rows, cql
    return int(next(iter(rows[0].values())))


@pytest.mark.integration
def test_reports_and_call_records_are_written_with_ttls_from_the_settings(cstore: CassandraStore) -> None:
    """Given retention settings, when a report and a call record are written, then their rows carry those TTLs."""
    cstore.settings = cstore.settings.model_copy(
        update={"report_retention_days": 30.0, "report_text_retention_days": 7.0, "record_retention_days": 10.0}
    )
    now = datetime.now(UTC).replace(microsecond=0)
    r = replace(make_report(1, SPAM, "h1:alice", at=now - timedelta(days=5)), text="call [NUMBER]")
    cstore.add_reports([r])
    rid = r.report_id

    def near(ttl: int, seconds: float) -> bool:
        return abs(ttl - seconds) < 120

    left = 25 * DAY  # received five days ago, of thirty
    assert near(_ttl(cstore, "SELECT TTL(category) FROM reports_by_id WHERE report_id = ?", rid), left)
    assert near(_ttl(cstore, "SELECT TTL(text) FROM reports_by_id WHERE report_id = ?", rid), 2 * DAY)
    assert near(
        _ttl(
            cstore,
            "SELECT TTL(category) FROM reports_by_subject WHERE subject = ? AND day = ?",
            SPAM,
            r.occurred_at.date(),
        ),
        left,
    )
    assert near(
        _ttl(
            cstore, "SELECT TTL(text) FROM reports_by_subject WHERE subject = ? AND day = ?", SPAM, r.occurred_at.date()
        ),
        2 * DAY,
    )
    assert near(_ttl(cstore, "SELECT TTL(subject) FROM reports_by_reporter WHERE reporter_hash = ?", "h1:alice"), left)
    assert near(
        _ttl(
            cstore,
            "SELECT TTL(subject) FROM reports_by_day WHERE day = ? AND shard = ? AND report_id = ?",
            r.received_at.date(),
            cassandra_privacy._shard(rid),
            rid,
        ),
        left + GRACE_DAYS * DAY,
    )

    start = now - timedelta(days=3)
    cstore.add_call_records(
        [CallRecord("rec-1", SPAM, "h2:callee", Channel.VOICE, start, 3000, 0, False, "China Mobile", 0, 0, now)]
    )
    hour = int(start.replace(minute=0, second=0).timestamp()) * 1_000_000
    assert near(
        _ttl(cstore, "SELECT TTL(callee_hash) FROM call_records WHERE caller = ? AND hour = ?", SPAM, hour), 7 * DAY
    )
    # (the per-caller contacts the worker folds from these rows are bounded by contacts_days and the table's TTL)


@pytest.mark.integration
def test_expired_reports_are_gone_and_the_prune_rescores_their_subjects(cstore: CassandraStore) -> None:
    """Given a retention of three seconds, when it passes, then the reports are gone by TTL and the prune marks the subject."""
    cstore.settings = cstore.settings.model_copy(
        update={"report_retention_days": 3 / DAY, "report_text_retention_days": 3 / DAY}
    )
    now = datetime.now(UTC)
    r = make_report(1, SPAM, "h1:alice", at=now - timedelta(seconds=2))
    cstore.add_reports([r])
    assert [x.report_id for x in cstore.reports_for_subject(SPAM, EPOCH)] == [r.report_id]
    cstore.clear_dirty(cstore.dirty_subjects(100))

    time.sleep(4.5)

    assert cstore.reports_for_subject(SPAM, EPOCH) == [] and cstore.get_report(r.report_id) is None
    assert cstore.subjects_reported_by(["h1:alice"], EPOCH, 10) == []
    assert {m.subject for m in cstore.dirty_subjects(100)} == set()  # a TTL cannot mark anything
    removal = cstore.prune_reports(datetime.now(UTC) - timedelta(seconds=3), limit=100)
    assert removal.reports == 1 and removal.subjects == {SPAM} == {m.subject for m in cstore.dirty_subjects(100)}
    today = now.date()
    assert list(cstore.report_summaries(today - timedelta(days=1), today + timedelta(days=1))) == []  # the index too
    assert cstore.prune_reports(datetime.now(UTC), limit=100).reports == 0


@pytest.mark.integration
def test_a_deletion_that_died_before_its_index_rows_is_finished_by_a_retry(
    cstore: CassandraStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows a deletion finds reports by go last: a crash before them leaves what a retry finds and finishes."""
    r = make_report(1, SPAM, "h1:alice", at=datetime.now(UTC) - timedelta(hours=1))
    cstore.add_reports([r])
    real = cstore._many

    def crash_on_index(cql, args):  # type: ignore[no-untyped-def]
        if cql == cassandra_privacy.DELETE_BY_DAY:
            raise ConnectionError("the worker died")
        return real(cql, args)

    monkeypatch.setattr(cstore, "_many", crash_on_index)
    with pytest.raises(ConnectionError):
        cstore.delete_reporter("h1:alice")
    monkeypatch.undo()
    assert cstore.get_report(r.report_id) is None  # half done: the report went, its index rows stayed
    assert cstore.subjects_reported_by(["h1:alice"], EPOCH, 10) == [SPAM]

    removal = cstore.delete_reporter("h1:alice")

    assert removal.reports == 1 and cstore.subjects_reported_by(["h1:alice"], EPOCH, 10) == []
    today = r.received_at.date()
    assert list(cstore.report_summaries(today, today + timedelta(days=1))) == []
