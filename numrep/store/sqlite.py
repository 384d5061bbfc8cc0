"""SQLite store: the embedded default, one file, safe across processes.

WAL mode lets the gRPC server, the Celery worker and the CLI share the file;
each thread gets its own connection; writes run in ``BEGIN IMMEDIATE``
transactions so the read-modify-write of a publication is atomic.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from numrep.errors import NotFound, StoreUnavailable
from numrep.models import (
    Allocation,
    AllowlistEntry,
    ApiKey,
    CaseEvent,
    DirtyMark,
    FilterSnapshotMeta,
    Lane,
    PortBlacklistEntry,
    Report,
    ReportSummary,
    Reputation,
    Rule,
)
from numrep.rules import EMPTY_CHECKSUM
from numrep.store.base import IMPORT_BATCH, Store, batches
from numrep.store.codec import (
    LOG_COLUMNS,
    REPORT_COLUMNS,
    REPUTATION_COLUMNS,
    RULE_COLUMNS,
    LogEntry,
    allocation_from,
    allocation_values,
    allowlist_from,
    allowlist_values,
    api_key_from,
    api_key_values,
    case_event_from,
    case_event_values,
    from_micros,
    log_entry_from,
    log_values,
    midnight,
    port_from,
    port_values,
    report_from,
    report_values,
    reputation_from,
    reputation_values,
    rule_from,
    rule_values,
    snapshot_from,
    summary_from,
    to_micros,
)
from numrep.store.sqlite_cards import SQLiteCards, migrate_cards
from numrep.store.sqlite_evidence import SQLiteEvidence, migrate_evidence
from numrep.store.sqlite_privacy import SQLitePrivacy
from numrep.store.sqlite_redress import SQLiteRedress, migrate_redress

SCHEMA_VERSION = 1
LANES = (Lane.FRESH, Lane.BACKLOG)  # a subject's lane is its index here: the fresh lane sorts first
BUSY_TIMEOUT_SECONDS = 30.0
# Primary result codes of conditions that pass (a lock held by another process, a full or failing disk,
# a file that cannot be opened now): the call may succeed if retried, so they surface as StoreUnavailable
# (UNAVAILABLE). Other OperationalErrors (no such table, a syntax error) are bugs and stay as they are.
TRANSIENT_CODES = {
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_NOMEM,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_PROTOCOL,
}
SYNCHRONOUS = "FULL"  # see _conn; scripts/bench_store.py compares it with NORMAL
CHUNK_BYTES = 1 << 20
CHUNK_KEYS = 500  # keys per IN list (well under SQLite's bound on parameters)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reports (
  report_id TEXT PRIMARY KEY, reporter_hash TEXT NOT NULL, subject TEXT NOT NULL,
  channel TEXT NOT NULL, category TEXT NOT NULL, occurred_at INTEGER NOT NULL,
  received_at INTEGER NOT NULL, source TEXT NOT NULL, text TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS reports_by_subject ON reports (subject, occurred_at);
CREATE INDEX IF NOT EXISTS reports_by_received ON reports (received_at);
CREATE TABLE IF NOT EXISTS dirty (subject TEXT PRIMARY KEY, token TEXT NOT NULL, marked_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS reputations (
  subject TEXT PRIMARY KEY, score INTEGER NOT NULL, actions TEXT NOT NULL, categories TEXT NOT NULL,
  reporters INTEGER NOT NULL, weighted REAL NOT NULL, first_seen INTEGER, last_seen INTEGER,
  reasons TEXT NOT NULL, protected INTEGER NOT NULL, updated_at INTEGER NOT NULL, flagged INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS reputations_flagged ON reputations (flagged) WHERE flagged = 1;
CREATE TABLE IF NOT EXISTS rules (
  rule_id TEXT PRIMARY KEY, kind TEXT NOT NULL, subject TEXT NOT NULL, channel TEXT NOT NULL,
  action TEXT NOT NULL, category TEXT NOT NULL, reason TEXT NOT NULL, issued_at INTEGER NOT NULL,
  expires_at INTEGER, version INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS rules_by_subject ON rules (subject);
CREATE TABLE IF NOT EXISTS rule_log (
  version INTEGER NOT NULL, rule_id TEXT NOT NULL, op TEXT NOT NULL CHECK (op IN ('add', 'remove')),
  kind TEXT, subject TEXT, channel TEXT, action TEXT, category TEXT, reason TEXT, issued_at INTEGER,
  expires_at INTEGER, PRIMARY KEY (version, rule_id));
CREATE TABLE IF NOT EXISTS rule_versions (
  version INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, checksum TEXT NOT NULL,
  added INTEGER NOT NULL, removed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS port_blacklist (
  port TEXT PRIMARY KEY, enterprise TEXT NOT NULL, reason TEXT NOT NULL, source TEXT NOT NULL,
  listed_on TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS allocations (
  prefix TEXT PRIMARY KEY, holder TEXT NOT NULL, holder_type TEXT NOT NULL, size INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS case_events (
  report_id TEXT NOT NULL, step TEXT NOT NULL, holder TEXT NOT NULL, at INTEGER NOT NULL, note TEXT NOT NULL,
  PRIMARY KEY (report_id, step));
CREATE TABLE IF NOT EXISTS api_keys (
  key_hash TEXT PRIMARY KEY, operator TEXT NOT NULL, scopes TEXT NOT NULL, created_at INTEGER NOT NULL,
  revoked INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS allowlist (
  subject TEXT PRIMARY KEY, reason TEXT NOT NULL, added_by TEXT NOT NULL, added_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS filter_snapshots (
  snapshot_id INTEGER PRIMARY KEY AUTOINCREMENT, version INTEGER NOT NULL, count INTEGER NOT NULL,
  capacity INTEGER NOT NULL, error_rate REAL NOT NULL, created_at INTEGER NOT NULL, size_bytes INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS filter_chunks (
  snapshot_id INTEGER NOT NULL, idx INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (snapshot_id, idx));
"""


