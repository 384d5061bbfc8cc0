"""The SQLite store's evidence tables (see ``numrep.store.evidence``)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import TypeVar

from numrep.errors import Conflict, NotFound
from numrep.evidence.records import RECORDS_SOURCE, RecordRow, aggregate_rows, merge_aggregates
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
    Contact,
    Decision,
    Honeypot,
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
CREATE TABLE IF NOT EXISTS contacts (
  caller TEXT NOT NULL, callee_hash TEXT NOT NULL, operator TEXT NOT NULL, caller_hash TEXT NOT NULL,
  first_at INTEGER NOT NULL, last_at INTEGER NOT NULL, PRIMARY KEY (caller, callee_hash, operator)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS contacts_inbound ON contacts (callee_hash, caller_hash);
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
    if conn.execute(f"SELECT 1 FROM meta WHERE key = '{FOLD_CURSOR}'").fetchone() is None:
        _fold_from_scratch(conn)


#: meta key of the inbox position up to which records are folded (``call_records`` rowids).
FOLD_CURSOR = "call_records_folded"


def _fold_from_scratch(conn: sqlite3.Connection) -> None:
    """Switch a store of the per-hour design (indexes by hour and callee, a dirty_hours table) to the inbox.

    Every kept raw record will be folded again: the derived ``records``
    aggregates of their hours go, except the oldest hour's, whose raw records
    retention may have cut (those records go instead). Contacts start from the
    kept records. On a new store this only sets the cursor.
    """
    oldest = conn.execute("SELECT MIN(hour) FROM call_records").fetchone()[0]
    if oldest is not None:
        conn.execute("DELETE FROM call_aggregates WHERE source = 'records' AND hour > ?", (oldest,))
        conn.execute("DELETE FROM call_records WHERE hour = ?", (oldest,))
    for legacy in ("INDEX call_records_by_hour", "INDEX call_contacts", "TABLE dirty_hours"):
        conn.execute(f"DROP {legacy.split()[0]} IF EXISTS {legacy.split()[1]}")
    conn.execute("INSERT INTO meta(key, value) VALUES (?, '0')", (FOLD_CURSOR,))


_hour_us, _dt = hour_micros, at_micros
HOUR_US = 3_600_000_000
MAX_MICROS = 2**62  # an open upper bound on stored times


def _record(r: sqlite3.Row) -> CallRecord:
    return CallRecord(
        r["record_id"],
        r["caller"],
        r["callee_hash"],
        Channel(r["channel"]),
        _dt(r["start"]),
        r["ring_ms"],
        r["talk_seconds"],
        bool(r["international"]),
        r["operator"],
        r["callee_reg"],
        r["prefix_reg"],
        _dt(r["received_at"]),
    )


def _aggregate(r: sqlite3.Row) -> CallAggregate:
    return CallAggregate(
        r["caller"],
        Channel(r["channel"]),
        _dt(r["hour"]),
        r["source"],
        r["calls"],
        r["answered"],
        r["short_calls"],
        r["ring_once_calls"],
        r["international_calls"],
        bytes(r["callees"]),
        bytes(r["prefixes"]),
        tuple(json.loads(r["honeypots"])),
    )


def _case(r: sqlite3.Row) -> ReviewCase:
    return ReviewCase(
        r["case_id"],
        r["subject"],
        CaseKind(r["kind"]),
        r["summary"],
        _dt(r["opened_at"]),
        Decision(r["decision"]) if r["decision"] else None,
        r["actor"],
        r["reason"],
        from_micros(r["decided_at"]),
        from_micros(r["expires_at"]),
    )


T = TypeVar("T")


def _chunks(items: Sequence[T], n: int = 500) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


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
        """Append to the inbox: one ``INSERT OR IGNORE`` of the batch on the ``record_id`` key.

        The inbox has no index but its key (each one costs a random B-tree
        insert per record); the worker folds it in rowid order. Which records
        were new is known from the change count — and, only when some id was
        there already, from the rowids this transaction added.
        """
        rows = []
        received: datetime | None = None
        received_us = 0
        for rid, caller, callee, channel, at, ring, talk, intl, operator, callee_reg, prefix_reg, got in records:
            if got is not received:
                received, received_us = got, to_micros(got) or 0
            start = round(at.timestamp() * 1_000_000)  # to_micros, inline: it runs once per record
            rows.append(
                (
                    rid,
                    caller,
                    start - start % HOUR_US,
                    callee,
                    channel.value,
                    start,
                    ring,
                    talk,
                    int(intl),
                    operator,
                    callee_reg,
                    prefix_reg,
                    received_us,
                )
            )
        with self._write() as conn:
            top = conn.execute("SELECT MAX(rowid) FROM call_records").fetchone()[0] or 0
            before = conn.total_changes
            conn.executemany("INSERT OR IGNORE INTO call_records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            if conn.total_changes - before == len(rows):
                return [True] * len(rows)
            fresh = {row[0] for row in conn.execute("SELECT record_id FROM call_records WHERE rowid > ?", (top,))}
        out = []
        for r in records:
            out.append(r.record_id in fresh)
            fresh.discard(r.record_id)  # a second one of the same id in the batch was not stored
        return out

    def fold_call_records(
        self, limit: int, honeypots: frozenset[str], caller_hash: Callable[[str], str], contacts_cap: int
    ) -> int:
        """One transaction: the next ``limit`` inbox rows into aggregates and contacts, and the cursor past them."""
        with self._write() as conn:
            cursor = int(conn.execute("SELECT value FROM meta WHERE key = ?", (FOLD_CURSOR,)).fetchone()[0])
            rows = conn.execute(
                "SELECT rowid, caller, hour, channel, talk_seconds, ring_ms, international, callee_reg, prefix_reg, "
                "callee_hash, operator, start FROM call_records WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (cursor, limit),
            ).fetchall()
            if not rows:
                return 0
            hours: dict[int, datetime] = {}
            channels = {c.value: c for c in Channel}
            folded = aggregate_rows(
                (
                    RecordRow(
                        r[1],
                        hours.get(r[2]) or hours.setdefault(r[2], _dt(r[2])),
                        channels[r[3]],
                        r[4],
                        r[5],
                        bool(r[6]),
                        r[7],
                        r[8],
                        r[9],
                    )
                    for r in rows
                ),
                honeypots,
            )
            self._merge_aggregates(conn, folded)
            self._fold_contacts(conn, rows, caller_hash, contacts_cap)
            self._mark(conn, sorted({a.caller for a in folded}))
            conn.execute("UPDATE meta SET value = ? WHERE key = ?", (str(rows[-1][0]), FOLD_CURSOR))
        return len(rows)

    @staticmethod
    def _merge_aggregates(conn: sqlite3.Connection, folded: Sequence[CallAggregate]) -> None:
        by_key = {(a.caller, _hour_us(a.hour), a.channel.value): a for a in folded}
        callers = sorted({a.caller for a in folded})
        hours = sorted({k[1] for k in by_key})
        for part in _chunks(callers, 400):
            for hpart in _chunks(hours, 400):
                for r in conn.execute(
                    f"SELECT * FROM call_aggregates WHERE source = ? AND caller IN ({','.join('?' * len(part))}) "
                    f"AND hour IN ({','.join('?' * len(hpart))})",
                    (RECORDS_SOURCE, *part, *hpart),
                ):
                    key = (r["caller"], r["hour"], r["channel"])
                    if key in by_key:
                        by_key[key] = merge_aggregates(_aggregate(r), by_key[key])
        conn.executemany(
            "INSERT OR REPLACE INTO call_aggregates VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    a.caller,
                    h,
                    ch,
                    a.source,
                    a.calls,
                    a.answered,
                    a.short_calls,
                    a.ring_once_calls,
                    a.international_calls,
                    a.callees,
                    a.prefixes,
                    json.dumps(list(a.honeypots)),
                )
                for (_c, h, ch), a in by_key.items()
            ],
        )

    @staticmethod
    def _fold_contacts(
        conn: sqlite3.Connection, rows: Sequence[sqlite3.Row], caller_hash: Callable[[str], str], cap: int
    ) -> None:
        seen: dict[str, dict[tuple[str, str], list[int]]] = {}
        for r in rows:
            span = seen.setdefault(r[1], {}).setdefault((r[9], r[10]), [r[11], r[11]])
            span[0], span[1] = min(span[0], r[11]), max(span[1], r[11])
        held: dict[str, int] = {}
        for part in _chunks(sorted(seen), 500):
            held.update(
                conn.execute(
                    f"SELECT caller, COUNT(DISTINCT callee_hash) FROM contacts WHERE caller IN "
                    f"({','.join('?' * len(part))}) GROUP BY caller",
                    part,
                ).fetchall()
            )
        upserts: list[tuple[str, str, str, str, int, int]] = []
        for caller, spans in seen.items():
            callees = {callee for callee, _op in spans}
            if held.get(caller, 0) + len(callees) > cap:  # keep the callees held, and the first new ones up to the cap
                have: set[str] = set()
                for part in _chunks(sorted(callees), 500):
                    have.update(
                        r[0]
                        for r in conn.execute(
                            f"SELECT DISTINCT callee_hash FROM contacts WHERE caller = ? AND callee_hash IN "
                            f"({','.join('?' * len(part))})",
                            (caller, *part),
                        )
                    )
                firsts: dict[str, int] = {}
                for (callee, _op), (first, _last) in spans.items():
                    firsts[callee] = min(firsts.get(callee, first), first)
                room = max(cap - held.get(caller, 0), 0)
                keep = have | set(sorted(callees - have, key=lambda c: (firsts[c], c))[:room])
                spans = {k: v for k, v in spans.items() if k[0] in keep}
            h = caller_hash(caller)
            upserts.extend((caller, callee, op, h, first, last) for (callee, op), (first, last) in spans.items())
        conn.executemany(
            "INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (caller, callee_hash, operator) DO UPDATE SET "
            "first_at = MIN(first_at, excluded.first_at), last_at = MAX(last_at, excluded.last_at)",
            upserts,
        )

    def call_records_in_hour(self, caller: str, hour: datetime) -> list[CallRecord]:
        rows = self._conn().execute(
            "SELECT * FROM call_records WHERE caller = ? AND hour = ? ORDER BY record_id", (caller, _hour_us(hour))
        )
        return [_record(r) for r in rows]

    def prune_call_records(self, before: datetime) -> int:
        # The newest row stays whatever its age: rowids must keep growing past the fold cursor.
        with self._write() as conn:
            conn.execute("DELETE FROM contacts WHERE last_at < ?", (to_micros(before),))
            return int(
                conn.execute(
                    "DELETE FROM call_records WHERE start < ? AND rowid < (SELECT MAX(rowid) FROM call_records)",
                    (to_micros(before),),
                ).rowcount
            )

    def put_call_aggregates(self, aggregates: Sequence[CallAggregate]) -> None:
        with self._write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO call_aggregates VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        a.caller,
                        _hour_us(a.hour),
                        a.channel.value,
                        a.source,
                        a.calls,
                        a.answered,
                        a.short_calls,
                        a.ring_once_calls,
                        a.international_calls,
                        a.callees,
                        a.prefixes,
                        json.dumps(list(a.honeypots)),
                    )
                    for a in aggregates
                ],
            )
            self._mark(conn, sorted({a.caller for a in aggregates}))

    def call_aggregates(self, callers: Iterable[str], since: datetime) -> dict[str, list[CallAggregate]]:
        out: dict[str, list[CallAggregate]] = {}
        conn = self._conn()
        for part in _chunks(sorted(set(callers))):
            rows = conn.execute(
                f"SELECT * FROM call_aggregates WHERE caller IN ({','.join('?' * len(part))}) AND hour >= ? "
                "ORDER BY caller, hour, channel, source",
                (*part, _hour_us(since)),
            )
            for r in rows:
                out.setdefault(r["caller"], []).append(_aggregate(r))
        return out

    def contacted(self, caller: str, claims: Sequence[tuple[str, datetime, datetime]]) -> set[int]:
        return self.contacted_many({caller: claims}).get(caller, set())

    def contacted_many(self, claims: Mapping[str, Sequence[tuple[str, datetime, datetime]]]) -> dict[str, set[int]]:
        conn = self._conn()
        out: dict[str, set[int]] = {}
        for caller, cs in claims.items():
            spans: dict[str, list[tuple[int, int]]] = {}
            for part in _chunks(sorted({c[0] for c in cs})):
                for r in conn.execute(
                    f"SELECT callee_hash, first_at, last_at FROM contacts WHERE caller = ? AND "
                    f"callee_hash IN ({','.join('?' * len(part))})",
                    (caller, *part),
                ):
                    spans.setdefault(r[0], []).append((r[1], r[2]))
            if cs:
                out[caller] = {
                    i
                    for i, (callee, start, end) in enumerate(cs)
                    if any(
                        first <= (to_micros(end) or 0) and last >= (to_micros(start) or 0)
                        for first, last in spans.get(callee, ())
                    )
                }
        return out

    def contacts(
        self,
        caller: str,
        since: datetime,
        operator: str | None = None,
        after: tuple[str, str] | None = None,
        limit: int = 1000,
    ) -> list[Contact]:
        sql = "SELECT callee_hash, operator, first_at, last_at FROM contacts WHERE caller = ? AND last_at >= ?"
        args: list[object] = [caller, to_micros(since)]
        if operator is not None:
            sql += " AND operator = ?"
            args.append(operator)
        if after is not None:
            sql += " AND (callee_hash, operator) > (?, ?)"
            args.extend(after)
        rows = self._conn().execute(sql + " ORDER BY callee_hash, operator LIMIT ?", (*args, limit))
        return [Contact(r[0], r[1], _dt(r[2]), _dt(r[3])) for r in rows]

    def callbacks(self, subjects: Mapping[str, str], since: datetime, limit: int) -> dict[str, tuple[int, int]]:
        conn = self._conn()
        out: dict[str, tuple[int, int]] = {}
        for subject, own in subjects.items():
            reached: dict[str, int] = {}
            for callee, first in conn.execute(
                "SELECT callee_hash, first_at FROM contacts WHERE caller = ? AND last_at >= ? LIMIT ?",
                (subject, to_micros(since), limit),
            ):
                reached[callee] = min(reached.get(callee, first), first)
            if not reached:
                continue
            back = {
                r[0]
                for r in conn.execute(
                    "SELECT caller_hash, MAX(last_at) FROM contacts WHERE callee_hash = ? AND last_at >= ? "
                    "GROUP BY caller_hash LIMIT ?",
                    (own, to_micros(since), limit),
                )
                if r[0] in reached and r[1] > reached[r[0]]
            }
            out[subject] = (len(reached), len(back))
        return out

    # ---- reporter trust -------------------------------------------------
    def complaints_for_subject(
        self, subject: str, since: datetime, limit: int, until: datetime | None = None
    ) -> tuple[list[Complaint], int]:
        conn = self._conn()
        bounds = (subject, to_micros(since), to_micros(until) if until is not None else MAX_MICROS)
        rows = conn.execute(
            "SELECT * FROM (SELECT report_id, reporter_hash, channel, category, occurred_at, reporter_number_hash, "
            "attested_by, ROW_NUMBER() OVER (PARTITION BY reporter_hash, channel ORDER BY occurred_at DESC, "
            "report_id DESC) AS rn FROM reports WHERE subject = ? AND occurred_at BETWEEN ? AND ?) WHERE rn = 1 "
            "ORDER BY occurred_at DESC, report_id DESC",
            bounds,
        )
        complaints: list[Complaint] = []
        kept: set[str] = set()
        for r in rows:  # newest first; stop once `limit` reporters are in (memory stays bounded)
            if r["reporter_hash"] not in kept:
                if len(kept) >= limit:
                    break
                kept.add(r["reporter_hash"])
            complaints.append(
                Complaint(
                    r["report_id"],
                    r["reporter_hash"],
                    Channel(r["channel"]),
                    Category(r["category"]),
                    _dt(r["occurred_at"]),
                    r["reporter_number_hash"],
                    r["attested_by"],
                )
            )
        total = conn.execute(
            "SELECT COUNT(DISTINCT reporter_hash) FROM reports WHERE subject = ? AND occurred_at BETWEEN ? AND ?",
            bounds,
        ).fetchone()[0]
        return complaints, max(int(total) - len(kept), 0)

    def reporter_stats(self, moments: Mapping[str, datetime]) -> dict[str, ReporterStats]:
        """Three grouped queries per 500 reporters (and per distinct moment), not three per reporter."""
        conn = self._conn()
        out: dict[str, ReporterStats] = {}
        by_moment: dict[datetime, list[str]] = {}
        for reporter, at in moments.items():
            by_moment.setdefault(at, []).append(reporter)
        for at, reporters in by_moment.items():
            for part in _chunks(sorted(reporters)):
                marks = ",".join("?" * len(part))
                # first seen: the server's receipt time, never a time the client claims (occurred_at may be backdated)
                first = dict(
                    conn.execute(
                        f"SELECT reporter_hash, MIN(received_at) FROM reports WHERE reporter_hash IN "
                        f"({marks}) GROUP BY reporter_hash",
                        part,
                    ).fetchall()
                )
                subjects = dict(
                    conn.execute(
                        f"SELECT reporter_hash, COUNT(DISTINCT subject) FROM reports WHERE reporter_hash IN ({marks}) "
                        "AND occurred_at BETWEEN ? AND ? GROUP BY reporter_hash",
                        (*part, to_micros(at - timedelta(hours=24)), to_micros(at)),
                    ).fetchall()
                )
                outcomes: dict[tuple[str, str], int] = {}
                for r, outcome, n in conn.execute(
                    f"SELECT reporter_hash, outcome, COUNT(*) FROM reporter_outcomes "
                    f"WHERE reporter_hash IN ({marks}) GROUP BY reporter_hash, outcome",
                    part,
                ):
                    outcomes[(r, outcome)] = int(n)
                for reporter in part:
                    if first.get(reporter) is None:
                        continue
                    out[reporter] = ReporterStats(
                        reporter,
                        _dt(first[reporter]),
                        max(int(subjects.get(reporter, 0)), 1),
                        outcomes.get((reporter, "confirmed"), 0),
                        outcomes.get((reporter, "cleared"), 0),
                    )
        return out

    def record_outcome(self, subject: str, outcome: Outcome, reporters: Sequence[str], at: datetime) -> None:
        with self._write() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO reporter_outcomes VALUES (?, ?, ?, ?)",
                [(r, subject, outcome.value, to_micros(at)) for r in reporters],
            )

    def subjects_reported_by(self, reporters: Iterable[str], since: datetime, limit: int) -> list[str]:
        out: list[str] = []
        conn = self._conn()
        for part in _chunks(sorted(set(reporters))):
            rows = conn.execute(
                f"SELECT DISTINCT subject FROM reports WHERE reporter_hash IN ({','.join('?' * len(part))}) "
                "AND occurred_at >= ? ORDER BY subject LIMIT ?",
                (*part, to_micros(since), limit - len(out)),
            )
            out.extend(r[0] for r in rows)
            if len(out) >= limit:
                break
        return sorted(set(out))[:limit]

    # ---- honeypots ------------------------------------------------------
    def add_honeypot(self, honeypot: Honeypot) -> Honeypot:
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO honeypots VALUES (?, ?, ?, ?, ?)",
                (honeypot.number, honeypot.number_hash, honeypot.operator, honeypot.note, to_micros(honeypot.added_at)),
            )
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
            conn.execute(
                "INSERT OR REPLACE INTO confirmed_fraud VALUES (?, ?, ?, ?, ?, ?)",
                (
                    entry.subject,
                    entry.case_id,
                    to_micros(entry.expires_at),
                    entry.actor,
                    entry.reason,
                    to_micros(entry.confirmed_at),
                ),
            )
            self._mark(conn, [entry.subject])

    def confirmed_fraud(self, subjects: Iterable[str]) -> dict[str, ConfirmedFraud]:
        out: dict[str, ConfirmedFraud] = {}
        conn = self._conn()
        for part in _chunks(sorted(set(subjects))):
            for r in conn.execute(
                f"SELECT * FROM confirmed_fraud WHERE subject IN ({','.join('?' * len(part))})", part
            ):
                out[r["subject"]] = ConfirmedFraud(
                    r["subject"], r["case_id"], _dt(r["expires_at"]), r["actor"], r["reason"], _dt(r["confirmed_at"])
                )
        return out

    def open_case(self, case: ReviewCase) -> bool:
        with self._write() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO review_cases(case_id, subject, kind, summary, opened_at) VALUES (?, ?, ?, ?, ?)",
                (case.case_id, case.subject, case.kind.value, case.summary, to_micros(case.opened_at)),
            )
            return cur.rowcount == 1

    def decide_case(
        self, case_id: str, decision: Decision, actor: str, reason: str, at: datetime, expires_at: datetime | None
    ) -> ReviewCase:
        with self._write() as conn:
            row = conn.execute("SELECT * FROM review_cases WHERE case_id = ?", (case_id,)).fetchone()
            if row is None:
                raise NotFound(f"review case {case_id!r}: no such case")
            if row["decision"]:
                raise Conflict(f"review case {case_id!r}: decided already ({row['decision']})")
            kept = f"{case_id}@{to_micros(at)}"
            conn.execute(
                "UPDATE review_cases SET case_id = ?, decision = ?, actor = ?, reason = ?, decided_at = ?, "
                "expires_at = ? WHERE case_id = ?",
                (kept, decision.value, actor, reason, to_micros(at), to_micros(expires_at), case_id),
            )
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
            rows = conn.execute(
                f"SELECT * FROM review_cases WHERE subject IN ({','.join('?' * len(part))}) "
                "AND decision IS NOT NULL ORDER BY decided_at, case_id",
                part,
            )
            for r in rows:
                out.setdefault(r["subject"], []).append(_case(r))
        return out

    def put_shadow_diffs(self, diffs: Sequence[ShadowDiff], agreeing: Iterable[str]) -> None:
        with self._write() as conn:
            conn.executemany("DELETE FROM shadow_diffs WHERE subject = ?", [(s,) for s in agreeing])
            conn.executemany(
                "INSERT OR REPLACE INTO shadow_diffs VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        d.subject,
                        d.v1.value,
                        d.v2.value,
                        d.v2_score,
                        json.dumps(list(d.v2_reasons), ensure_ascii=False),
                        to_micros(d.at),
                    )
                    for d in diffs
                ],
            )

    def shadow_diffs(self, limit: int) -> list[ShadowDiff]:
        rows = self._conn().execute("SELECT * FROM shadow_diffs ORDER BY subject LIMIT ?", (limit,))
        return [
            ShadowDiff(
                r["subject"],
                Action(r["v1"]),
                Action(r["v2"]),
                r["v2_score"],
                tuple(json.loads(r["v2_reasons"])),
                _dt(r["at"]),
            )
            for r in rows
        ]

    def get_block_switch(self) -> BlockSwitch:
        row = self._conn().execute("SELECT value FROM meta WHERE key = 'block_switch'").fetchone()
        if row is None:
            return BlockSwitch(False)
        d = json.loads(row["value"])
        return BlockSwitch(d["on"], d["actor"], d["reason"], from_micros(d["at"]))

    def set_block_switch(self, switch: BlockSwitch) -> None:
        value = json.dumps(
            {
                "on": switch.block_to_label,
                "actor": switch.actor,
                "reason": switch.reason,
                "at": to_micros(switch.set_at),
            }
        )
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('block_switch', ?)", (value,))
