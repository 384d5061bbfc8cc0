"""The SQLite store's evidence tables (see ``numrep.store.evidence``)."""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

from numrep.errors import Conflict, NotFound
from numrep.models import (
    Action,
    BlockSwitch,
    CallAggregate,
    CallRecord,
    CaseKind,
    Category,
    Channel,
    Complaint,
    ConfirmedFraud,
    Decision,
    Honeypot,
    HourMark,
    Lane,
    Outcome,
    ReporterStats,
    ReviewCase,
    ShadowDiff,
)
from numrep.store.codec import at_micros, from_micros, hour_micros, to_micros
from numrep.store.evidence import EvidenceStore

EVIDENCE_SCHEMA = """
CREATE INDEX IF NOT EXISTS reports_by_reporter ON reports (reporter_hash, occurred_at);
CREATE TABLE IF NOT EXISTS call_records (
  record_id TEXT PRIMARY KEY, caller TEXT NOT NULL, hour INTEGER NOT NULL, callee_hash TEXT NOT NULL,
  channel TEXT NOT NULL, start INTEGER NOT NULL, ring_ms INTEGER NOT NULL, talk_seconds INTEGER NOT NULL,
  international INTEGER NOT NULL, operator TEXT NOT NULL, callee_reg INTEGER NOT NULL, prefix_reg INTEGER NOT NULL,
  received_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS call_records_by_hour ON call_records (caller, hour);
CREATE INDEX IF NOT EXISTS call_contacts ON call_records (caller, callee_hash, start);
CREATE TABLE IF NOT EXISTS dirty_hours (
  caller TEXT NOT NULL, hour INTEGER NOT NULL, token TEXT NOT NULL, marked_at INTEGER NOT NULL,
  PRIMARY KEY (caller, hour));
CREATE INDEX IF NOT EXISTS dirty_hours_by_time ON dirty_hours (marked_at);
CREATE TABLE IF NOT EXISTS call_aggregates (
  caller TEXT NOT NULL, hour INTEGER NOT NULL, channel TEXT NOT NULL, source TEXT NOT NULL,
  calls INTEGER NOT NULL, answered INTEGER NOT NULL, short_calls INTEGER NOT NULL, ring_once_calls INTEGER NOT NULL,
  international_calls INTEGER NOT NULL, callees BLOB NOT NULL, prefixes BLOB NOT NULL, honeypots TEXT NOT NULL,
  PRIMARY KEY (caller, hour, channel, source));
CREATE TABLE IF NOT EXISTS honeypots (
  number TEXT PRIMARY KEY, number_hash TEXT NOT NULL, operator TEXT NOT NULL, note TEXT NOT NULL,
  added_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS confirmed_fraud (
  subject TEXT PRIMARY KEY, case_id TEXT NOT NULL, expires_at INTEGER NOT NULL, actor TEXT NOT NULL,
  reason TEXT NOT NULL, confirmed_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS review_cases (
  case_id TEXT PRIMARY KEY, subject TEXT NOT NULL, kind TEXT NOT NULL, summary TEXT NOT NULL,
  opened_at INTEGER NOT NULL, decision TEXT, actor TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '',
  decided_at INTEGER, expires_at INTEGER);
CREATE INDEX IF NOT EXISTS review_cases_by_subject ON review_cases (subject, decided_at);
CREATE TABLE IF NOT EXISTS shadow_diffs (
  subject TEXT PRIMARY KEY, v1 TEXT NOT NULL, v2 TEXT NOT NULL, v2_score INTEGER NOT NULL, v2_reasons TEXT NOT NULL,
  at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS reporter_outcomes (
  reporter_hash TEXT NOT NULL, subject TEXT NOT NULL, outcome TEXT NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (reporter_hash, subject, outcome));
"""

#: Columns added to tables of schema version 1 (ALTER TABLE on an existing file).
ADDED_COLUMNS = {
    "reports": (("reporter_number_hash", "TEXT NOT NULL DEFAULT ''"), ("attested_by", "TEXT NOT NULL DEFAULT ''")),
}


