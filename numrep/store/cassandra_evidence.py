"""The Cassandra store's evidence tables (see ``numrep.store.evidence``; schema in ``cql/0006_evidence.cql``,
``cql/0009_contacts.cql``).

Mixed into :class:`numrep.store.cassandra.CassandraStore`, whose session,
prepared-statement cache and error translation it uses. Like the core tables:
query-first, TTLs for retention (raw call records 35 days, aggregates and
reports 400 days), no counters, the configured consistency (``LOCAL_QUORUM``),
``execute_concurrent_with_args`` for bulk writes and multi-partition reads.
"""

from __future__ import annotations

import secrets
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cassandra.cluster import ResultSet
from cassandra.concurrent import execute_concurrent_with_args

from numrep.errors import Conflict, NotFound
from numrep.evidence.records import RecordRow, aggregate_rows, hour_of
from numrep.evidence.sketch import HyperLogLog
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
    HourMark,
    Outcome,
    Report,
    ReporterStats,
    ReviewCase,
    ShadowDiff,
)
from numrep.store.cassandra_privacy import ttl_seconds
from numrep.store.cassandra_session import CassandraSession
from numrep.store.codec import at_micros, from_micros, hour_micros, to_micros
from numrep.store.evidence import EvidenceStore

HOUR_SHARDS = 16
RETENTION_DAYS = 400  # reports and aggregates (default_time_to_live in the CQL)
CONCURRENCY = 64
IN_CHUNK = 100  # record ids per `IN` of the read-before-write
DAYS_AHEAD = 7  # day partitions read concurrently by complaints_for_subject (first pages only)
SUBJECTS_AHEAD = 16  # subjects whose newest days complaints_for_subjects reads concurrently
PAGE_ROWS = 1000  # rows per page when a read streams
EXACT_REPORTERS = 50_000  # distinct reporters counted exactly before the HyperLogLog takes over

