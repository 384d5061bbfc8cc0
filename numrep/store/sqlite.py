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
from datetime import date, datetime, timezone
from pathlib import Path

from numrep.errors import NotFound, StoreUnavailable
from numrep.models import (
    Allocation,
    ApiKey,
    CaseEvent,
    CaseStep,
    AllowlistEntry,
    Category,
    Channel,
    DirtyMark,
    FilterSnapshotMeta,
    HolderType,
    PortBlacklistEntry,
    Report,
    ReportSummary,
    Reputation,
    Rule,
    RulesDelta,
    Scope,
    Source,
)
from numrep.rules import EMPTY_CHECKSUM, apply_delta, canonical_checksum, effective_changes
from numrep.store.base import Store
from numrep.store.sqlite_evidence import SQLiteEvidence, migrate_evidence
from numrep.store.codec import RULE_COLUMNS, from_micros, reputation_fields, reputation_from, rule_from, rule_values, to_micros

SCHEMA_VERSION = 1
CHUNK_BYTES = 1 << 20

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reports (
  report_id TEXT PRIMARY KEY, reporter_hash TEXT NOT NULL, subject TEXT NOT NULL,
  channel TEXT NOT NULL, category TEXT NOT NULL, occurred_at INTEGER NOT NULL,
  received_at INTEGER NOT NULL, source TEXT NOT NULL, text TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS reports_by_subject ON reports (subject, occurred_at);
CREATE INDEX IF NOT EXISTS reports_by_received ON reports (received_at);
CREATE TABLE IF NOT EXISTS dirty (subject TEXT PRIMARY KEY, token TEXT NOT NULL, marked_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS dirty_by_time ON dirty (marked_at);
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


class SQLiteStore(SQLiteEvidence, Store):
    name = "sqlite"

    def __init__(self, path: Path | str, rules_log_keep_versions: int = 10_000) -> None:
        self.path = Path(path)
        self.keep_versions = rules_log_keep_versions
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    # ---- connections ---------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            except (OSError, sqlite3.Error) as exc:
                raise StoreUnavailable(f"cannot open SQLite store {self.path}: {exc}") from exc
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
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
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def migrate(self) -> None:
        conn = self._conn()
        conn.executescript(SCHEMA)
        migrate_evidence(conn)
        conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()

    # ---- reports ---------------------------------------------------------
    def add_reports(self, reports: Sequence[Report]) -> list[bool]:
        out: list[bool] = []
        with self._write() as conn:
            for r in reports:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO reports(report_id, reporter_hash, subject, channel, category, occurred_at, "
                    "received_at, source, text, reporter_number_hash, attested_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (r.report_id, r.reporter_hash, r.subject, r.channel.value, r.category.value,
                     to_micros(r.occurred_at), to_micros(r.received_at), r.source.value, r.text,
                     r.reporter_number_hash, r.attested_by),
                )
                new = cur.rowcount == 1
                if new:
                    self._mark(conn, [r.subject])
                out.append(new)
        return out

    def reports_for_subject(self, subject: str, since: datetime) -> list[Report]:
        rows = self._conn().execute(
            "SELECT * FROM reports WHERE subject = ? AND occurred_at >= ? ORDER BY occurred_at, report_id",
            (subject, to_micros(since)),
        )
        return [
            Report(
                report_id=row["report_id"], reporter_hash=row["reporter_hash"], subject=row["subject"],
                channel=Channel(row["channel"]), category=Category(row["category"]),
                occurred_at=from_micros(row["occurred_at"]),  # type: ignore[arg-type]
                received_at=from_micros(row["received_at"]),  # type: ignore[arg-type]
                source=Source(row["source"]), text=row["text"],
                reporter_number_hash=row["reporter_number_hash"], attested_by=row["attested_by"],
            )
            for row in rows
        ]

    def report_summaries(self, start: date, end: date) -> Iterator[ReportSummary]:
        lo = to_micros(datetime(start.year, start.month, start.day, tzinfo=timezone.utc))
        hi = to_micros(datetime(end.year, end.month, end.day, tzinfo=timezone.utc))
        rows = self._conn().execute(
            "SELECT report_id, subject, category, channel, received_at FROM reports WHERE received_at >= ? AND received_at < ?",
            (lo, hi),
        )
        for r in rows:
            day = from_micros(r["received_at"]).date()  # type: ignore[union-attr]
            yield ReportSummary(r["report_id"], r["subject"], Category(r["category"]), Channel(r["channel"]), day,
                                from_micros(r["received_at"]))  # type: ignore[arg-type]

    def count_reports(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM reports").fetchone()[0])

    # ---- dirty ---------------------------------------------------------
    @staticmethod
    def _mark(conn: sqlite3.Connection, subjects: Iterable[str]) -> None:
        now = to_micros(datetime.now().astimezone())
        conn.executemany(
            "INSERT INTO dirty(subject, token, marked_at) VALUES (?, ?, ?) "
            "ON CONFLICT(subject) DO UPDATE SET token = excluded.token",
            [(s, secrets.token_hex(8), now) for s in subjects],
        )

    def mark_dirty(self, subjects: Iterable[str]) -> None:
        with self._write() as conn:
            self._mark(conn, subjects)

    def dirty_subjects(self, limit: int) -> list[DirtyMark]:
        rows = self._conn().execute("SELECT subject, token FROM dirty ORDER BY marked_at, subject LIMIT ?", (limit,))
        return [DirtyMark(row["subject"], row["token"]) for row in rows]

    def clear_dirty(self, marks: Iterable[DirtyMark]) -> None:
        with self._write() as conn:
            conn.executemany("DELETE FROM dirty WHERE subject = ? AND token = ?", [(m.subject, m.token) for m in marks])

    # ---- reputations ----------------------------------------------------
    def put_reputations(self, reputations: Sequence[Reputation]) -> None:
        cols = ("subject", "score", "actions", "categories", "reporters", "weighted", "first_seen", "last_seen",
                "reasons", "protected", "updated_at", "flagged")
        sql = f"INSERT OR REPLACE INTO reputations ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        with self._write() as conn:
            conn.executemany(sql, [tuple(reputation_fields(r)[c] for c in cols) for r in reputations])

    def get_reputation(self, subject: str) -> Reputation | None:
        row = self._conn().execute("SELECT * FROM reputations WHERE subject = ?", (subject,)).fetchone()
        return reputation_from(row) if row else None

    def flagged_subjects(self) -> list[str]:
        rows = self._conn().execute("SELECT subject FROM reputations WHERE flagged = 1 ORDER BY subject")
        return [row[0] for row in rows]

    # ---- rules ----------------------------------------------------------
    def rules_version(self) -> int:
        row = self._conn().execute("SELECT MAX(version) FROM rule_versions").fetchone()
        return int(row[0] or 0)

    def active_rules(self, subjects: Iterable[str] | None = None) -> dict[str, Rule]:
        conn = self._conn()
        if subjects is None:
            rows = list(conn.execute(f"SELECT {', '.join(RULE_COLUMNS)} FROM rules"))
        else:
            wanted = sorted(set(subjects))
            rows = []
            for i in range(0, len(wanted), 500):
                part = wanted[i : i + 500]
                rows += conn.execute(
                    f"SELECT {', '.join(RULE_COLUMNS)} FROM rules WHERE subject IN ({', '.join('?' * len(part))})", part
                ).fetchall()
        return {row["rule_id"]: rule_from(row) for row in rows}

    def publish_rules(self, upserts: Sequence[Rule], removed: Sequence[str], created_at: datetime) -> int | None:
        with self._write() as conn:
            current = {
                row["rule_id"]: rule_from(row)
                for row in conn.execute(f"SELECT {', '.join(RULE_COLUMNS)} FROM rules")
            }
            real_upserts, real_removed = effective_changes(current, upserts, removed)
            if not real_upserts and not real_removed:
                return None
            version = int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM rule_versions").fetchone()[0]) + 1
            placeholders = ", ".join("?" * len(RULE_COLUMNS))
            conn.executemany(
                f"INSERT OR REPLACE INTO rules ({', '.join(RULE_COLUMNS)}, version) VALUES ({placeholders}, ?)",
                [(*rule_values(r), version) for r in real_upserts],
            )
            conn.executemany(
                f"INSERT INTO rule_log (version, op, {', '.join(RULE_COLUMNS)}) VALUES (?, 'add', {placeholders})",
                [(version, *rule_values(r)) for r in real_upserts],
            )
            conn.executemany("DELETE FROM rules WHERE rule_id = ?", [(rid,) for rid in real_removed])
            conn.executemany(
                "INSERT INTO rule_log (version, op, rule_id) VALUES (?, 'remove', ?)",
                [(version, rid) for rid in real_removed],
            )
            apply_delta(current, real_upserts, real_removed)
            checksum = canonical_checksum(current.values())
            conn.execute(
                "INSERT INTO rule_versions VALUES (?, ?, ?, ?, ?)",
                (version, to_micros(created_at), checksum, len(real_upserts), len(real_removed)),
            )
            conn.execute("DELETE FROM rule_log WHERE version <= ?", (version - self.keep_versions,))
            return version

    def rules_since(self, since_version: int) -> RulesDelta:
        conn = self._conn()
        conn.execute("BEGIN")  # one consistent read snapshot
        try:
            row = conn.execute("SELECT version, checksum FROM rule_versions ORDER BY version DESC LIMIT 1").fetchone()
            version, checksum = (int(row[0]), row[1]) if row else (0, EMPTY_CHECKSUM)
            oldest_log = conn.execute("SELECT MIN(version) FROM rule_log").fetchone()[0]
            delta_ok = 0 < since_version <= version and (
                since_version == version or (oldest_log is not None and since_version >= oldest_log - 1)
            )
            if not delta_ok:
                rules = [rule_from(r) for r in conn.execute(f"SELECT {', '.join(RULE_COLUMNS)} FROM rules")]
                return RulesDelta(version, 0, True, tuple(sorted(rules, key=lambda r: r.rule_id)), (), checksum)
            last: dict[str, sqlite3.Row] = {}
            for r in conn.execute("SELECT * FROM rule_log WHERE version > ? ORDER BY version", (since_version,)):
                last[r["rule_id"]] = r
            added = tuple(rule_from(r) for rid, r in sorted(last.items()) if r["op"] == "add")
            removed = tuple(rid for rid, r in sorted(last.items()) if r["op"] == "remove")
            return RulesDelta(version, since_version, False, added, removed, checksum)
        finally:
            conn.execute("COMMIT")

    # ---- SMS-port blacklist ---------------------------------------------
    def add_port_blacklist(self, entries: Sequence[PortBlacklistEntry]) -> int:
        with self._write() as conn:  # one transaction: the whole import or nothing
            existing = self._port_entries(conn, [e.port for e in entries])
            changed = {e.port: e for e in entries if existing.get(e.port) != e}
            conn.executemany(
                "INSERT OR REPLACE INTO port_blacklist VALUES (?, ?, ?, ?, ?)",
                [(e.port, e.enterprise, e.reason, e.source, e.listed_on.isoformat()) for e in changed.values()],
            )
            self._mark(conn, changed)
        return len(changed)

    @staticmethod
    def _port_entries(conn: sqlite3.Connection, ports: Iterable[str]) -> dict[str, PortBlacklistEntry]:
        wanted = sorted(set(ports))
        out: dict[str, PortBlacklistEntry] = {}
        for i in range(0, len(wanted), 500):
            part = wanted[i : i + 500]
            for r in conn.execute(f"SELECT * FROM port_blacklist WHERE port IN ({', '.join('?' * len(part))})", part):
                out[r["port"]] = PortBlacklistEntry(r["port"], r["enterprise"], r["reason"], r["source"],
                                                    date.fromisoformat(r["listed_on"]))
        return out

    def port_blacklist(self, ports: Iterable[str]) -> dict[str, PortBlacklistEntry]:
        return self._port_entries(self._conn(), ports)

    def list_port_blacklist(self) -> list[PortBlacklistEntry]:
        return [PortBlacklistEntry(r["port"], r["enterprise"], r["reason"], r["source"], date.fromisoformat(r["listed_on"]))
                for r in self._conn().execute("SELECT * FROM port_blacklist ORDER BY port")]

    def count_port_blacklist(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM port_blacklist").fetchone()[0])

    # ---- number-resource registry ----------------------------------------
    def put_allocations(self, allocations: Sequence[Allocation]) -> int:
        with self._write() as conn:
            existing = {a.prefix: a for a in self._allocations(conn)}
            changed = [a for a in {a.prefix: a for a in allocations}.values() if existing.get(a.prefix) != a]
            conn.executemany("INSERT OR REPLACE INTO allocations VALUES (?, ?, ?, ?)",
                             [(a.prefix, a.holder, a.holder_type.value, a.size) for a in changed])
        return len(changed)

    @staticmethod
    def _allocations(conn: sqlite3.Connection) -> list[Allocation]:
        return [Allocation(r["prefix"], r["holder"], HolderType(r["holder_type"]), int(r["size"]))
                for r in conn.execute("SELECT * FROM allocations ORDER BY prefix")]

    def allocations(self) -> list[Allocation]:
        return self._allocations(self._conn())

    # ---- complaint handling -----------------------------------------------
    def add_case_event(self, event: CaseEvent) -> CaseEvent:
        with self._write() as conn:
            conn.execute("INSERT OR IGNORE INTO case_events VALUES (?, ?, ?, ?, ?)",
                         (event.report_id, event.step.value, event.holder, to_micros(event.at), event.note))
            row = conn.execute("SELECT * FROM case_events WHERE report_id = ? AND step = ?",
                               (event.report_id, event.step.value)).fetchone()
        return _case_from_row(row)

    def case_events(self, report_ids: Iterable[str]) -> list[CaseEvent]:
        wanted = sorted(set(report_ids))
        out: list[CaseEvent] = []
        conn = self._conn()
        for i in range(0, len(wanted), 500):
            part = wanted[i : i + 500]
            out += [_case_from_row(r) for r in conn.execute(
                f"SELECT * FROM case_events WHERE report_id IN ({', '.join('?' * len(part))})", part)]
        return out

    def get_report(self, report_id: str) -> ReportSummary | None:
        r = self._conn().execute(
            "SELECT report_id, subject, category, channel, received_at FROM reports WHERE report_id = ?", (report_id,)
        ).fetchone()
        if r is None:
            return None
        at = from_micros(r["received_at"])
        return ReportSummary(r["report_id"], r["subject"], Category(r["category"]), Channel(r["channel"]), at.date(), at)  # type: ignore[union-attr,arg-type]

    # ---- API keys ---------------------------------------------------------
    def put_api_key(self, key: ApiKey) -> None:
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO api_keys VALUES (?, ?, ?, ?, ?)",
                         (key.key_hash, key.operator, ",".join(sorted(s.value for s in key.scopes)),
                          to_micros(key.created_at), int(key.revoked)))

    def get_api_key(self, key_hash: str) -> ApiKey | None:
        row = self._conn().execute("SELECT * FROM api_keys WHERE key_hash = ?", (key_hash,)).fetchone()
        return _key_from_row(row) if row else None

    def list_api_keys(self) -> list[ApiKey]:
        return [_key_from_row(r) for r in self._conn().execute("SELECT * FROM api_keys ORDER BY operator, key_hash")]

    # ---- allowlist ------------------------------------------------------
    def add_allowlist(self, entry: AllowlistEntry) -> AllowlistEntry:
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO allowlist VALUES (?, ?, ?, ?)",
                (entry.subject, entry.reason, entry.added_by, to_micros(entry.added_at)),
            )
            self._mark(conn, [entry.subject])
            row = conn.execute("SELECT * FROM allowlist WHERE subject = ?", (entry.subject,)).fetchone()
        return AllowlistEntry(row["subject"], row["reason"], row["added_by"], from_micros(row["added_at"]))  # type: ignore[arg-type]

    def remove_allowlist(self, subject: str) -> bool:
        with self._write() as conn:
            gone = conn.execute("DELETE FROM allowlist WHERE subject = ?", (subject,)).rowcount == 1
            if gone:
                self._mark(conn, [subject])
        return gone

    def list_allowlist(self) -> list[AllowlistEntry]:
        rows = self._conn().execute("SELECT * FROM allowlist ORDER BY subject")
        return [AllowlistEntry(r["subject"], r["reason"], r["added_by"], from_micros(r["added_at"])) for r in rows]  # type: ignore[arg-type]

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
                [(sid, i, data[off : off + CHUNK_BYTES]) for i, off in enumerate(range(0, max(len(data), 1), CHUNK_BYTES))],
            )
        return FilterSnapshotMeta(sid, version, count, capacity, error_rate, created_at, len(data))

    def latest_filter_snapshot(self) -> FilterSnapshotMeta | None:
        row = self._conn().execute(
            "SELECT * FROM filter_snapshots ORDER BY version DESC, snapshot_id DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        return FilterSnapshotMeta(
            row["snapshot_id"], row["version"], row["count"], row["capacity"], row["error_rate"],
            from_micros(row["created_at"]), row["size_bytes"],  # type: ignore[arg-type]
        )

    def filter_snapshot_data(self, snapshot_id: int) -> bytes:
        rows = self._conn().execute(
            "SELECT data FROM filter_chunks WHERE snapshot_id = ? ORDER BY idx", (snapshot_id,)
        ).fetchall()
        if not rows:
            raise NotFound(f"filter snapshot {snapshot_id} not found")
        return b"".join(bytes(r[0]) for r in rows)

    def prune_filter_snapshots(self, keep: int) -> int:
        with self._write() as conn:
            ids = [r[0] for r in conn.execute(
                "SELECT snapshot_id FROM filter_snapshots ORDER BY version DESC, snapshot_id DESC LIMIT -1 OFFSET ?",
                (keep,),
            )]
            conn.executemany("DELETE FROM filter_chunks WHERE snapshot_id = ?", [(i,) for i in ids])
            conn.executemany("DELETE FROM filter_snapshots WHERE snapshot_id = ?", [(i,) for i in ids])
        return len(ids)


def _case_from_row(r: sqlite3.Row) -> CaseEvent:
    return CaseEvent(r["report_id"], CaseStep(r["step"]), r["holder"], from_micros(r["at"]), r["note"])  # type: ignore[arg-type]


def _key_from_row(r: sqlite3.Row) -> ApiKey:
    return ApiKey(r["key_hash"], r["operator"], frozenset(Scope(x) for x in r["scopes"].split(",") if x),
                  from_micros(r["created_at"]), bool(r["revoked"]))  # type: ignore[arg-type]