def _migrate_dirty(conn: sqlite3.Connection) -> None:
    """Give a store created before the two lanes its lane and attempts columns (existing marks: fresh)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(dirty)")}
    if "lane" not in columns:
        conn.execute("ALTER TABLE dirty ADD COLUMN lane INTEGER NOT NULL DEFAULT 0")
    if "attempts" not in columns:
        conn.execute("ALTER TABLE dirty ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0")
    conn.execute("DROP INDEX IF EXISTS dirty_by_time")
    conn.execute("CREATE INDEX IF NOT EXISTS dirty_by_lane ON dirty (lane, marked_at, subject)")


def _translate(exc: sqlite3.OperationalError) -> Exception:
    """StoreUnavailable for a passing condition, else the error itself."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None or code & 0xFF not in TRANSIENT_CODES:
        return exc
    return StoreUnavailable(f"SQLite store unavailable: {exc} ({getattr(exc, 'sqlite_errorname', code)})")


class _Connection(sqlite3.Connection):
    """A connection whose passing failures (locked past the busy timeout, disk full) raise StoreUnavailable.

    Statements are stepped to their first row inside ``execute``, which is where
    a lock or a full disk shows; rows read later come from pages already locked.
    """

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.OperationalError as exc:
            raise _translate(exc)  # noqa: B904 -- may be exc itself; the OperationalError stays as __context__

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        try:
            return super().executemany(sql, parameters)
        except sqlite3.OperationalError as exc:
            raise _translate(exc)  # noqa: B904 -- may be exc itself; the OperationalError stays as __context__

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        try:
            return super().executescript(sql_script)
        except sqlite3.OperationalError as exc:
            raise _translate(exc)  # noqa: B904 -- may be exc itself; the OperationalError stays as __context__