# ---- CQL, as named constants ----------------------------------------------
INSERT_REPORT_BY_REPORTER = (
    "INSERT INTO reports_by_reporter (reporter_hash, occurred_at, report_id, subject, received_at) VALUES (?, ?, ?, ?, ?) "
    "USING TTL ?"
)
# First seen is the server's receipt time, never a time the client claims (occurred_at may be backdated a year).
SELECT_FIRST_REPORT = "SELECT min(received_at) AS first FROM reports_by_reporter WHERE reporter_hash = ?"
VELOCITY_CAP = 1000  # distinct subjects in 24 h beyond which a reporter's weight is small anyway
SELECT_REPORTER_SUBJECTS = (
    "SELECT subject FROM reports_by_reporter WHERE reporter_hash = ? AND occurred_at >= ? AND occurred_at <= ? "
    f"LIMIT {VELOCITY_CAP}"
)
INSERT_SHADOW = (
    "INSERT INTO shadow_diffs (bucket, subject, v1, v2, v2_score, v2_reasons, at) VALUES (0, ?, ?, ?, ?, ?, ?)"
)
DELETE_SHADOW = "DELETE FROM shadow_diffs WHERE bucket = 0 AND subject = ?"
SELECT_SHADOW = "SELECT * FROM shadow_diffs WHERE bucket = 0 LIMIT ?"
INSERT_OUTCOME = "INSERT INTO reporter_outcomes (reporter_hash, outcome, subject, at) VALUES (?, ?, ?, ?)"
SELECT_OUTCOMES = "SELECT outcome FROM reporter_outcomes WHERE reporter_hash = ?"
SELECT_SUBJECTS_SINCE = "SELECT subject FROM reports_by_reporter WHERE reporter_hash = ? AND occurred_at >= ? LIMIT ?"
SELECT_COMPLAINTS = (
    "SELECT report_id, reporter_hash, channel, category, occurred_at, reporter_number_hash, attested_by "
    "FROM reports_by_subject WHERE subject = ? AND day = ? AND occurred_at >= ? AND occurred_at <= ? "
    "ORDER BY occurred_at DESC, report_id DESC"
)
SELECT_COMPLAINT_REPORTERS = "SELECT reporter_hash FROM reports_by_subject WHERE subject = ? AND day = ? AND occurred_at >= ? AND occurred_at <= ?"
RECORD_COLUMNS = (
    "caller",
    "hour",
    "record_id",
    "callee_hash",
    "channel",
    "start",
    "ring_ms",
    "talk_seconds",
    "international",
    "operator",
    "callee_reg",
    "prefix_reg",
    "received_at",
)
INSERT_RECORD = f"INSERT INTO call_records ({', '.join(RECORD_COLUMNS)}) VALUES ({', '.join('?' * len(RECORD_COLUMNS))}) USING TTL ?"
SELECT_RECORD_IDS = "SELECT record_id FROM call_records WHERE caller = ? AND hour = ? AND record_id IN ?"
SELECT_RECORDS = "SELECT * FROM call_records WHERE caller = ? AND hour = ?"
INSERT_CONTACT = (
    "INSERT INTO contacts (caller, callee_hash, operator, caller_hash, first_at, last_at) VALUES (?, ?, ?, ?, ?, ?)"
)
INSERT_INBOUND = (
    "INSERT INTO contacts_inbound (callee_hash, caller_hash, operator, first_at, last_at) VALUES (?, ?, ?, ?, ?)"
)
SELECT_CONTACTS = "SELECT callee_hash, operator, first_at, last_at FROM contacts WHERE caller = ?"
SELECT_CONTACTS_AFTER = "SELECT callee_hash, operator, first_at, last_at FROM contacts WHERE caller = ? AND (callee_hash, operator) > (?, ?)"
SELECT_CONTACT = "SELECT first_at, last_at FROM contacts WHERE caller = ? AND callee_hash = ?"
SELECT_INBOUND = "SELECT caller_hash, last_at FROM contacts_inbound WHERE callee_hash = ?"
MARK_HOUR = "UPDATE dirty_hours SET mark = ?, marked_at = ? WHERE shard = ? AND caller = ? AND hour = ?"
SELECT_HOURS = "SELECT caller, hour, mark, marked_at FROM dirty_hours WHERE shard = ?"
CLEAR_HOUR = "DELETE FROM dirty_hours WHERE shard = ? AND caller = ? AND hour = ? IF mark = ?"
AGGREGATE_COLUMNS = (
    "caller",
    "day",
    "hour",
    "channel",
    "source",
    "calls",
    "answered",
    "short_calls",
    "ring_once_calls",
    "international_calls",
    "callees",
    "prefixes",
    "honeypots",
)
INSERT_AGGREGATE = (
    f"INSERT INTO call_aggregates ({', '.join(AGGREGATE_COLUMNS)}) VALUES ({', '.join('?' * len(AGGREGATE_COLUMNS))})"
)
SELECT_AGGREGATES = "SELECT * FROM call_aggregates WHERE caller = ? AND day = ? AND hour >= ?"
INSERT_HONEYPOT = "INSERT INTO honeypots (bucket, number, number_hash, operator, note, added_at) VALUES (0, ?, ?, ?, ?, ?) IF NOT EXISTS"
SELECT_HONEYPOT = "SELECT * FROM honeypots WHERE bucket = 0 AND number = ?"
DELETE_HONEYPOT = "DELETE FROM honeypots WHERE bucket = 0 AND number = ? IF EXISTS"
SELECT_HONEYPOTS = "SELECT * FROM honeypots WHERE bucket = 0"
INSERT_FRAUD = (
    "INSERT INTO confirmed_fraud (subject, case_id, expires_at, actor, reason, confirmed_at) VALUES (?, ?, ?, ?, ?, ?)"
)
SELECT_FRAUD = "SELECT * FROM confirmed_fraud WHERE subject = ?"
OPEN_CASE = "INSERT INTO open_cases (bucket, case_id, subject, kind, summary, opened_at) VALUES (0, ?, ?, ?, ?, ?) IF NOT EXISTS"
SELECT_OPEN_CASE = "SELECT * FROM open_cases WHERE bucket = 0 AND case_id = ?"
SELECT_OPEN_CASES = "SELECT * FROM open_cases WHERE bucket = 0"
# `opened_at = ?` makes the update fail on a row that is gone (a condition on a missing row's
# columns sees nulls), so a decision never resurrects a moved case.
DECIDE_CASE = (
    "UPDATE open_cases SET decision = ?, actor = ?, reason = ?, decided_at = ?, expires_at = ? "
    "WHERE bucket = 0 AND case_id = ? IF decision = null AND opened_at = ?"
)
DELETE_DECIDED_CASE = "DELETE FROM open_cases WHERE bucket = 0 AND case_id = ? IF decided_at = ?"
CASE_COLUMNS = (
    "case_id",
    "subject",
    "kind",
    "summary",
    "opened_at",
    "decision",
    "actor",
    "reason",
    "decided_at",
    "expires_at",
)
INSERT_DECIDED = (
    f"INSERT INTO decided_cases (bucket, {', '.join(CASE_COLUMNS)}) VALUES (0, {', '.join('?' * len(CASE_COLUMNS))})"
)
INSERT_DECISION = (
    f"INSERT INTO case_decisions ({', '.join(CASE_COLUMNS)}) VALUES ({', '.join('?' * len(CASE_COLUMNS))})"
)
SELECT_DECIDED = "SELECT * FROM decided_cases WHERE bucket = 0 LIMIT ?"
SELECT_DECISIONS = "SELECT * FROM case_decisions WHERE subject = ?"
INSERT_SWITCH = "INSERT INTO block_switch (name, block_to_label, actor, reason, set_at) VALUES ('block', ?, ?, ?, ?)"
SELECT_SWITCH = "SELECT * FROM block_switch WHERE name = 'block'"


