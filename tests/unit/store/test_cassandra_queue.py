"""Cassandra's rescoring queue, flagged index and publication lease, at a scale the old tables failed at.

The test ring fails a read that meets more than ``TEST_TOMBSTONE_FAILURE_THRESHOLD`` (2,000) tombstones
(tests/conftest.py). The tables 0009 replaced kept the queue and the flagged index in 16 partitions
and wrote a tombstone per clear, so they failed past 16 x 2,000 = 32,000 cleared subjects; these tests
go past that.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from numrep import pipeline
from numrep.config import Settings
from numrep.errors import StoreError
from numrep.models import Action, Channel, Lane, Reputation
from numrep.store.cassandra import INSERT_VERSION, CassandraStore
from numrep.store.cassandra_queue import QUEUE_SHARDS
from tests.conftest import NOW, TEST_TOMBSTONE_FAILURE_THRESHOLD, _cassandra

pytestmark = pytest.mark.integration

PAST_THE_OLD_LIMIT = 16 * TEST_TOMBSTONE_FAILURE_THRESHOLD + 8_000  # 40,000


@pytest.fixture
def store(settings: Settings, cassandra_hosts: list[str]) -> Iterator[CassandraStore]:
    # a generous request timeout: the test ring shares two cores with whatever else runs
    s = _cassandra(settings.model_copy(update={"cassandra_request_timeout_seconds": 30.0}), cassandra_hosts)
    assert isinstance(s, CassandraStore)
    s.bucket_seconds, s.close_margin = 2.0, 1.0  # buckets close within seconds
    s.partition_rows = TEST_TOMBSTONE_FAILURE_THRESHOLD // 4  # a partition's tombstones stay under the threshold
    yield s
    s.close()


def reputation(subject: str, action: Action) -> Reputation:
    return Reputation(
        subject=subject,
        score=90 if action is Action.BLOCK else 10,
        actions={Channel.VOICE: action, Channel.SMS: Action.ALLOW},
        categories={},
        reporters=4,
        weighted_reporters=3.5,
        first_seen=NOW - timedelta(days=1),
        last_seen=NOW,
        reasons=("r",),
        protected=False,
        updated_at=NOW,
    )


def retrying(fn, attempts: int = 5):  # type: ignore[no-untyped-def]
    """Retry a store call that timed out on a busy machine, as the worker's task does (every call is idempotent)."""
    for attempt in range(attempts):
        try:
            return fn()
        except StoreError:
            if attempt == attempts - 1:
                raise
            time.sleep(1.0 * (attempt + 1))


def buckets_left(store: CassandraStore, lane: Lane) -> int:
    floor = store._floor(lane)
    rows = store.session.execute(
        "SELECT bucket FROM queue_buckets WHERE lane = %s AND bucket >= %s", (lane.value, floor)
    )
    return len(list(rows))


