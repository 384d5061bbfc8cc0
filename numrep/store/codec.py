"""Encoding of domain records into column values, shared by the backends."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from numrep.models import Action, Category, Channel, Reputation, Rule, RuleKind

UTC = timezone.utc


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
    }


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
        updated_at=from_micros(row["updated_at"]) or datetime.fromtimestamp(0, UTC),
    )


RULE_COLUMNS = ("rule_id", "kind", "subject", "channel", "action", "category", "reason", "issued_at", "expires_at")


def rule_values(r: Rule) -> tuple[Any, ...]:
    return (r.rule_id, r.kind.value, r.subject, r.channel.value, r.action.value, r.category.value, r.reason,
            to_micros(r.issued_at), to_micros(r.expires_at))


def rule_from(row: Any) -> Rule:
    return Rule(
        rule_id=row["rule_id"],
        kind=RuleKind(row["kind"]),
        subject=row["subject"],
        channel=Channel(row["channel"]),
        action=Action(row["action"]),
        category=Category(row["category"]),
        reason=row["reason"],
        issued_at=from_micros(row["issued_at"]) or datetime.fromtimestamp(0, UTC),
        expires_at=from_micros(row["expires_at"]),
    )