_hour_us, _dt = hour_micros, at_micros


def _day(t: datetime) -> date:
    return t.astimezone(UTC).date()


def _hour_shard(caller: str, hour: int) -> int:
    return zlib.crc32(f"{caller}@{hour}".encode()) % HOUR_SHARDS


def _days(since: datetime) -> list[date]:
    """UTC days from ``since`` (at most the retention back) to tomorrow (clock skew), oldest first."""
    today = datetime.now(UTC).date()
    first = max(_day(since), today - timedelta(days=RETENTION_DAYS + 1))
    last = max(today, first) + timedelta(days=1)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _record(r: dict[str, Any]) -> CallRecord:
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


def _aggregate(r: dict[str, Any]) -> CallAggregate:
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
        bytes(r["callees"] or b""),
        bytes(r["prefixes"] or b""),
        tuple(r["honeypots"] or ()),
    )


def _honeypot(r: dict[str, Any]) -> Honeypot:
    return Honeypot(r["number"], r["number_hash"], r["operator"], r["note"], _dt(r["added_at"]))


def _case(r: dict[str, Any]) -> ReviewCase:
    return ReviewCase(
        r["case_id"],
        r["subject"],
        CaseKind(r["kind"]),
        r["summary"],
        _dt(r["opened_at"]),
        Decision(r["decision"]) if r["decision"] else None,
        r["actor"] or "",
        r["reason"] or "",
        from_micros(r["decided_at"]),
        from_micros(r["expires_at"]),
    )


def _case_values(c: ReviewCase) -> tuple[Any, ...]:
    return (
        c.case_id,
        c.subject,
        c.kind.value,
        c.summary,
        to_micros(c.opened_at),
        c.decision.value if c.decision else None,
        c.actor,
        c.reason,
        to_micros(c.decided_at),
        to_micros(c.expires_at),
    )


class _Distinct:
    """Distinct reporter hashes: exact up to ``EXACT_REPORTERS``, then a HyperLogLog (±1.6 %) in fixed memory."""

    def __init__(self) -> None:
        self.exact: set[str] | None = set()
        self.sketch: HyperLogLog | None = None

    def add(self, item: str) -> None:
        if self.exact is not None:
            self.exact.add(item)
            if len(self.exact) <= EXACT_REPORTERS:
                return
            self.sketch = HyperLogLog.of(self.exact)
            self.exact = None
        else:
            assert self.sketch is not None
            self.sketch.add(item)

    def __len__(self) -> int:
        if self.exact is not None:
            return len(self.exact)
        assert self.sketch is not None
        return len(self.sketch)


