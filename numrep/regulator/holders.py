"""Scores of number holders (operators and resellers) per period, and range rules.

For each holder and period: complaints per 10,000 allocated numbers, the
share of its reported numbers that are flagged, the trend against the
previous period, and the categories behind the complaints; a tier with the
restrictions it recommends, and reasons that say why.

A range whose flagged numbers reach ``range_rule_density`` of its allocation
(and at least ``range_rule_min_flagged``) gets a range rule, unless the
range covers a protected subject — a range rule must never touch 110 or a
bank's line.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from numrep.config import Settings
from numrep.models import Action, Category, Channel, HolderType, ReasonCode, Rule, RuleKind
from numrep.regulator.periods import Period
from numrep.regulator.registry import Registry
from numrep.rules import rule_id
from numrep.store.base import Store

# tier -> (complaints per 10k at least, flagged share at least, recommended restrictions)
TIERS: tuple[tuple[str, float, float, tuple[str, ...]], ...] = (
    ("D", 50.0, 0.5, ("suspend new range allocations", "re-verify the real-name registration of every active card")),
    ("C", 20.0, 0.3, ("restrict new card sales in the flagged ranges", "monthly compliance review")),
    ("B", 5.0, 0.15, ("formal warning", "quarterly compliance review")),
)


@dataclass(frozen=True, slots=True)
class HolderScore:
    holder: str
    holder_type: HolderType
    allocated: int
    complaints: int
    complaints_per_10k: float
    reported_numbers: int
    flagged_numbers: int
    flagged_share: float
    previous_per_10k: float
    trend: float | None  # this period / previous period; None when the previous had none
    categories: dict[Category, int] = field(default_factory=dict)
    tier: str = "A"
    restrictions: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()


def _tier(per_10k: float, share: float, trend: float | None) -> tuple[str, tuple[str, ...]]:
    for name, per_10k_min, share_min, restrictions in TIERS:
        if per_10k >= per_10k_min or share >= share_min:
            return name, restrictions
    if trend is not None and trend >= 3 and per_10k >= 1:
        return "B", TIERS[-1][3]
    return "A", ()


def _rate(per_10k: float) -> str:
    """One decimal, or two significant digits below 1 (a large operator's 0.0099 is not 0.0)."""
    return f"{per_10k:.1f}" if per_10k >= 1 or per_10k == 0 else f"{per_10k:.2g}"


def _complaints(
    store: Store, registry: Registry, period: Period, exclude: Container[str] = ()
) -> tuple[dict[str, Counter[Category]], dict[str, set[str]]]:
    by_holder: dict[str, Counter[Category]] = defaultdict(Counter)
    numbers: dict[str, set[str]] = defaultdict(set)
    for r in store.report_summaries(period.start, period.end):
        if r.subject in exclude:
            continue
        a = registry.holder_of(r.subject)
        if a is not None:
            by_holder[a.holder][r.category] += 1
            numbers[a.holder].add(r.subject)
    return by_holder, numbers


def score_holders(
    store: Store,
    period: Period,
    registry: Registry | None = None,
    flagged: Iterable[str] | None = None,
    exclude: Container[str] = (),
) -> list[HolderScore]:
    """Every holder's score for ``period``, worst first (ties by name).

    Complaints against subjects in ``exclude`` (the spam list passes the
    protected set: a protected line is never a holder's spam) are not counted.
    """
    registry = registry or Registry.load(store)
    flagged_set = set(store.flagged_subjects() if flagged is None else flagged)
    allocated: Counter[str] = Counter()
    types: dict[str, HolderType] = {}
    for a in registry.allocations:
        allocated[a.holder] += a.size
        types.setdefault(a.holder, a.holder_type)
    now, numbers = _complaints(store, registry, period, exclude)
    before, _ = _complaints(store, registry, period.previous(), exclude)
    flagged_by_holder: Counter[str] = Counter()
    for s in flagged_set:
        if (owner := registry.holder_of(s)) is not None:
            flagged_by_holder[owner.holder] += 1
    out = []
    for holder in sorted(allocated):
        complaints = sum(now[holder].values())
        per_10k = complaints * 10_000 / allocated[holder]
        prev = sum(before[holder].values()) * 10_000 / allocated[holder]
        trend = per_10k / prev if prev else None
        reported = len(numbers[holder])
        share = flagged_by_holder[holder] / reported if reported else 0.0
        tier, restrictions = _tier(per_10k, share, trend)
        reasons = [
            f"{complaints} complaints = {_rate(per_10k)} per 10,000 allocated numbers ({allocated[holder]:,} allocated)"
        ]
        if trend is not None:
            reasons.append(f"{trend:.1f}x the previous period ({_rate(prev)} per 10,000)")
        if reported:
            reasons.append(f"{flagged_by_holder[holder]} of {reported} reported numbers flagged ({share:.0%})")
        if now[holder]:
            top, n = min(now[holder].items(), key=lambda kv: (-kv[1], kv[0].value))
            reasons.append(f"mostly {top.value} ({n / complaints:.0%})")
        out.append(
            HolderScore(
                holder,
                types[holder],
                allocated[holder],
                complaints,
                round(per_10k, 4),
                reported,
                flagged_by_holder[holder],
                round(share, 4),
                round(prev, 4),
                round(trend, 3) if trend is not None else None,
                dict(now[holder]),
                tier,
                restrictions,
                tuple(reasons),
            )
        )
    return sorted(out, key=lambda h: (-h.complaints_per_10k, h.holder))


def range_rules(
    store: Store,
    settings: Settings,
    protected: Iterable[str],
    registry: Registry | None = None,
    flagged: Iterable[str] | None = None,
    issued_at: datetime | None = None,
) -> dict[str, Rule]:
    """Range rules for overwhelmingly abusive ranges, never covering a protected subject."""
    registry = registry or Registry.load(store)
    flagged_list = list(store.flagged_subjects() if flagged is None else flagged)
    protected_list = list(protected)
    issued_at = issued_at or datetime.now(UTC)
    counts: Counter[str] = Counter()
    for s in flagged_list:
        for a in registry.covering(s):
            counts[a.prefix] += 1
    action = Action(settings.range_rule_action)
    out: dict[str, Rule] = {}
    for a in registry.allocations:
        n = counts[a.prefix]
        if n < settings.range_rule_min_flagged or n / a.size < settings.range_rule_density:
            continue
        if any(p.startswith(a.prefix) for p in protected_list):
            continue  # a range rule must never cover a protected subject
        channels = (Channel.SMS,) if a.prefix.startswith("sms:") else (Channel.VOICE, Channel.SMS)
        for ch in channels:
            rid = rule_id(a.prefix, ch)
            reason = (
                f"range {a.prefix} of {a.holder} ({a.holder_type.value}): {n} of {a.size:,} numbers flagged "
                f"({n / a.size:.1%})"
            )
            out[rid] = Rule(
                rid, RuleKind.RANGE, a.prefix, ch, action, Category.OTHER, reason, issued_at, code=ReasonCode.RANGE_RULE
            )
    return out