@pytest.mark.timeout(600)
def test_given_a_backlog_past_the_old_limit_when_drained_then_every_subject_once_and_the_queue_empties(
    store: CassandraStore,
) -> None:
    # given: the hourly pass marks 40,000 subjects
    subjects = [f"tel:+86170{i:08d}" for i in range(PAST_THE_OLD_LIMIT)]
    store.mark_dirty(subjects, Lane.BACKLOG)
    assert buckets_left(store, Lane.BACKLOG) == -(-len(subjects) // (QUEUE_SHARDS * store.partition_rows))  # spread
    # when: the worker drains it in batches, clearing each
    seen: list[str] = []
    while marks := retrying(lambda: store.dirty_subjects(500)):
        assert len(marks) <= 500
        seen += [m.subject for m in marks]
        retrying(lambda: store.clear_dirty(marks))
        assert len(seen) <= len(subjects), "a cleared mark was served again"
    # then: each subject came exactly once, and once the buckets close they are swept and dropped
    assert sorted(seen) == subjects
    time.sleep(store.bucket_seconds + store.close_margin + 0.5)
    assert (
        retrying(lambda: store.dirty_subjects(500)) == []
    )  # every partition swept from its start: under the tombstone threshold
    assert buckets_left(store, Lane.BACKLOG) == 0
    # and the queue still serves: a new mark comes through at once
    store.mark_dirty(["tel:+8613900139000"])
    assert [m.subject for m in store.dirty_subjects(10)] == ["tel:+8613900139000"]


@pytest.mark.timeout(600)
def test_never_flagged_subjects_leave_no_tombstones_in_the_flagged_index(store: CassandraStore) -> None:
    # given: 40,000 subjects scored ALLOW (never flagged), 10 flagged
    allow = [reputation(f"tel:+86171{i:08d}", Action.ALLOW) for i in range(PAST_THE_OLD_LIMIT)]
    for i in range(0, len(allow), 2000):
        retrying(lambda: store.put_reputations(allow[i : i + 2000]))
    flagged = [f"tel:+86172{i:08d}" for i in range(10)]
    store.put_reputations([reputation(s, Action.BLOCK) for s in flagged])
    # when: half of them are delisted
    store.put_reputations([reputation(s, Action.ALLOW) for s in flagged[:5]])
    # then: the index reads (no TombstoneOverwhelming) and holds exactly the other half
    assert store.flagged_subjects() == flagged[5:]


@pytest.mark.timeout(120)
def test_a_remark_racing_the_clears_is_never_lost(store: CassandraStore) -> None:
    """Every mark written is either read (then cleared) or still queued: no clear removes a mark it did not read."""
    subject, marks_written = "tel:+8617012345678", 300
    cleared: set[str] = set()
    done = threading.Event()

    def consume() -> None:
        while not done.is_set():
            for m in store.dirty_subjects(10):
                cleared.update(m.token.split(","))
                store.clear_dirty([m])

    consumer = threading.Thread(target=consume)
    consumer.start()
    try:
        for _ in range(marks_written):
            store.mark_dirty([subject])
    finally:
        done.set()
        consumer.join()
    time.sleep(store.bucket_seconds + store.close_margin + 0.5)  # closed buckets are swept: late rows show
    left = {t for m in store.dirty_subjects(100) for t in m.token.split(",")}
    assert len(cleared | left) == marks_written and not cleared & left


def test_fresh_marks_are_served_ahead_of_a_large_backlog(store: CassandraStore) -> None:
    store.mark_dirty([f"tel:+86173{i:08d}" for i in range(5000)], Lane.BACKLOG)
    store.mark_dirty(["tel:+8613900139000"])
    first = store.dirty_subjects(1)
    assert [(m.subject, m.lane) for m in first] == [("tel:+8613900139000", Lane.FRESH)]


def test_the_publication_lease_is_renewed_while_held(
    store: CassandraStore, settings: Settings, cassandra_hosts: list[str]
) -> None:
    other = _cassandra(settings, cassandra_hosts)
    assert isinstance(other, CassandraStore)
    store.lease_seconds = other.lease_seconds = 2
    try:
        with store._lease("publish_rules"):
            time.sleep(3 * store.lease_seconds)  # well past the TTL: only renewal keeps it
            with pytest.raises(StoreError, match="could not acquire"):
                with other._lease("publish_rules", wait=0.5):
                    pass
        with other._lease("publish_rules", wait=5):  # released: free again
            pass
    finally:
        other.close()


def test_a_publisher_that_lost_its_lease_cannot_write_a_version(
    store: CassandraStore, settings: Settings, cassandra_hosts: list[str]
) -> None:
    other = _cassandra(settings, cassandra_hosts)
    assert isinstance(other, CassandraStore)
    try:
        with store._publishing():
            # the lease expires under the publisher (a long pause), and another publisher takes it and publishes v1
            store.session.execute("DELETE FROM leases WHERE name = 'publish_rules'")
            assert other.publish_rules([], [], NOW) is None
            other._exec(INSERT_VERSION, (1, 0, "other", 0, 0))
            # then the first publisher's writes are refused
            with pytest.raises(StoreError, match="lost the publish_rules lease"):
                store._write_version(1, NOW, "mine", 0, 0)
            with pytest.raises(StoreError, match="lost the publish_rules lease"):
                store._apply_rules(1, [], [])
        assert other._latest_version() == (1, "other")
    finally:
        other.close()


def test_marks_and_flags_of_the_old_tables_are_carried_over(store: CassandraStore) -> None:
    # given: a keyspace from before 0009, with marks and flags in the old tables
    store.session.execute("INSERT INTO dirty (shard, subject, mark, marked_at) VALUES (3, 'tel:+86old', 'x', 1)")
    store.session.execute("INSERT INTO flagged (shard, subject) VALUES (5, 'tel:+86flagged')")
    store.session.execute("DELETE FROM schema_migrations WHERE name = '0010_queues.data'")
    # when: it is migrated
    store.migrate()
    # then: the mark is queued (fresh) and the subject flagged
    assert [(m.subject, m.lane) for m in store.dirty_subjects(10)] == [("tel:+86old", Lane.FRESH)]
    assert store.flagged_subjects() == ["tel:+86flagged"]


def test_reconcile_reads_reputations_in_batches(store: CassandraStore) -> None:
    subjects = [f"tel:+86174{i:08d}" for i in range(250)]
    store.put_reputations([reputation(s, Action.BLOCK) for s in subjects])
    requests: list[int] = []
    real = store._many

    def counting(cql: str, args):  # type: ignore[no-untyped-def]
        args = list(args)
        if cql.startswith("SELECT * FROM reputations"):
            requests.append(len(args))
        return real(cql, args)

    store._many = counting  # type: ignore[method-assign]
    version = pipeline.reconcile_rules(store)
    assert version is not None and len(store.active_rules()) == 250
    assert sum(requests) <= 3  # 100 subjects per request, not one request each
