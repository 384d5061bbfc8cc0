"""The Cassandra store's rescoring queue (two lanes, time buckets) and flagged index; schema in ``cql/0010_queues.cql``.

Mixed into :class:`numrep.store.cassandra.CassandraStore`. The design keeps
every read bounded however many subjects pass through:

* A mark is its own row ``((lane, bucket, shard), mark)``, never
  overwritten; the ``mark`` token begins with the marking time, so a partition lists
  its marks in the order they came. ``bucket`` is the start of the mark's
  time bucket; a call that marks very many subjects spreads them over
  sub-buckets, so no partition holds more than about :data:`PARTITION_ROWS`
  of one call's marks.
* A re-mark is a new row, and a clear deletes exactly the rows that were read
  (a plain delete by full key, no LWT): a re-mark during processing cannot be
  lost, whatever the timing.
* Tombstones stay inside the bucket they were written in, and readers page
  forward from a cursor, past the rows they cleared. A partition is swept
  from its start again only once its bucket is closed (its time plus
  :data:`CLOSE_MARGIN` has passed): to pick up marks read but not cleared (a
  crashed batch) and late writes, and to find it empty.
* A closed bucket found empty leaves the index; the lane's floor then moves
  past it, so reads of the index never meet the tombstones of dropped
  buckets. Assumption, as for Cassandra's own last-write-wins: writers'
  clocks agree within :data:`CLOSE_MARGIN`.
* The fresh lane (new evidence) is read before the backlog (bulk rescoring).

The flagged index has 256 shards, and a row is deleted only for a subject that
was flagged (never for the many that never were).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import zlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from numrep.models import DirtyMark, Lane, Reputation
from numrep.store.cassandra_session import CassandraSession

log = logging.getLogger(__name__)

QUEUE_SHARDS = 32
FLAGGED_SHARDS = 256
BUCKET_SECONDS = 30
CLOSE_MARGIN = 60  # seconds after its end before a bucket is closed to writers (clock skew, slow writes)
PARTITION_ROWS = 5000  # marks of one call per partition before it spreads to a sub-bucket
BUCKETS_PER_READ = 32
LANES = (Lane.FRESH, Lane.BACKLOG)

INSERT_MARK = "INSERT INTO queue_marks (lane, bucket, shard, mark, subject, attempts) VALUES (?, ?, ?, ?, ?, ?)"
INSERT_BUCKET = "INSERT INTO queue_buckets (lane, bucket) VALUES (?, ?)"
SELECT_BUCKETS = "SELECT bucket FROM queue_buckets WHERE lane = ? AND bucket >= ? LIMIT ?"
DELETE_BUCKET = "DELETE FROM queue_buckets WHERE lane = ? AND bucket = ?"
SELECT_FLOOR = "SELECT bucket FROM queue_floor WHERE lane = ?"
SET_FLOOR = "INSERT INTO queue_floor (lane, bucket) VALUES (?, ?)"
SELECT_MARKS = "SELECT mark, subject, attempts FROM queue_marks WHERE lane = ? AND bucket = ? AND shard = ? LIMIT ?"
SELECT_MARKS_AFTER = (
    "SELECT mark, subject, attempts FROM queue_marks WHERE lane = ? AND bucket = ? AND shard = ? AND mark > ? LIMIT ?"
)
DELETE_MARK = "DELETE FROM queue_marks WHERE lane = ? AND bucket = ? AND shard = ? AND mark = ?"
INSERT_FLAGGED = "INSERT INTO flagged_by_shard (shard, subject) VALUES (?, ?)"
SELECT_FLAGGED_IN = "SELECT subject FROM flagged_by_shard WHERE shard = ? AND subject IN ?"
DELETE_FLAGGED = "DELETE FROM flagged_by_shard WHERE shard = ? AND subject = ?"
SELECT_FLAGGED = "SELECT subject FROM flagged_by_shard WHERE shard = ?"
# The tables 0009 replaces, read once by the data migration.
SELECT_OLD_DIRTY = "SELECT subject FROM dirty WHERE shard = ?"
SELECT_OLD_FLAGGED = "SELECT subject FROM flagged WHERE shard = ?"
OLD_SHARDS = 16

Partition = tuple[Lane, int, int]  # (lane, bucket, shard)


def queue_shard(subject: str) -> int:
    return zlib.crc32(subject.encode()) % QUEUE_SHARDS


def flagged_shard(subject: str) -> int:
    return zlib.crc32(subject.encode()) % FLAGGED_SHARDS


def _now_us() -> int:
    return time.time_ns() // 1000


def _encode(keys: Iterable[tuple[Lane, int, str]]) -> str:
    """The opaque token of a DirtyMark: every (lane, bucket, row token) read for its subject."""
    return ",".join(f"{lane.value}:{bucket}:{token}" for lane, bucket, token in keys)


def _marked_at(keys: Iterable[tuple[Lane, int, str]]) -> datetime:
    """When the earliest of these rows was marked (a row's token begins with its marking time, in hex microseconds)."""
    return datetime.fromtimestamp(min(int(tok[:16], 16) for _, _, tok in keys) / 1e6, UTC)


def _decode(token: str) -> list[tuple[Lane, int, str]]:
    out = []
    for part in token.split(","):
        lane, bucket, tok = part.split(":", 2)
        out.append((Lane(lane), int(bucket), tok))
    return out


class CassandraQueue(CassandraSession):
    """The queue and flagged index; the session helpers (CassandraSession) are CassandraStore's."""

    #: Width of a time bucket, and how long after its end a bucket still takes writes (tests shrink them).
    bucket_seconds: float = BUCKET_SECONDS
    close_margin: float = CLOSE_MARGIN
    #: Marks of one call per partition before the call spreads to a sub-bucket.
    partition_rows: int = PARTITION_ROWS
    _queue_lock: threading.Lock
    # Per partition, where this reader's next read starts (every row before it is cleared), and the rows
    # its last read served from there, in order, each with whether it was cleared since.
    _cursors: dict[Partition, str]
    _served: dict[Partition, list[list[Any]]]

    def _init_queue(self) -> None:
        self._queue_lock = threading.Lock()
        self._cursors = {}
        self._served = {}

    # ---- marking --------------------------------------------------------
    def _write_marks(self, lane: Lane, marks: Sequence[tuple[str, int]]) -> None:
        """Write (subject, attempts) marks as new rows of the current bucket of ``lane`` (index rows first)."""
        if not marks:
            return
        now = _now_us()
        width = int(self.bucket_seconds * 1_000_000)
        start = now - now % width
        per_bucket = QUEUE_SHARDS * self.partition_rows
        buckets = [start + i // per_bucket for i in range(len(marks))]  # sub-buckets: microseconds after the start
        self._many(INSERT_BUCKET, [(lane.value, b) for b in sorted(set(buckets))])
        self._many(
            INSERT_MARK,
            [
                (lane.value, b, queue_shard(s), f"{now:016x}{secrets.token_hex(6)}", s, attempts)
                for (s, attempts), b in zip(marks, buckets)
            ],
        )

    def mark_dirty(self, subjects: Iterable[str], lane: Lane = Lane.FRESH) -> None:
        self._write_marks(lane, [(s, 0) for s in dict.fromkeys(subjects)])

    # ---- reading --------------------------------------------------------
    def _floor(self, lane: Lane) -> int:
        rows = self._exec(SELECT_FLOOR, (lane.value,))
        return int(rows[0]["bucket"]) if rows and rows[0]["bucket"] is not None else 0

    def _closed(self, bucket: int, now: int) -> bool:
        width = int(self.bucket_seconds * 1_000_000)
        return now > bucket - bucket % width + width + int(self.close_margin * 1_000_000)

    def _read_page(
        self, lane: Lane, bucket: int, after: dict[int, str | None], page: int
    ) -> dict[int, list[dict[str, Any]]]:
        """One page of each given shard of a bucket, after the given token (None: from the start)."""
        tail = [(lane.value, bucket, sh, tok, page) for sh, tok in after.items() if tok is not None]
        head = [(lane.value, bucket, sh, page) for sh, tok in after.items() if tok is None]
        out = dict(zip([a[2] for a in tail], self._many(SELECT_MARKS_AFTER, tail)))
        out.update(zip([a[2] for a in head], self._many(SELECT_MARKS, head)))
        return out

    def dirty_subjects(self, limit: int) -> list[DirtyMark]:
        found: dict[str, dict[tuple[Lane, int, str], None]] = {}
        attempts: dict[str, int] = {}
        lanes: dict[str, Lane] = {}
        page = max(8, 2 * limit // QUEUE_SHARDS)
        for lane in LANES:
            floor = self._floor(lane)
            buckets = [int(r["bucket"]) for r in self._exec(SELECT_BUCKETS, (lane.value, floor, BUCKETS_PER_READ))]
            for i, bucket in enumerate(buckets):
                closed = self._closed(bucket, _now_us())
                with self._queue_lock:
                    at: dict[int, str | None] = {
                        sh: self._cursors.get((lane, bucket, sh)) for sh in range(QUEUE_SHARDS)
                    }
                served: dict[int, list[list[Any]]] = {}
                forward: list[int] = list(range(QUEUE_SHARDS))
                sweep: list[int] = []
                swept: set[int] = set()
                drained: set[int] = set()
                while (forward or sweep) and len(found) < limit:
                    pages = [
                        (sh, rows, False)
                        for sh, rows in self._read_page(lane, bucket, {sh: at[sh] for sh in forward}, page).items()
                    ]
                    pages += [
                        (sh, rows, True)
                        for sh, rows in self._read_page(lane, bucket, dict.fromkeys(sweep), page).items()
                    ]
                    swept.update(sweep)
                    forward, sweep = [], []
                    for sh, rows, from_start in pages:
                        if from_start or sh not in served:
                            served[sh] = []  # a read from the cursor, or a sweep from the start, starts the list
                        complete = True
                        for row in rows:
                            s = row["subject"]
                            if s not in found and len(found) >= limit:
                                complete = False
                                break
                            found.setdefault(s, {})[(lane, bucket, row["mark"])] = None
                            lanes.setdefault(s, lane)
                            attempts[s] = max(attempts.get(s, 0), int(row["attempts"] or 0))
                            served[sh].append([row["mark"], False])
                            at[sh] = row["mark"]
                        if not complete:
                            continue  # the limit is reached
                        if len(rows) == page:
                            forward.append(sh)
                        elif from_start and not rows:
                            drained.add(sh)
                        elif closed and sh not in swept:
                            sweep.append(sh)  # the end of a closed bucket's partition: once more from its start
                with self._queue_lock:
                    for sh, rows_served in served.items():
                        self._served[(lane, bucket, sh)] = rows_served
                if len(found) >= limit:
                    break
                if len(drained) == QUEUE_SHARDS:
                    self._drop_bucket(lane, bucket, advance_floor=i == 0)
            if len(found) >= limit:
                break
        return [DirtyMark(s, _encode(keys), _marked_at(keys), lanes[s], attempts[s]) for s, keys in found.items()]

    def _drop_bucket(self, lane: Lane, bucket: int, advance_floor: bool) -> None:
        """Forget a closed bucket that every shard's sweep found empty; move the floor past it if it was the oldest."""
        self._exec(DELETE_BUCKET, (lane.value, bucket))
        with self._queue_lock:
            for sh in range(QUEUE_SHARDS):
                self._cursors.pop((lane, bucket, sh), None)
                self._served.pop((lane, bucket, sh), None)
        if advance_floor:
            self._exec(SET_FLOOR, (lane.value, bucket + 1))

    def _advance(self, cleared: dict[Partition, set[str]]) -> None:
        """Move each partition's cursor past the served rows that are now cleared, in order: a served row not
        cleared (its rescore failed, or is still running) is read again next time, as on every backend."""
        with self._queue_lock:
            for p, tokens in cleared.items():
                served = self._served.get(p)
                if not served:
                    continue
                for entry in served:
                    if entry[0] in tokens:
                        entry[1] = True
                done = 0
                while done < len(served) and served[done][1]:
                    done += 1
                if done:
                    self._cursors[p] = served[done - 1][0]
                    del served[:done]

    # ---- clearing -------------------------------------------------------
    def clear_dirty(self, marks: Iterable[DirtyMark]) -> None:
        rows = [(lane, bucket, queue_shard(m.subject), tok) for m in marks for lane, bucket, tok in _decode(m.token)]
        self._many(DELETE_MARK, [(lane.value, bucket, shard, tok) for lane, bucket, shard, tok in rows])
        cleared: dict[Partition, set[str]] = {}
        for lane, bucket, shard, tok in rows:
            cleared.setdefault((lane, bucket, shard), set()).add(tok)
        self._advance(cleared)

    def defer_dirty(self, marks: Iterable[DirtyMark]) -> None:
        marks = list(marks)
        # The new backlog rows first: a crash in between leaves a duplicate, never a loss.
        self._write_marks(Lane.BACKLOG, [(m.subject, m.attempts + 1) for m in marks])
        self.clear_dirty(marks)

    # ---- flagged --------------------------------------------------------
    def _write_flagged(self, reputations: Sequence[Reputation]) -> None:
        flagged = {r.subject: bool(r.flagged) for r in reputations}
        self._many(INSERT_FLAGGED, [(flagged_shard(s), s) for s, f in flagged.items() if f])
        clean: dict[int, list[str]] = {}
        for s, f in flagged.items():
            if not f:
                clean.setdefault(flagged_shard(s), []).append(s)
        # Delete only rows that exist: a tombstone per delisting, none for subjects never flagged.
        args = [
            (sh, subjects[i : i + 100]) for sh, subjects in sorted(clean.items()) for i in range(0, len(subjects), 100)
        ]
        present = [row["subject"] for part in self._many(SELECT_FLAGGED_IN, args) for row in part]
        self._many(DELETE_FLAGGED, [(flagged_shard(s), s) for s in present])

    def flagged_subjects(self) -> list[str]:
        parts = self._many(SELECT_FLAGGED, [(i,) for i in range(FLAGGED_SHARDS)])  # each paged by the driver
        return sorted(row["subject"] for part in parts for row in part)

    # ---- migration from the tables 0009 replaced ----------------------------------
    def _migrate_old_queue(self) -> None:
        """Carry marks of ``dirty`` (to the fresh lane) and rows of ``flagged`` over, once."""
        subjects = [
            row["subject"] for part in self._many(SELECT_OLD_DIRTY, [(i,) for i in range(OLD_SHARDS)]) for row in part
        ]
        self.mark_dirty(subjects, Lane.FRESH)
        flagged = [
            row["subject"] for part in self._many(SELECT_OLD_FLAGGED, [(i,) for i in range(OLD_SHARDS)]) for row in part
        ]
        self._many(INSERT_FLAGGED, [(flagged_shard(s), s) for s in flagged])
        log.info("queue tables migrated", extra={"dirty": len(subjects), "flagged": len(flagged)})
