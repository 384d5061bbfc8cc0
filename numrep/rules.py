"""Blocking rules: derived from reputations, diffed, checksummed.

A rule set is a mapping ``rule_id -> Rule``. The checksum is the SHA-256 of
the canonical rule lines (see :meth:`Rule.canonical`) sorted by rule id and
joined by newlines; operators verify it after applying a delta.

The set holds blocking rules (EXACT, PORT, RANGE) and the allowlist (ALLOW
rules, ``<subject>#allow``), so a switch's local list knows allowlisted
numbers as soon as they are published. A rule with ``expires_at`` lapses at
match time: the set (and its checksum) does not change when it does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from numrep.models import Action, AllowlistEntry, Category, Channel, Reputation, Rule, RuleKind
from numrep.numbers import Namespace, default_channel, namespace
from numrep.prefixes import PrefixMap

EMPTY_CHECKSUM = hashlib.sha256(b"").hexdigest()


def rule_id(subject: str, channel: Channel) -> str:
    return f"{subject}#{channel.value}"


def allow_rule_id(subject: str) -> str:
    return f"{subject}#allow"


def allow_rules(entries: Iterable[AllowlistEntry]) -> dict[str, Rule]:
    """The ALLOW rules that ship the allowlist in the feed (the channel is the subject's default; ALLOW covers all)."""
    out: dict[str, Rule] = {}
    for e in entries:
        rid = allow_rule_id(e.subject)
        out[rid] = Rule(
            rid,
            RuleKind.ALLOW,
            e.subject,
            default_channel(e.subject),
            Action.ALLOW,
            Category.OTHER,
            f"allowlist: {e.reason}",
            e.added_at,
        )
    return out


def rules_for(rep: Reputation, issued_at: datetime) -> dict[str, Rule]:
    """The rules a reputation calls for: one per channel whose action is not ALLOW."""
    if rep.protected:
        return {}
    kind = RuleKind.PORT if namespace(rep.subject) is Namespace.SMS else RuleKind.EXACT
    category = rep.top_category or Category.OTHER
    reason = rep.reasons[0] if rep.reasons else ""
    out: dict[str, Rule] = {}
    for channel, action in rep.actions.items():
        if action is Action.ALLOW:
            continue
        rid = rule_id(rep.subject, channel)
        out[rid] = Rule(
            rid, kind, rep.subject, channel, action, category, reason, issued_at, code=rep.codes.get(channel)
        )
    return out


def diff(current: Mapping[str, Rule], desired: Mapping[str, Rule]) -> tuple[list[Rule], list[str]]:
    """Upserts and removals that turn ``current`` into ``desired``.

    Rules that differ only in ``reason``/``issued_at`` are not re-issued, so a
    rescore that changes nothing publishes nothing; a changed reason code is.
    """
    upserts = [r for rid, r in desired.items() if rid not in current or _changed(current[rid], r)]
    removed = [rid for rid in current if rid not in desired]
    return sorted(upserts, key=lambda r: r.rule_id), sorted(removed)


def effective_changes(
    current: Mapping[str, Rule], upserts: Iterable[Rule], removed: Iterable[str]
) -> tuple[list[Rule], list[str]]:
    """The part of a requested publication that really changes ``current``.

    Upserting a rule identical to the active one and removing an inactive id
    are no-ops, so a retried publication creates no empty version.
    """
    real_upserts = [r for r in upserts if r.rule_id not in current or _changed(current[r.rule_id], r)]
    upsert_ids = {r.rule_id for r in real_upserts}
    real_removed = sorted({rid for rid in removed if rid in current and rid not in upsert_ids})
    return real_upserts, real_removed


def _changed(held: Rule, new: Rule) -> bool:
    """True when ``new`` must be published over ``held``: what clients act on, or the reason code, differs."""
    return held.canonical() != new.canonical() or held.code is not new.code


def canonical_checksum(rules: Iterable[Rule]) -> str:
    lines = sorted(r.canonical() for r in rules)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class RuleIndex:
    """A rule set at one version, indexed for matching: exact ids, and ranges by channel and prefix.

    Immutable: holders swap a new index in with one reference assignment.
    """

    version: int
    checksum: str
    rules: dict[str, Rule]
    ranges: dict[Channel, PrefixMap[Rule]]  # only channels that have range rules
    subjects: frozenset[str]  # subjects with an exact or port rule on any channel
    allowed: dict[str, str]  # allowlisted subject -> why (the ALLOW rules), for the protected set

    @classmethod
    def build(cls, version: int, checksum: str, rules: dict[str, Rule]) -> RuleIndex:
        by_channel: dict[Channel, list[tuple[str, Rule]]] = {}
        subjects: set[str] = set()
        allowed: dict[str, str] = {}
        for r in rules.values():
            if r.kind is RuleKind.RANGE:
                by_channel.setdefault(r.channel, []).append((r.subject, r))
            elif r.kind is RuleKind.ALLOW:
                allowed[r.subject] = r.reason or "allowlist"
            else:
                subjects.add(r.subject)
        ranges = {ch: PrefixMap(items, proper=True) for ch, items in by_channel.items()}
        return cls(version, checksum, rules, ranges, frozenset(subjects), allowed)

    def exact(self, subject: str, channel: Channel, now: datetime | None = None) -> Rule | None:
        """The exact or port rule of ``subject`` on ``channel``, unless it has lapsed at ``now`` (default: now)."""
        r = self.rules.get(rule_id(subject, channel))
        if r is None or r.expires_at is None:
            return r
        return r if r.live(now or datetime.now(UTC)) else None

    def range_match(self, subject: str, channel: Channel, now: datetime | None = None) -> Rule | None:
        """The longest live range rule whose prefix covers ``subject`` (and is shorter than it) on ``channel``."""
        ranges = self.ranges.get(channel)
        r = None if ranges is None else ranges.longest(subject)
        if r is None or r.expires_at is None:
            return r
        return r if r.live(now or datetime.now(UTC)) else None


def apply_delta(held: dict[str, Rule], added: Iterable[Rule], removed: Iterable[str]) -> None:
    """Apply a delta in place (used by the service's published-rules copy and clients)."""
    for rid in removed:
        held.pop(rid, None)
    for r in added:
        held[r.rule_id] = r