def migrate_evidence(conn: sqlite3.Connection) -> None:
    for table, columns in ADDED_COLUMNS.items():
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        for name, decl in columns:
            if name not in have:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")
    conn.executescript(EVIDENCE_SCHEMA)


_hour_us, _dt = hour_micros, at_micros


def _record(r: sqlite3.Row) -> CallRecord:
    return CallRecord(r["record_id"], r["caller"], r["callee_hash"], Channel(r["channel"]), _dt(r["start"]),
                      r["ring_ms"], r["talk_seconds"], bool(r["international"]), r["operator"], r["callee_reg"],
                      r["prefix_reg"], _dt(r["received_at"]))


def _aggregate(r: sqlite3.Row) -> CallAggregate:
    return CallAggregate(r["caller"], Channel(r["channel"]), _dt(r["hour"]), r["source"], r["calls"], r["answered"],
                         r["short_calls"], r["ring_once_calls"], r["international_calls"], bytes(r["callees"]),
                         bytes(r["prefixes"]), tuple(json.loads(r["honeypots"])))


def _case(r: sqlite3.Row) -> ReviewCase:
    return ReviewCase(r["case_id"], r["subject"], CaseKind(r["kind"]), r["summary"], _dt(r["opened_at"]),
                      Decision(r["decision"]) if r["decision"] else None, r["actor"], r["reason"],
                      from_micros(r["decided_at"]), from_micros(r["expires_at"]))


def _chunks(items: Sequence[str], n: int = 500) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


