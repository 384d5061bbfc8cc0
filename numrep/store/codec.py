"""Row mappers shared by the backends: domain records to column values and back.

Every backend stores the same columns (times as microseconds since the epoch,
enums as their values); where a column's type differs between backends (the
scopes of an API key are a set in Cassandra and text in SQLite, a port's
listing day a ``date`` or ISO text) the reader accepts both and the writer
takes a flag. Rows are mapping-like (``sqlite3.Row`` or the driver's dicts).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from numrep.models import (
    Action,
    Allocation,
    AllowlistEntry,
    ApiKey,
    CaseEvent,
    CaseStep,
    Category,
    Channel,
    Dispute,
    DisputeState,
    FilterSnapshotMeta,
    HolderType,
    PortBlacklistEntry,
    Proof,
    ReasonCode,
    Report,
    ReportSummary,
    Reputation,
    Rule,
    RuleKind,
    Scope,
    Source,
    Transition,
)

UTC = UTC
EPOCH = datetime.fromtimestamp(0, UTC)


def to_micros(dt: datetime | None) -> int | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        raise ValueError("naive datetime; numrep stores UTC-aware datetimes only")
    return int(round(dt.timestamp() * 1_000_000))


def from_micros(us: int | None) -> datetime | None:
    if us is None:
        return None
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC)


def _at(us: int | None) -> datetime:
    """A required time column."""
    dt = from_micros(us)
    if dt is None:
        raise ValueError("a required time column is empty")
    return dt


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# ---- reports ------------------------------------------------------------------
REPORT_COLUMNS = (
    "report_id",
    "reporter_hash",
    "subject",
    "channel",
    "category",
    "occurred_at",
    "received_at",
    "source",
    "text",
    "reporter_number_hash",
    "attested_by",
)


def report_values(r: Report) -> tuple[Any, ...]:
    """Values in ``REPORT_COLUMNS`` order."""
    return (
        r.report_id,
        r.reporter_hash,
        r.subject,
        r.channel.value,
        r.category.value,
        to_micros(r.occurred_at),
        to_micros(r.received_at),
        r.source.value,
        r.text,
        r.reporter_number_hash,
        r.attested_by,
    )


def report_from(row: Any) -> Report:
    return Report(
        report_id=row["report_id"],
        reporter_hash=row["reporter_hash"],
        subject=row["subject"],
        channel=Channel(row["channel"]),
        category=Category(row["category"]),
        occurred_at=_at(row["occurred_at"]),
        received_at=_at(row["received_at"]),
        source=Source(row["source"]),
        text=row["text"] or "",
        reporter_number_hash=row["reporter_number_hash"] or "",
        attested_by=row["attested_by"] or "",
    )


def summary_from(row: Any, day: date | None = None) -> ReportSummary:
    """A report summary; ``day`` is the receipt day when the row's partition says it (rows may lack the time)."""
    at = from_micros(row["received_at"])
    if day is None:
        day = _at(row["received_at"]).date()
    return ReportSummary(
        row["report_id"], row["subject"], Category(row["category"]), Channel(row["channel"]), day, at or midnight(day)
    )


# ---- reputations -----------------------------------------------------------------
REPUTATION_COLUMNS = (
    "subject",
    "score",
    "actions",
    "categories",
    "reporters",
    "weighted",
    "first_seen",
    "last_seen",
    "reasons",
    "protected",
    "updated_at",
    "flagged",
    "codes",
    "case_id",
)


def reputation_fields(rep: Reputation) -> dict[str, Any]:
    return {
        "subject": rep.subject,
        "score": rep.score,
        "actions": json.dumps({c.value: a.value for c, a in sorted(rep.actions.items())}),
        "categories": json.dumps({c.value: n for c, n in sorted(rep.categories.items())}),
        "reporters": rep.reporters,
        "weighted": rep.weighted_reporters,
        "first_seen": to_micros(rep.first_seen),
        "last_seen": to_micros(rep.last_seen),
        "reasons": json.dumps(list(rep.reasons), ensure_ascii=False),
        "protected": bool(rep.protected),
        "updated_at": to_micros(rep.updated_at),
        "flagged": bool(rep.flagged),
        "codes": json.dumps({c.value: code.value for c, code in sorted(rep.codes.items())}),
        "case_id": rep.case_id,
    }