class SQLiteStore(SQLiteEvidence, SQLiteRedress, SQLiteCards, SQLitePrivacy, Store):
    name = "sqlite"

    def __init__(
        self,
        path: Path | str,
        rules_log_keep_versions: int = 10_000,
        busy_timeout: float = BUSY_TIMEOUT_SECONDS,
        synchronous: str = SYNCHRONOUS,
    ) -> None:
        if synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError(f"synchronous: FULL, NORMAL or EXTRA, not {synchronous!r}")
        self.path = Path(path)
        self.synchronous = synchronous
        self.keep_versions = rules_log_keep_versions
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    # ---- connections ---------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(
                    self.path,
                    isolation_level=None,
                    check_same_thread=False,
                    timeout=self.busy_timeout,
                    factory=_Connection,
                )
            except (OSError, sqlite3.Error) as exc:
                raise StoreUnavailable(f"cannot open SQLite store {self.path}: {exc}") from exc
            conn.row_factory = sqlite3.Row
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                # FULL: a report acknowledged to its sender survives a power loss (NORMAL in WAL mode
                # may lose the last commits); bench-store measures what it costs.
                conn.execute(f"PRAGMA synchronous={self.synchronous}")
                conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
            except BaseException:
                conn.close()
                raise
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # also when COMMIT itself failed (a full disk): never leave it open
                conn.execute("ROLLBACK")
            raise

    def migrate(self) -> None:
        conn = self._conn()
        conn.executescript(SCHEMA)
        _migrate_dirty(conn)
        migrate_evidence(conn)
        migrate_redress(conn)
        migrate_cards(conn)
        conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()

    def _in(self, sql: str, keys: Iterable[str], *args: object) -> list[sqlite3.Row]:
        """Run ``sql`` (with ``{keys}`` where an IN list goes) over ``keys`` in chunks of at most CHUNK_KEYS."""
        wanted = sorted(set(keys))
        conn = self._conn()
        rows: list[sqlite3.Row] = []
        for i in range(0, len(wanted), CHUNK_KEYS):
            part = wanted[i : i + CHUNK_KEYS]
            rows += conn.execute(sql.format(keys=", ".join("?" * len(part))), (*part, *args)).fetchall()
        return rows

    # ---- reports ---------------------------------------------------------
    def add_reports(self, reports: Sequence[Report]) -> list[bool]:
        out: list[bool] = []
        sql = f"INSERT OR IGNORE INTO reports ({', '.join(REPORT_COLUMNS)}) VALUES ({', '.join('?' * len(REPORT_COLUMNS))})"
        with self._write() as conn:
            for r in reports:
                new = conn.execute(sql, report_values(r)).rowcount == 1
                if new:
                    self._mark(conn, [r.subject])
                out.append(new)
        return out

    def reports_for_subjects(self, subjects: Iterable[str], since: datetime) -> dict[str, list[Report]]:
        wanted = list(subjects)
        out: dict[str, list[Report]] = {s: [] for s in wanted}
        rows = self._in(
            "SELECT * FROM reports WHERE subject IN ({keys}) AND occurred_at >= ? "
            "ORDER BY subject, occurred_at, report_id",
            wanted,
            to_micros(since),
        )
        for row in rows:
            out[row["subject"]].append(report_from(row))
        return out

    def report_summaries(self, start: date, end: date) -> Iterator[ReportSummary]:
        rows = self._conn().execute(
            "SELECT report_id, subject, category, channel, received_at FROM reports WHERE received_at >= ? AND received_at < ?",
            (to_micros(midnight(start)), to_micros(midnight(end))),
        )
        for r in rows:
            yield summary_from(r)

    def count_reports(self) -> int:
        """How many distinct reports are stored (for tests and administration)."""
        return int(self._conn().execute("SELECT COUNT(*) FROM reports").fetchone()[0])

    # ---- dirty: one row per subject; its lane is the best it was marked in ----------
    @staticmethod
    def _mark(conn: sqlite3.Connection, subjects: Iterable[str], lane: Lane = Lane.FRESH) -> None:
        now = to_micros(datetime.now().astimezone())
        # A re-mark renews the token (so a clear of the old mark keeps it), moves a backlog
        # subject to the fresh lane if asked, and keeps its place in line and failed attempts.
        conn.executemany(
            "INSERT INTO dirty(subject, token, marked_at, lane) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(subject) DO UPDATE SET token = excluded.token, lane = min(lane, excluded.lane)",
            [(s, secrets.token_hex(8), now, LANES.index(lane)) for s in subjects],
        )

    def mark_dirty(self, subjects: Iterable[str], lane: Lane = Lane.FRESH) -> None:
        with self._write() as conn:
            self._mark(conn, subjects, lane)

    def dirty_subjects(self, limit: int) -> list[DirtyMark]:
        rows = self._conn().execute(
            "SELECT subject, token, marked_at, lane, attempts FROM dirty ORDER BY lane, marked_at, subject LIMIT ?",
            (limit,),
        )
        return [
            DirtyMark(row["subject"], row["token"], from_micros(row["marked_at"]), LANES[row["lane"]], row["attempts"])
            for row in rows
        ]

    def clear_dirty(self, marks: Iterable[DirtyMark]) -> None:
        with self._write() as conn:
            conn.executemany("DELETE FROM dirty WHERE subject = ? AND token = ?", [(m.subject, m.token) for m in marks])

    def defer_dirty(self, marks: Iterable[DirtyMark]) -> None:
        now = to_micros(datetime.now().astimezone())
        backlog = LANES.index(Lane.BACKLOG)
        with self._write() as conn:
            for m in marks:
                conn.execute(  # to the back of the backlog, unless re-marked meanwhile (then it keeps its lane)
                    "UPDATE dirty SET attempts = max(attempts, ?), lane = CASE WHEN token = ? THEN ? ELSE lane END, "
                    "marked_at = CASE WHEN token = ? THEN ? ELSE marked_at END WHERE subject = ?",
                    (m.attempts + 1, m.token, backlog, m.token, now, m.subject),
                )

    # ---- reputations ----------------------------------------------------
    def put_reputations(self, reputations: Sequence[Reputation]) -> None:
        sql = (
            f"INSERT OR REPLACE INTO reputations ({', '.join(REPUTATION_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(REPUTATION_COLUMNS))})"
        )
        with self._write() as conn:
            conn.executemany(sql, [reputation_values(r) for r in reputations])

    def get_reputation(self, subject: str) -> Reputation | None:
        row = self._conn().execute("SELECT * FROM reputations WHERE subject = ?", (subject,)).fetchone()
        return reputation_from(row) if row else None

    def get_reputations(self, subjects: Iterable[str]) -> dict[str, Reputation]:
        rows = self._in("SELECT * FROM reputations WHERE subject IN ({keys})", subjects)
        return {row["subject"]: reputation_from(row) for row in rows}

    def flagged_subjects(self) -> list[str]:
        rows = self._conn().execute("SELECT subject FROM reputations WHERE flagged = 1 ORDER BY subject")
        return [row[0] for row in rows]

    # ---- rules ----------------------------------------------------------
    def active_rules(self, subjects: Iterable[str] | None = None) -> dict[str, Rule]:
        if subjects is None:
            return self._read_rules()
        rows = self._in(f"SELECT {', '.join(RULE_COLUMNS)} FROM rules WHERE subject IN ({{keys}})", subjects)
        return {row["rule_id"]: rule_from(row) for row in rows}

    # The primitives of publish_rules and rules_since (numrep.store.base). A
    # publication is one BEGIN IMMEDIATE transaction; the primitives run on this
    # thread's connection, hence inside it.
    @contextmanager
    def _publishing(self) -> Iterator[None]:
        with self._write():
            yield

    @contextmanager
    def _reading_rules(self) -> Iterator[None]:
        conn = self._conn()
        conn.execute("BEGIN")  # one consistent read snapshot
        try:
            yield
        finally:
            conn.execute("COMMIT")

    def _latest_version(self) -> tuple[int, str]:
        row = (
            self._conn().execute("SELECT version, checksum FROM rule_versions ORDER BY version DESC LIMIT 1").fetchone()
        )
        return (int(row[0]), row[1]) if row else (0, EMPTY_CHECKSUM)

    def _read_rules(self) -> dict[str, Rule]:
        return {
            row["rule_id"]: rule_from(row)
            for row in self._conn().execute(f"SELECT {', '.join(RULE_COLUMNS)} FROM rules")
        }

    def _append_log(self, version: int, upserts: Sequence[Rule], removed: Sequence[str]) -> None:
        self._conn().executemany(
            f"INSERT INTO rule_log ({', '.join(LOG_COLUMNS)}) VALUES ({', '.join('?' * len(LOG_COLUMNS))})",
            log_values(version, upserts, removed),
        )

    def _apply_rules(self, version: int, upserts: Sequence[Rule], removed: Sequence[Rule]) -> None:
        conn = self._conn()
        conn.executemany(
            f"INSERT OR REPLACE INTO rules ({', '.join(RULE_COLUMNS)}, version) VALUES ({', '.join('?' * len(RULE_COLUMNS))}, ?)",
            [(*rule_values(r), version) for r in upserts],
        )
        conn.executemany("DELETE FROM rules WHERE rule_id = ?", [(r.rule_id,) for r in removed])

    def _write_version(self, version: int, created_at: datetime, checksum: str, added: int, removed: int) -> None:
        self._conn().execute(
            "INSERT INTO rule_versions VALUES (?, ?, ?, ?, ?)",
            (version, to_micros(created_at), checksum, added, removed),
        )

    def _prune_log(self, version: int) -> None:
        self._conn().execute("DELETE FROM rule_log WHERE version <= ?", (version - self.keep_versions,))

    def _oldest_delta_base(self, latest: int) -> int:
        # The log actually retained (inside the read transaction): a delta needs every version after its base.
        oldest = self._conn().execute("SELECT MIN(version) FROM rule_log").fetchone()[0]
        return latest if oldest is None else int(oldest) - 1

    def _read_log(self, since: int, until: int) -> list[LogEntry]:
        rows = self._conn().execute(
            "SELECT * FROM rule_log WHERE version > ? AND version <= ? ORDER BY version", (since, until)
        )
        return [log_entry_from(r) for r in rows]

    def _read_epoch(self) -> int | None:
        row = self._conn().execute("SELECT value FROM meta WHERE key = 'feed_epoch'").fetchone()
        return None if row is None else int(row[0])

    def _write_epoch(self, epoch: int) -> None:
        self._conn().execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('feed_epoch', ?)", (str(epoch),))

    def _rewrite_checksum(self, version: int, checksum: str) -> None:
        self._conn().execute("UPDATE rule_versions SET checksum = ? WHERE version = ?", (checksum, version))

    # ---- SMS-port blacklist ---------------------------------------------
    def add_port_blacklist(self, entries: Iterable[PortBlacklistEntry]) -> int:
        changed = 0
        with self._write() as conn:  # one transaction: the whole import or nothing
            for batch in batches(entries, IMPORT_BATCH):
                existing = self.port_blacklist(e.port for e in batch)
                fresh = {e.port: e for e in batch if existing.get(e.port) != e}
                conn.executemany(
                    "INSERT OR REPLACE INTO port_blacklist VALUES (?, ?, ?, ?, ?)",
                    [port_values(e, iso_day=True) for e in fresh.values()],
                )
                self._mark(conn, fresh)
                changed += len(fresh)
        return changed

    def port_blacklist(self, ports: Iterable[str]) -> dict[str, PortBlacklistEntry]:
        return {r["port"]: port_from(r) for r in self._in("SELECT * FROM port_blacklist WHERE port IN ({keys})", ports)}

    def list_port_blacklist(self) -> list[PortBlacklistEntry]:
        return [port_from(r) for r in self._conn().execute("SELECT * FROM port_blacklist ORDER BY port")]

    def count_port_blacklist(self) -> int:
        """How many ports are blacklisted (for tests and administration)."""
        return int(self._conn().execute("SELECT COUNT(*) FROM port_blacklist").fetchone()[0])

    # ---- number-resource registry ----------------------------------------
    def put_allocations(self, allocations: Iterable[Allocation]) -> int:
        changed = 0
        with self._write() as conn:
            for batch in batches(allocations, IMPORT_BATCH):
                existing = {
                    r["prefix"]: allocation_from(r)
                    for r in self._in("SELECT * FROM allocations WHERE prefix IN ({keys})", (a.prefix for a in batch))
                }
                fresh = [a for a in {a.prefix: a for a in batch}.values() if existing.get(a.prefix) != a]
                conn.executemany(
                    "INSERT OR REPLACE INTO allocations VALUES (?, ?, ?, ?)", [allocation_values(a) for a in fresh]
                )
                changed += len(fresh)
        return changed

    def allocations(self) -> list[Allocation]:
        return [allocation_from(r) for r in self._conn().execute("SELECT * FROM allocations ORDER BY prefix")]

    # ---- complaint handling -----------------------------------------------
    def add_case_event(self, event: CaseEvent) -> CaseEvent:
        with self._write() as conn:
            conn.execute("INSERT OR IGNORE INTO case_events VALUES (?, ?, ?, ?, ?)", case_event_values(event))
            row = conn.execute(
                "SELECT * FROM case_events WHERE report_id = ? AND step = ?", (event.report_id, event.step.value)
            ).fetchone()
        return case_event_from(row)

    def case_events(self, report_ids: Iterable[str]) -> list[CaseEvent]:
        return [
            case_event_from(r) for r in self._in("SELECT * FROM case_events WHERE report_id IN ({keys})", report_ids)
        ]

    def get_report(self, report_id: str) -> ReportSummary | None:
        r = (
            self._conn()
            .execute(
                "SELECT report_id, subject, category, channel, received_at FROM reports WHERE report_id = ?",
                (report_id,),
            )
            .fetchone()
        )
        return summary_from(r) if r is not None else None

    # ---- API keys ---------------------------------------------------------
    def put_api_key(self, key: ApiKey) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO api_keys VALUES (?, ?, ?, ?, ?)", api_key_values(key, scopes_as_text=True)
            )

    def get_api_key(self, key_hash: str) -> ApiKey | None:
        row = self._conn().execute("SELECT * FROM api_keys WHERE key_hash = ?", (key_hash,)).fetchone()
        return api_key_from(row) if row else None

    def list_api_keys(self) -> list[ApiKey]:
        return [api_key_from(r) for r in self._conn().execute("SELECT * FROM api_keys ORDER BY operator, key_hash")]

    # ---- allowlist ------------------------------------------------------
    def add_allowlist(self, entry: AllowlistEntry) -> AllowlistEntry:
        with self._write() as conn:
            conn.execute("INSERT OR IGNORE INTO allowlist VALUES (?, ?, ?, ?)", allowlist_values(entry))
            self._mark(conn, [entry.subject])
            row = conn.execute("SELECT * FROM allowlist WHERE subject = ?", (entry.subject,)).fetchone()
        return allowlist_from(row)

    def remove_allowlist(self, subject: str) -> bool:
        with self._write() as conn:
            gone = conn.execute("DELETE FROM allowlist WHERE subject = ?", (subject,)).rowcount == 1
            if gone:
                self._mark(conn, [subject])
        return gone

    def list_allowlist(self) -> list[AllowlistEntry]:
        return [allowlist_from(r) for r in self._conn().execute("SELECT * FROM allowlist ORDER BY subject")]

    # ---- filter snapshots ----------------------------------------------
    def put_filter_snapshot(
        self, version: int, count: int, capacity: int, error_rate: float, data: bytes, created_at: datetime
    ) -> FilterSnapshotMeta:
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO filter_snapshots (version, count, capacity, error_rate, created_at, size_bytes) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (version, count, capacity, error_rate, to_micros(created_at), len(data)),
            )
            sid = int(cur.lastrowid or 0)
            conn.executemany(
                "INSERT INTO filter_chunks VALUES (?, ?, ?)",
                [
                    (sid, i, data[off : off + CHUNK_BYTES])
                    for i, off in enumerate(range(0, max(len(data), 1), CHUNK_BYTES))
                ],
            )
        return FilterSnapshotMeta(sid, version, count, capacity, error_rate, created_at, len(data))

    def latest_filter_snapshot(self) -> FilterSnapshotMeta | None:
        row = (
            self._conn()
            .execute("SELECT * FROM filter_snapshots ORDER BY version DESC, snapshot_id DESC LIMIT 1")
            .fetchone()
        )
        return snapshot_from(row) if row is not None else None

    def filter_snapshot_data(self, snapshot_id: int) -> bytes:
        rows = (
            self._conn()
            .execute("SELECT data FROM filter_chunks WHERE snapshot_id = ? ORDER BY idx", (snapshot_id,))
            .fetchall()
        )
        if not rows:
            raise NotFound(f"filter snapshot {snapshot_id} not found")
        return b"".join(bytes(r[0]) for r in rows)

    def prune_filter_snapshots(self, keep: int) -> int:
        with self._write() as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT snapshot_id FROM filter_snapshots ORDER BY version DESC, snapshot_id DESC LIMIT -1 OFFSET ?",
                    (keep,),
                )
            ]
            conn.executemany("DELETE FROM filter_chunks WHERE snapshot_id = ?", [(i,) for i in ids])
            conn.executemany("DELETE FROM filter_snapshots WHERE snapshot_id = ?", [(i,) for i in ids])
        return len(ids)