class _Complaints:
    """The latest complaint per reporter and channel for at most ``limit`` reporters, the rest counted."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.complaints: list[Complaint] = []
        self.kept: set[str] = set()
        self.seen: set[tuple[str, str]] = set()
        self.rest = _Distinct()
        self.collecting = True

    def feed(self, streams: Iterable[Iterable[dict[str, Any]]]) -> None:
        """Rows of day partitions, newest day first, each newest row first."""
        for stream in streams:
            for r in stream:
                reporter = r["reporter_hash"]
                if reporter in self.kept:
                    if self.collecting and (reporter, r["channel"]) not in self.seen:
                        self.seen.add((reporter, r["channel"]))
                        self.complaints.append(CassandraEvidence._complaint(r))
                    continue
                if self.collecting and len(self.kept) < self.limit:
                    self.kept.add(reporter)
                    self.seen.add((reporter, r["channel"]))
                    self.complaints.append(CassandraEvidence._complaint(r))
                else:
                    self.collecting = False
                    self.rest.add(reporter)


class CassandraEvidence(CassandraSession, EvidenceStore):
    """Evidence tables; the session helpers (CassandraSession) are CassandraStore's."""

    def report_ttl(self, received_at: datetime, now: datetime | None = None) -> int:
        raise NotImplementedError  # CassandraPrivacy's: the retention left to a report

    def _streams(self, cql: str, args: Sequence[Sequence[Any]]) -> list[ResultSet]:
        """Concurrent reads whose results stay paged: each holds one page until iterated (inside ``_errors``)."""
        if not args:
            return []
        stmt = self._stmt(cql)
        stmt.fetch_size = PAGE_ROWS
        with self._errors():
            results = execute_concurrent_with_args(
                self.session, stmt, args, concurrency=CONCURRENCY, raise_on_first_error=True
            )
        return [r.result_or_exc for r in results]

    # ---- reports: the derived table of reporter trust -------------------------
    def _write_reports_by_reporter(self, reports: Sequence[Report]) -> None:
        """Called by ``add_reports`` with the stored reports, new or not (a retry repairs a crash)."""
        self._many(
            INSERT_REPORT_BY_REPORTER,
            [
                (
                    r.reporter_hash,
                    to_micros(r.occurred_at),
                    r.report_id,
                    r.subject,
                    to_micros(r.received_at),
                    self.report_ttl(r.received_at),
                )
                for r in reports
            ],
        )

    # ---- call records --------------------------------------------------
    def add_call_records(self, records: Sequence[CallRecord]) -> list[bool]:
        """Store records (first one wins per ``record_id``) and mark their caller-hours.

        Idempotency without LWT: records are keyed ``((caller, hour), record_id)``,
        so a resend (same caller and start, as a record's id names one call)
        lands on its own row and an hour's aggregate, derived from the rows,
        counts it once whatever happens. "New or not" comes from a batched
        read-before-write (the ids of each caller-hour of the batch, read with
        one ``IN`` query per partition); only new records are written, so the
        first version stays. Two concurrent sends of one id may both read
        "absent", both report new and the later write wins the row: the
        aggregate still counts one record. Order makes a retry repair a crash:
        records, then the hour marks — which are set for duplicates too
        (cheap, and a fold run twice writes the same rows), since the crash
        may have hit between a record and its mark. Contacts are the fold's.
        """
        first: dict[str, int] = {}
        for i, r in enumerate(records):
            first.setdefault(r.record_id, i)
        groups: dict[tuple[str, int], list[str]] = {}
        for rid, i in first.items():
            groups.setdefault((records[i].caller, _hour_us(records[i].start)), []).append(rid)
        queries = [
            (caller, hour, ids[n : n + IN_CHUNK])
            for (caller, hour), ids in groups.items()
            for n in range(0, len(ids), IN_CHUNK)
        ]
        existing = {row["record_id"] for part in self._many(SELECT_RECORD_IDS, queries) for row in part}
        out = [first[r.record_id] == i and r.record_id not in existing for i, r in enumerate(records)]
        new = [r for r, is_new in zip(records, out) if is_new]
        at = datetime.now(UTC)
        self._many(
            INSERT_RECORD,
            [
                (
                    r.caller,
                    _hour_us(r.start),
                    r.record_id,
                    r.callee_hash,
                    r.channel.value,
                    to_micros(r.start),
                    r.ring_ms,
                    r.talk_seconds,
                    r.international,
                    r.operator,
                    r.callee_reg,
                    r.prefix_reg,
                    to_micros(r.received_at),
                    self._record_ttl(r, at),
                )
                for r in new
            ],
        )
        now = to_micros(datetime.now(UTC))
        self._many(MARK_HOUR, [(secrets.token_hex(8), now, _hour_shard(c, h), c, h) for c, h in sorted(groups)])
        return out

    def fold_call_records(
        self, limit: int, honeypots: frozenset[str], caller_hash: Callable[[str], str], contacts_cap: int
    ) -> int:
        """Re-derive marked caller-hours whole from their rows (about ``limit`` records' worth of hours).

        Each step writes what is a pure function of the hours' rows (aggregates
        replaced by key; contacts' first and last calls merged by min and max),
        and a mark is cleared only if no record re-marked its hour meanwhile:
        a crash or a second run leaves the same state.
        """
        marks = self.dirty_hours(max(limit // 10, 1))
        if not marks:
            return 0
        rows = [
            _record(r)
            for part in self._many(SELECT_RECORDS, [(m.caller, _hour_us(m.hour)) for m in marks])
            for r in part
        ]
        aggregates = aggregate_rows(
            (
                RecordRow(
                    r.caller,
                    hour_of(r.start),
                    r.channel,
                    r.talk_seconds,
                    r.ring_ms,
                    r.international,
                    r.callee_reg,
                    r.prefix_reg,
                    r.callee_hash,
                )
                for r in rows
            ),
            honeypots,
        )
        if aggregates:
            self.put_call_aggregates(aggregates)
        self._fold_contacts(rows, caller_hash, contacts_cap)
        self.clear_dirty_hours(marks)
        return len(rows)

    def _fold_contacts(self, rows: Sequence[CallRecord], caller_hash: Callable[[str], str], cap: int) -> None:
        seen: dict[str, dict[tuple[str, str], list[int]]] = {}
        for r in rows:
            t = to_micros(r.start) or 0
            span = seen.setdefault(r.caller, {}).setdefault((r.callee_hash, r.operator), [t, t])
            span[0], span[1] = min(span[0], t), max(span[1], t)
        callers = sorted(seen)
        held = dict(zip(callers, self._many(SELECT_CONTACTS, [(c,) for c in callers])))
        contacts, inbound = [], []
        for caller in callers:
            spans = seen[caller]
            old = {(r["callee_hash"], r["operator"]): (r["first_at"], r["last_at"]) for r in held[caller]}
            have = {callee for callee, _op in old}
            firsts: dict[str, int] = {}
            for (callee, _op), (first, _last) in spans.items():
                firsts[callee] = min(firsts.get(callee, first), first)
            room = max(cap - len(have), 0)
            keep = have | set(sorted(set(firsts) - have, key=lambda c: (firsts[c], c))[:room])
            h = caller_hash(caller)
            for (callee, op), (first, last) in spans.items():
                if callee not in keep:
                    continue
                was = old.get((callee, op))
                if was is not None:
                    first, last = min(first, was[0]), max(last, was[1])
                contacts.append((caller, callee, op, h, first, last))
                inbound.append((callee, h, op, first, last))
        self._many(INSERT_CONTACT, contacts)
        self._many(INSERT_INBOUND, inbound)

    def _record_ttl(self, record: CallRecord, now: datetime) -> int:
        """Raw records live ``record_retention_days`` from the call's start (the setting, not the table's default)."""
        return ttl_seconds(self.settings.record_retention_days, record.start, now)

    def call_records_in_hour(self, caller: str, hour: datetime) -> list[CallRecord]:
        return [_record(r) for r in self._exec(SELECT_RECORDS, (caller, _hour_us(hour)))]

    def dirty_hours(self, limit: int) -> list[HourMark]:
        """Up to ``limit`` caller-hours whose records changed, oldest mark first."""
        rows = [row for part in self._many(SELECT_HOURS, [(i,) for i in range(HOUR_SHARDS)]) for row in part]
        rows.sort(key=lambda r: (r["marked_at"] or 0, r["caller"], r["hour"]))
        return [HourMark(r["caller"], _dt(r["hour"]), r["mark"]) for r in rows[:limit]]

    def clear_dirty_hours(self, marks: Iterable[HourMark]) -> None:
        """Clear marks whose token is unchanged."""
        args = []
        for m in marks:
            hour = _hour_us(m.hour)
            args.append((_hour_shard(m.caller, hour), m.caller, hour, m.token))
        self._many(CLEAR_HOUR, args)

    def put_call_aggregates(self, aggregates: Sequence[CallAggregate]) -> None:
        self._many(
            INSERT_AGGREGATE,
            [
                (
                    a.caller,
                    _day(a.hour),
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
                    list(a.honeypots),
                )
                for a in aggregates
            ],
        )
        self.mark_dirty(sorted({a.caller for a in aggregates}))

    def call_aggregates(self, callers: Iterable[str], since: datetime) -> dict[str, list[CallAggregate]]:
        days = _days(since)
        start = _hour_us(since)
        out: dict[str, list[CallAggregate]] = {}
        # One query per (caller, day) partition; results come back in argument order, so
        # each caller's aggregates are in (hour, channel, source) order.
        for part in self._many(SELECT_AGGREGATES, [(c, d, start) for c in sorted(set(callers)) for d in days]):
            for row in part:
                out.setdefault(row["caller"], []).append(_aggregate(row))
        return out

    def contacted(self, caller: str, claims: Sequence[tuple[str, datetime, datetime]]) -> set[int]:
        parts = self._many(SELECT_CONTACT, [(caller, callee) for callee, _start, _end in claims])
        return {
            i
            for i, (rows, (_c, start, end)) in enumerate(zip(parts, claims))
            if any(r["first_at"] <= (to_micros(end) or 0) and r["last_at"] >= (to_micros(start) or 0) for r in rows)
        }

    def contacts(
        self,
        caller: str,
        since: datetime,
        operator: str | None = None,
        after: tuple[str, str] | None = None,
        limit: int = 1000,
    ) -> list[Contact]:
        if limit <= 0:
            return []
        since_us = to_micros(since) or 0
        stream = (
            self._streams(SELECT_CONTACTS_AFTER, [(caller, *after)])
            if after is not None
            else self._streams(SELECT_CONTACTS, [(caller,)])
        )
        out: list[Contact] = []
        with self._errors():
            for r in stream[0]:  # pages on; rows out of the window or of other operators are skipped
                if r["last_at"] >= since_us and (operator is None or r["operator"] == operator):
                    out.append(Contact(r["callee_hash"], r["operator"], _dt(r["first_at"]), _dt(r["last_at"])))
                    if len(out) >= limit:
                        break
        return out

    def callbacks(self, subjects: Mapping[str, str], since: datetime, limit: int) -> dict[str, tuple[int, int]]:
        names = sorted(subjects)
        since_us = to_micros(since) or 0
        outbound = self._many(SELECT_CONTACTS + " LIMIT ?", [(s, limit) for s in names])
        inbound = self._many(SELECT_INBOUND + " LIMIT ?", [(subjects[s], limit) for s in names])
        out: dict[str, tuple[int, int]] = {}
        for s, sent, got in zip(names, outbound, inbound):
            reached: dict[str, int] = {}
            for r in sent:
                if r["last_at"] >= since_us:
                    reached[r["callee_hash"]] = min(reached.get(r["callee_hash"], r["first_at"]), r["first_at"])
            if reached:
                back = {
                    r["caller_hash"]
                    for r in got
                    if r["last_at"] >= since_us
                    and r["caller_hash"] in reached
                    and r["last_at"] > reached[r["caller_hash"]]
                }
                out[s] = (len(reached), len(back))
        return out

    # ---- reporter trust -------------------------------------------------
    def complaints_for_subject(
        self, subject: str, since: datetime, limit: int, until: datetime | None = None
    ) -> tuple[list[Complaint], int]:
        """Newest day partition first, a few days read concurrently (first pages only), rows streamed.

        Memory stays bounded: complaints are kept for at most ``limit``
        reporters (one per reporter and channel), and once a reporter beyond
        ``limit`` turns up the remaining days are read for ``reporter_hash``
        alone. The reporters left over are counted exactly up to
        ``EXACT_REPORTERS``, beyond that with a HyperLogLog of their hashes
        (~1.6 % standard error, 4 KiB): a report-bombed subject may have
        millions of reporters.
        """
        return self.complaints_for_subjects([subject], since, limit, until)[subject]

    def complaints_for_subjects(
        self, subjects: Sequence[str], since: datetime, limit: int, until: datetime | None = None
    ) -> dict[str, tuple[list[Complaint], int]]:
        """As ``complaints_for_subject``; the newest days of ``SUBJECTS_AHEAD`` subjects are read concurrently
        (most subjects have all their complaints there), older days subject by subject."""
        start = to_micros(since)
        end = to_micros(until) if until is not None else 2**62
        days = [d for d in _days(since) if until is None or d <= _day(until)][::-1]
        first = days[:DAYS_AHEAD]
        out: dict[str, tuple[list[Complaint], int]] = {}
        for n in range(0, len(subjects), SUBJECTS_AHEAD):
            group = subjects[n : n + SUBJECTS_AHEAD]
            streams = self._streams(SELECT_COMPLAINTS, [(s, d, start, end) for s in group for d in first])
            for i, subject in enumerate(group):
                found = _Complaints(limit)
                with self._errors():  # iterating fetches further pages
                    found.feed(streams[i * len(first) : (i + 1) * len(first)])
                for k in range(DAYS_AHEAD, len(days), DAYS_AHEAD):
                    window = days[k : k + DAYS_AHEAD]
                    cql = SELECT_COMPLAINTS if found.collecting else SELECT_COMPLAINT_REPORTERS
                    more = self._streams(cql, [(subject, d, start, end) for d in window])
                    with self._errors():
                        found.feed(more)
                out[subject] = found.complaints, len(found.rest)
        return out

    @staticmethod
    def _complaint(r: dict[str, Any]) -> Complaint:
        return Complaint(
            r["report_id"],
            r["reporter_hash"],
            Channel(r["channel"]),
            Category(r["category"]),
            _dt(r["occurred_at"]),
            r["reporter_number_hash"] or "",
            r["attested_by"] or "",
        )

    def reporter_stats(self, moments: Mapping[str, datetime]) -> dict[str, ReporterStats]:
        reporters = list(moments)
        firsts = self._many(SELECT_FIRST_REPORT, [(r,) for r in reporters])
        known = [(r, rows[0]["first"]) for r, rows in zip(reporters, firsts) if rows and rows[0]["first"] is not None]
        windows = self._many(
            SELECT_REPORTER_SUBJECTS,
            [(r, to_micros(moments[r] - timedelta(hours=24)), to_micros(moments[r])) for r, _ in known],
        )
        outcomes = self._many(SELECT_OUTCOMES, [(r,) for r, _ in known])
        return {
            r: ReporterStats(
                r,
                _dt(first),
                max(len({row["subject"] for row in rows}), 1),
                sum(1 for o in done if o["outcome"] == Outcome.CONFIRMED.value),
                sum(1 for o in done if o["outcome"] == Outcome.CLEARED.value),
            )
            for (r, first), rows, done in zip(known, windows, outcomes)
        }

    def record_outcome(self, subject: str, outcome: Outcome, reporters: Sequence[str], at: datetime) -> None:
        self._many(INSERT_OUTCOME, [(r, outcome.value, subject, to_micros(at)) for r in reporters])

    def subjects_reported_by(self, reporters: Iterable[str], since: datetime, limit: int) -> list[str]:
        found: set[str] = set()
        for rows in self._many(SELECT_SUBJECTS_SINCE, [(r, to_micros(since), limit) for r in sorted(set(reporters))]):
            found.update(row["subject"] for row in rows)
        return sorted(found)[:limit]

    def put_shadow_diffs(self, diffs: Sequence[ShadowDiff], agreeing: Iterable[str]) -> None:
        self._many(DELETE_SHADOW, [(s,) for s in agreeing])
        self._many(
            INSERT_SHADOW,
            [(d.subject, d.v1.value, d.v2.value, d.v2_score, list(d.v2_reasons), to_micros(d.at)) for d in diffs],
        )

    def shadow_diffs(self, limit: int) -> list[ShadowDiff]:
        if limit <= 0:  # CQL wants a positive LIMIT
            return []
        return [
            ShadowDiff(
                r["subject"],
                Action(r["v1"]),
                Action(r["v2"]),
                r["v2_score"],
                tuple(r["v2_reasons"] or ()),
                _dt(r["at"]),
            )
            for r in self._exec(SELECT_SHADOW, (limit,))
        ]

    def prune_call_records(self, before: datetime) -> int:
        """Raw records expire by their write TTL (``record_retention_days`` from the call's start): nothing to delete."""
        return 0

    # ---- honeypots ------------------------------------------------------
    def add_honeypot(self, honeypot: Honeypot) -> Honeypot:
        row = self._exec(
            INSERT_HONEYPOT,
            (honeypot.number, honeypot.number_hash, honeypot.operator, honeypot.note, to_micros(honeypot.added_at)),
        )[0]
        return honeypot if row["[applied]"] else _honeypot(row)  # not applied: the row holds the stored one

    def remove_honeypot(self, number: str) -> Honeypot | None:
        rows = self._exec(SELECT_HONEYPOT, (number,))
        if not rows or not self._exec(DELETE_HONEYPOT, (number,))[0]["[applied]"]:
            return None
        return _honeypot(rows[0])

    def honeypots(self) -> list[Honeypot]:
        return [_honeypot(r) for r in self._exec(SELECT_HONEYPOTS)]  # clustered by number

    # ---- authoritative evidence and review ----------------------------
    def confirm_fraud(self, entry: ConfirmedFraud) -> None:
        self._exec(
            INSERT_FRAUD,
            (
                entry.subject,
                entry.case_id,
                to_micros(entry.expires_at),
                entry.actor,
                entry.reason,
                to_micros(entry.confirmed_at),
            ),
        )
        self.mark_dirty([entry.subject])

    def confirmed_fraud(self, subjects: Iterable[str]) -> dict[str, ConfirmedFraud]:
        parts = self._many(SELECT_FRAUD, [(s,) for s in sorted(set(subjects))])
        return {
            r["subject"]: ConfirmedFraud(
                r["subject"], r["case_id"], _dt(r["expires_at"]), r["actor"], r["reason"], _dt(r["confirmed_at"])
            )
            for part in parts
            for r in part
        }

    def _move_decided(self, case: ReviewCase) -> ReviewCase:
        """Keep a decided case under ``<id>@<decided at>`` and free its id; idempotent, so it also
        finishes a move that a crash interrupted."""
        assert case.decided_at is not None
        kept = ReviewCase(
            f"{case.case_id}@{to_micros(case.decided_at)}",
            case.subject,
            case.kind,
            case.summary,
            case.opened_at,
            case.decision,
            case.actor,
            case.reason,
            case.decided_at,
            case.expires_at,
        )
        self._exec(INSERT_DECISION, _case_values(kept))
        self._exec(INSERT_DECIDED, _case_values(kept))
        self._exec(DELETE_DECIDED_CASE, (case.case_id, to_micros(case.decided_at)))
        self.mark_dirty([case.subject])
        return kept

    def open_case(self, case: ReviewCase) -> bool:
        args = (case.case_id, case.subject, case.kind.value, case.summary, to_micros(case.opened_at))
        row = self._exec(OPEN_CASE, args)[0]
        if row["[applied]"]:
            return True
        if row.get("decision"):  # decided, but a crash kept it from moving: finish, then open
            self._move_decided(_case(row))
            return bool(self._exec(OPEN_CASE, args)[0]["[applied]"])
        return False

    def decide_case(
        self, case_id: str, decision: Decision, actor: str, reason: str, at: datetime, expires_at: datetime | None
    ) -> ReviewCase:
        rows = self._exec(SELECT_OPEN_CASE, (case_id,))
        if rows and not rows[0]["decision"]:
            row = self._exec(
                DECIDE_CASE,
                (decision.value, actor, reason, to_micros(at), to_micros(expires_at), case_id, rows[0]["opened_at"]),
            )[0]
            if row["[applied]"]:
                case = _case(rows[0])
                return self._move_decided(
                    ReviewCase(
                        case.case_id,
                        case.subject,
                        case.kind,
                        case.summary,
                        case.opened_at,
                        decision,
                        actor,
                        reason,
                        at,
                        expires_at,
                    )
                )
            rows = self._exec(SELECT_OPEN_CASE, (case_id,))  # lost a race: see who won
        if not rows:
            raise NotFound(f"review case {case_id!r}: no such case")
        if rows[0]["decision"]:
            self._move_decided(_case(rows[0]))  # a crash interrupted its move: finish it
            raise Conflict(f"review case {case_id!r}: decided already ({rows[0]['decision']})")
        raise Conflict(f"review case {case_id!r}: changed while being decided; try again")

    def review_cases(self, state: str = "open", limit: int = 100) -> list[ReviewCase]:
        if state not in ("open", "decided", "all"):
            raise KeyError(state)
        cases: list[ReviewCase] = []
        if state in ("open", "all"):  # the open queue is one small partition
            cases += [_case(r) for r in self._exec(SELECT_OPEN_CASES) if not r["decision"]]
        if state in ("decided", "all"):  # clustered by opening time: the first `limit` suffice
            cases += [_case(r) for r in self._exec(SELECT_DECIDED, (limit,))]
        return sorted(cases, key=lambda c: (c.opened_at, c.case_id))[:limit]

    def case_decisions(self, subjects: Iterable[str]) -> dict[str, list[ReviewCase]]:
        out: dict[str, list[ReviewCase]] = {}
        for part in self._many(SELECT_DECISIONS, [(s,) for s in sorted(set(subjects))]):
            for r in part:  # clustered by (decided_at, case_id)
                out.setdefault(r["subject"], []).append(_case(r))
        return out

    def get_block_switch(self) -> BlockSwitch:
        rows = self._exec(SELECT_SWITCH)
        if not rows:
            return BlockSwitch(False)
        r = rows[0]
        return BlockSwitch(bool(r["block_to_label"]), r["actor"] or "", r["reason"] or "", from_micros(r["set_at"]))

    def set_block_switch(self, switch: BlockSwitch) -> None:
        self._exec(INSERT_SWITCH, (switch.block_to_label, switch.actor, switch.reason, to_micros(switch.set_at)))