def reputation_values(rep: Reputation) -> tuple[Any, ...]:
    """Values in ``REPUTATION_COLUMNS`` order."""
    f = reputation_fields(rep)
    return tuple(f[c] for c in REPUTATION_COLUMNS)


def reputation_from(row: Any) -> Reputation:
    """Build a Reputation from a mapping-like row with the fields above."""
    return Reputation(
        subject=row["subject"],
        score=int(row["score"]),
        actions={Channel(c): Action(a) for c, a in json.loads(row["actions"]).items()},
        categories={Category(c): int(n) for c, n in json.loads(row["categories"]).items()},
        reporters=int(row["reporters"]),
        weighted_reporters=float(row["weighted"]),
        first_seen=from_micros(row["first_seen"]),
        last_seen=from_micros(row["last_seen"]),
        reasons=tuple(json.loads(row["reasons"])),
        protected=bool(row["protected"]),
        updated_at=from_micros(row["updated_at"]) or EPOCH,
        codes={Channel(c): ReasonCode(v) for c, v in json.loads(row["codes"] or "{}").items()},
        case_id=row["case_id"] or "",
    )


# ---- rules and the rule log ---------------------------------------------------------
RULE_COLUMNS = (
    "rule_id",
    "kind",
    "subject",
    "channel",
    "action",
    "category",
    "reason",
    "issued_at",
    "expires_at",
    "code",
)


def rule_values(r: Rule) -> tuple[Any, ...]:
    return (
        r.rule_id,
        r.kind.value,
        r.subject,
        r.channel.value,
        r.action.value,
        r.category.value,
        r.reason,
        to_micros(r.issued_at),
        to_micros(r.expires_at),
        r.code.value if r.code else "",
    )


def rule_from(row: Any) -> Rule:
    return Rule(
        rule_id=row["rule_id"],
        kind=RuleKind(row["kind"]),
        subject=row["subject"],
        channel=Channel(row["channel"]),
        action=Action(row["action"]),
        category=Category(row["category"]),
        reason=row["reason"],
        issued_at=from_micros(row["issued_at"]) or EPOCH,
        expires_at=from_micros(row["expires_at"]),
        code=ReasonCode(row["code"]) if row["code"] else None,
    )


#: Columns of a rule-log row: the version, the operation, then a rule's columns.
LOG_COLUMNS = ("version", "op", *RULE_COLUMNS)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One row of the rule log: ``rule`` is set for an ``add``, None for a ``remove``."""

    version: int
    rule_id: str
    rule: Rule | None


def log_values(version: int, upserts: Iterable[Rule], removed: Iterable[str]) -> list[tuple[Any, ...]]:
    """Rule-log rows (``LOG_COLUMNS`` order) for one version's changes."""
    return [(version, "add", *rule_values(r)) for r in upserts] + [
        (version, "remove", rid, *([None] * (len(RULE_COLUMNS) - 1))) for rid in removed
    ]


def log_entry_from(row: Any) -> LogEntry:
    return LogEntry(int(row["version"]), row["rule_id"], rule_from(row) if row["op"] == "add" else None)


# ---- SMS-port blacklist, registry ---------------------------------------------------------
def port_values(e: PortBlacklistEntry, iso_day: bool = False) -> tuple[Any, ...]:
    """(port, enterprise, reason, source, listed_on); ``iso_day`` stores the day as ISO text."""
    return (e.port, e.enterprise, e.reason, e.source, e.listed_on.isoformat() if iso_day else e.listed_on)


def port_from(row: Any) -> PortBlacklistEntry:
    listed = row["listed_on"]
    listed_on = listed.date() if hasattr(listed, "date") else date.fromisoformat(str(listed))
    return PortBlacklistEntry(row["port"], row["enterprise"], row["reason"], row["source"], listed_on)


def allocation_values(a: Allocation) -> tuple[Any, ...]:
    return (a.prefix, a.holder, a.holder_type.value, a.size)