class SQLiteEvidence(EvidenceStore):
    """Mixed into SQLiteStore, whose connection helpers it uses."""

    def _conn(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    @staticmethod
    def _mark(conn: sqlite3.Connection, subjects: Iterable[str], lane: Lane = Lane.FRESH) -> None:
        raise NotImplementedError

    # ---- call records --------------------------------------------------
    def add_call_records(self, records: Sequence[CallRecord]) -> list[bool]:
        hours: set[tuple[str, int]] = set()
        with self._write() as conn:  # one transaction: which ids exist cannot change under us
            existing: set[str] = set()
            for part in _chunks([r.record_id for r in records]):
                existing.update(row[0] for row in conn.execute(
                    f"SELECT record_id FROM call_records WHERE record_id IN ({','.join('?' * len(part))})", part))
            out: list[bool] = []
            rows = []
            for r in records:
                new = r.record_id not in existing
                out.append(new)
                if new:
                    existing.add(r.record_id)
                    hour = _hour_us(r.start)
                    hours.add((r.caller, hour))
                    rows.append((r.record_id, r.caller, hour, r.callee_hash, r.channel.value, to_micros(r.start),
                                 r.ring_ms, r.talk_seconds, int(r.international), r.operator, r.callee_reg,
                                 r.prefix_reg, to_micros(r.received_at)))
            conn.executemany("INSERT INTO call_records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            now = to_micros(datetime.now().astimezone())
            conn.executemany(
                "INSERT INTO dirty_hours(caller, hour, token, marked_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(caller, hour) DO UPDATE SET token = excluded.token",
                [(c, h, secrets.token_hex(8), now) for c, h in sorted(hours)])
        return out

    def call_records_in_hour(self, caller: str, hour: datetime) -> list[CallRecord]:
        rows = self._conn().execute("SELECT * FROM call_records WHERE caller = ? AND hour = ? ORDER BY record_id",
                                    (caller, _hour_us(hour)))
        return [_record(r) for r in rows]

    def prune_call_records(self, before: datetime) -> int:
        with self._write() as conn:
            return int(conn.execute("DELETE FROM call_records WHERE start < ?", (to_micros(before),)).rowcount)

    def dirty_hours(self, limit: int) -> list[HourMark]:
        rows = self._conn().execute("SELECT caller, hour, token FROM dirty_hours ORDER BY marked_at, caller, hour LIMIT ?",
                                    (limit,))
        return [HourMark(r["caller"], _dt(r["hour"]), r["token"]) for r in rows]

    def clear_dirty_hours(self, marks: Iterable[HourMark]) -> None:
        with self._write() as conn:
            conn.executemany("DELETE FROM dirty_hours WHERE caller = ? AND hour = ? AND token = ?",
                             [(m.caller, _hour_us(m.hour), m.token) for m in marks])

    def put_call_aggregates(self, aggregates: Sequence[CallAggregate]) -> None:
        with self._write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO call_aggregates VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(a.caller, _hour_us(a.hour), a.channel.value, a.source, a.calls, a.answered, a.short_calls,
                  a.ring_once_calls, a.international_calls, a.callees, a.prefixes, json.dumps(list(a.honeypots)))
                 for a in aggregates])
            self._mark(conn, sorted({a.caller for a in aggregates}))

    def call_aggregates(self, callers: Iterable[str], since: datetime) -> dict[str, list[CallAggregate]]:
        out: dict[str, list[CallAggregate]] = {}
        conn = self._conn()
        for part in _chunks(sorted(set(callers))):
            rows = conn.execute(
                f"SELECT * FROM call_aggregates WHERE caller IN ({','.join('?' * len(part))}) AND hour >= ? "
                "ORDER BY caller, hour, channel, source", (*part, _hour_us(since)))
            for r in rows:
                out.setdefault(r["caller"], []).append(_aggregate(r))
        return out

    def contacted(self, caller: str, claims: Sequence[tuple[str, datetime, datetime]]) -> set[int]:
        conn = self._conn()
        return {i for i, (callee, start, end) in enumerate(claims)
                if conn.execute("SELECT 1 FROM call_records WHERE caller = ? AND callee_hash = ? AND start BETWEEN ? AND ? "
                                "LIMIT 1", (caller, callee, to_micros(start), to_micros(end))).fetchone()}

    # ---- reporter trust -------------------------------------------------
    def complaints_for_subject(self, subject: str, since: datetime, limit: int) -> tuple[list[Complaint], int]:
        conn = self._conn()
        rows = conn.execute(
            "SELECT * FROM (SELECT report_id, reporter_hash, channel, category, occurred_at, reporter_number_hash, "
            "attested_by, ROW_NUMBER() OVER (PARTITION BY reporter_hash, channel ORDER BY occurred_at DESC, "
            "report_id DESC) AS rn FROM reports WHERE subject = ? AND occurred_at >= ?) WHERE rn = 1 "
            "ORDER BY occurred_at DESC, report_id DESC", (subject, to_micros(since)))
        complaints: list[Complaint] = []
        kept: set[str] = set()
        for r in rows:  # newest first; stop once `limit` reporters are in (memory stays bounded)
            if r["reporter_hash"] not in kept:
                if len(kept) >= limit:
                    break
                kept.add(r["reporter_hash"])
            complaints.append(Complaint(r["report_id"], r["reporter_hash"], Channel(r["channel"]),
                                        Category(r["category"]), _dt(r["occurred_at"]), r["reporter_number_hash"],
                                        r["attested_by"]))
        total = conn.execute("SELECT COUNT(DISTINCT reporter_hash) FROM reports WHERE subject = ? AND occurred_at >= ?",
                             (subject, to_micros(since))).fetchone()[0]
        return complaints, max(int(total) - len(kept), 0)

    def reporter_stats(self, moments: Mapping[str, datetime]) -> dict[str, ReporterStats]:
        conn = self._conn()
        out: dict[str, ReporterStats] = {}
        for reporter, at in moments.items():
            # first seen: the server's receipt time, never a time the client claims (occurred_at may be backdated)
            first = conn.execute("SELECT MIN(received_at) FROM reports WHERE reporter_hash = ?", (reporter,)).fetchone()[0]
            if first is None:
                continue
            n = conn.execute("SELECT COUNT(DISTINCT subject) FROM reports WHERE reporter_hash = ? AND occurred_at BETWEEN ? AND ?",
                             (reporter, to_micros(at - timedelta(hours=24)), to_micros(at))).fetchone()[0]
            counts = dict(conn.execute("SELECT outcome, COUNT(*) FROM reporter_outcomes WHERE reporter_hash = ? "
                                       "GROUP BY outcome", (reporter,)).fetchall())
            out[reporter] = ReporterStats(reporter, _dt(first), max(int(n), 1), int(counts.get("confirmed", 0)),
                                          int(counts.get("cleared", 0)))
        return out

    def record_outcome(self, subject: str, outcome: Outcome, reporters: Sequence[str], at: datetime) -> None:
        with self._write() as conn:
            conn.executemany("INSERT OR IGNORE INTO reporter_outcomes VALUES (?, ?, ?, ?)",
                             [(r, subject, outcome.value, to_micros(at)) for r in reporters])

    def subjects_reported_by(self, reporters: Iterable[str], since: datetime, limit: int) -> list[str]:
        out: list[str] = []
        conn = self._conn()
        for part in _chunks(sorted(set(reporters))):
            rows = conn.execute(f"SELECT DISTINCT subject FROM reports WHERE reporter_hash IN ({','.join('?' * len(part))}) "
                                "AND occurred_at >= ? ORDER BY subject LIMIT ?", (*part, to_micros(since), limit - len(out)))
            out.extend(r[0] for r in rows)
            if len(out) >= limit:
                break
        return sorted(set(out))[:limit]

    # ---- honeypots ------------------------------------------------------
    def add_honeypot(self, honeypot: Honeypot) -> Honeypot:
        with self._write() as conn:
            conn.execute("INSERT OR IGNORE INTO honeypots VALUES (?, ?, ?, ?, ?)",
                         (honeypot.number, honeypot.number_hash, honeypot.operator, honeypot.note,
                          to_micros(honeypot.added_at)))
            row = conn.execute("SELECT * FROM honeypots WHERE number = ?", (honeypot.number,)).fetchone()
        return Honeypot(row["number"], row["number_hash"], row["operator"], row["note"], _dt(row["added_at"]))

    def remove_honeypot(self, number: str) -> Honeypot | None:
        with self._write() as conn:
            row = conn.execute("SELECT * FROM honeypots WHERE number = ?", (number,)).fetchone()
            if row is None:
                return None
            conn.execute("DELETE FROM honeypots WHERE number = ?", (number,))
        return Honeypot(row["number"], row["number_hash"], row["operator"], row["note"], _dt(row["added_at"]))

    def honeypots(self) -> list[Honeypot]:
        rows = self._conn().execute("SELECT * FROM honeypots ORDER BY number")
        return [Honeypot(r["number"], r["number_hash"], r["operator"], r["note"], _dt(r["added_at"])) for r in rows]

    # ---- authoritative evidence and review ----------------------------
    def confirm_fraud(self, entry: ConfirmedFraud) -> None:
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO confirmed_fraud VALUES (?, ?, ?, ?, ?, ?)",
                         (entry.subject, entry.case_id, to_micros(entry.expires_at), entry.actor, entry.reason,
                          to_micros(entry.confirmed_at)))
            self._mark(conn, [entry.subject])

    def confirmed_fraud(self, subjects: Iterable[str]) -> dict[str, ConfirmedFraud]:
        out: dict[str, ConfirmedFraud] = {}
        conn = self._conn()
        for part in _chunks(sorted(set(subjects))):
            for r in conn.execute(f"SELECT * FROM confirmed_fraud WHERE subject IN ({','.join('?' * len(part))})", part):
                out[r["subject"]] = ConfirmedFraud(r["subject"], r["case_id"], _dt(r["expires_at"]), r["actor"],
                                                   r["reason"], _dt(r["confirmed_at"]))
        return out

    def open_case(self, case: ReviewCase) -> bool:
        with self._write() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO review_cases(case_id, subject, kind, summary, opened_at) VALUES (?, ?, ?, ?, ?)",
                (case.case_id, case.subject, case.kind.value, case.summary, to_micros(case.opened_at)))
            return cur.rowcount == 1

    def decide_case(self, case_id: str, decision: Decision, actor: str, reason: str, at: datetime,
                    expires_at: datetime | None) -> ReviewCase:
        with self._write() as conn:
            row = conn.execute("SELECT * FROM review_cases WHERE case_id = ?", (case_id,)).fetchone()
            if row is None:
                raise NotFound(f"review case {case_id!r}: no such case")
            if row["decision"]:
                raise Conflict(f"review case {case_id!r}: decided already ({row['decision']})")
            kept = f"{case_id}@{to_micros(at)}"
            conn.execute("UPDATE review_cases SET case_id = ?, decision = ?, actor = ?, reason = ?, decided_at = ?, "
                         "expires_at = ? WHERE case_id = ?",
                         (kept, decision.value, actor, reason, to_micros(at), to_micros(expires_at), case_id))
            self._mark(conn, [row["subject"]])
            return _case(conn.execute("SELECT * FROM review_cases WHERE case_id = ?", (kept,)).fetchone())

    def review_cases(self, state: str = "open", limit: int = 100) -> list[ReviewCase]:
        where = {"open": "WHERE decision IS NULL", "decided": "WHERE decision IS NOT NULL", "all": ""}[state]
        rows = self._conn().execute(f"SELECT * FROM review_cases {where} ORDER BY opened_at, case_id LIMIT ?", (limit,))
        return [_case(r) for r in rows]

    def case_decisions(self, subjects: Iterable[str]) -> dict[str, list[ReviewCase]]:
        out: dict[str, list[ReviewCase]] = {}
        conn = self._conn()
        for part in _chunks(sorted(set(subjects))):
            rows = conn.execute(f"SELECT * FROM review_cases WHERE subject IN ({','.join('?' * len(part))}) "
                                "AND decision IS NOT NULL ORDER BY decided_at, case_id", part)
            for r in rows:
                out.setdefault(r["subject"], []).append(_case(r))
        return out

    def put_shadow_diffs(self, diffs: Sequence[ShadowDiff], agreeing: Iterable[str]) -> None:
        with self._write() as conn:
            conn.executemany("DELETE FROM shadow_diffs WHERE subject = ?", [(s,) for s in agreeing])
            conn.executemany("INSERT OR REPLACE INTO shadow_diffs VALUES (?, ?, ?, ?, ?, ?)",
                             [(d.subject, d.v1.value, d.v2.value, d.v2_score, json.dumps(list(d.v2_reasons), ensure_ascii=False),
                               to_micros(d.at)) for d in diffs])

    def shadow_diffs(self, limit: int) -> list[ShadowDiff]:
        rows = self._conn().execute("SELECT * FROM shadow_diffs ORDER BY subject LIMIT ?", (limit,))
        return [ShadowDiff(r["subject"], Action(r["v1"]), Action(r["v2"]), r["v2_score"], tuple(json.loads(r["v2_reasons"])),
                           _dt(r["at"])) for r in rows]

    def get_block_switch(self) -> BlockSwitch:
        row = self._conn().execute("SELECT value FROM meta WHERE key = 'block_switch'").fetchone()
        if row is None:
            return BlockSwitch(False)
        d = json.loads(row["value"])
        return BlockSwitch(d["on"], d["actor"], d["reason"], from_micros(d["at"]))

    def set_block_switch(self, switch: BlockSwitch) -> None:
        value = json.dumps({"on": switch.block_to_label, "actor": switch.actor, "reason": switch.reason,
                            "at": to_micros(switch.set_at)})
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('block_switch', ?)", (value,))