def allocation_from(row: Any) -> Allocation:
    return Allocation(row["prefix"], row["holder"], HolderType(row["holder_type"]), int(row["size"]))


# ---- complaint handling, keys, allowlist, filter snapshots ------------------------------------
def case_event_values(e: CaseEvent) -> tuple[Any, ...]:
    return (e.report_id, e.step.value, e.holder, to_micros(e.at), e.note)


def case_event_from(row: Any) -> CaseEvent:
    return CaseEvent(row["report_id"], CaseStep(row["step"]), row["holder"], _at(row["at"]), row["note"] or "")


def api_key_values(k: ApiKey, scopes_as_text: bool = False) -> tuple[Any, ...]:
    """(key_hash, operator, scopes, created_at, revoked); scopes as a set, or comma-separated text."""
    scopes: Any = {s.value for s in k.scopes}
    if scopes_as_text:
        return (k.key_hash, k.operator, ",".join(sorted(scopes)), to_micros(k.created_at), int(k.revoked))
    return (k.key_hash, k.operator, scopes, to_micros(k.created_at), k.revoked)


def api_key_from(row: Any) -> ApiKey:
    raw = row["scopes"] or ()
    names = raw.split(",") if isinstance(raw, str) else raw
    return ApiKey(
        row["key_hash"],
        row["operator"],
        frozenset(Scope(x) for x in names if x),
        _at(row["created_at"]),
        bool(row["revoked"]),
    )


def allowlist_values(e: AllowlistEntry) -> tuple[Any, ...]:
    return (e.subject, e.reason, e.added_by, to_micros(e.added_at))


def allowlist_from(row: Any) -> AllowlistEntry:
    return AllowlistEntry(row["subject"], row["reason"], row["added_by"], _at(row["added_at"]))


def snapshot_from(row: Any) -> FilterSnapshotMeta:
    return FilterSnapshotMeta(
        int(row["snapshot_id"]),
        int(row["version"]),
        int(row["count"]),
        int(row["capacity"]),
        float(row["error_rate"]),
        _at(row["created_at"]),
        int(row["size_bytes"]),
    )


def hour_micros(t: datetime) -> int:
    """The start of ``t``'s UTC hour, in microseconds (call records and aggregates are kept per caller-hour)."""
    us = to_micros(t)
    assert us is not None
    return us - us % 3_600_000_000


def at_micros(us: int) -> datetime:
    """A stored, never-null time."""
    t = from_micros(us)
    assert t is not None
    return t


# ---- disputes ---------------------------------------------------------------------
DISPUTE_COLUMNS = (
    "dispute_id",
    "subject",
    "proof",
    "holder",
    "statement",
    "owner_hash",
    "filed_at",
    "transitions",
    "authoritative",
    "state",
)


def dispute_values(d: Dispute, list_column: bool = False) -> tuple[Any, ...]:
    """Values in ``DISPUTE_COLUMNS`` order; ``list_column``: authoritative as a list (Cassandra), else JSON text."""
    steps = transitions_text(d.transitions)
    auth: Any = list(d.authoritative) if list_column else json.dumps(list(d.authoritative), ensure_ascii=False)
    return (
        d.dispute_id,
        d.subject,
        d.proof.value,
        d.holder,
        d.statement,
        d.owner_hash,
        to_micros(d.filed_at),
        steps,
        auth,
        d.state.value,
    )


def transitions_text(steps: Iterable[Transition]) -> str:
    return json.dumps([[t.state.value, to_micros(t.at), t.actor, t.note] for t in steps], ensure_ascii=False)


def dispute_from(row: Any) -> Dispute:
    auth = row["authoritative"]
    if isinstance(auth, str):
        auth = json.loads(auth)
    return Dispute(
        dispute_id=row["dispute_id"],
        subject=row["subject"],
        proof=Proof(row["proof"]),
        holder=row["holder"],
        statement=row["statement"],
        owner_hash=row["owner_hash"],
        filed_at=_at(row["filed_at"]),
        transitions=tuple(
            Transition(DisputeState(s), _at(at), actor, note) for s, at, actor, note in json.loads(row["transitions"])
        ),
        authoritative=tuple(auth or ()),
    )
