"""Scoring v2: trust-weighted complaints, call behaviour and authoritative evidence.

A pure, replayable function of bounded per-subject inputs (:class:`Evidence`),
computed in event time: the same evidence at the same ``as_of`` gives the
same reputation, whether it arrived live or in a replay.

Per channel, evidence adds up to a strength ``S``; the score is
``100 * (1 - exp(-S))`` (LABEL at 50 is S ≈ 0.69, BLOCK at 80 is S ≈ 1.61).

* **Complaints** weigh by their reporter's tier (corroborated, attested,
  account, unverified: ``tier_weights``), shrink with the reporter's velocity
  (many subjects in 24 h), count once per reporter (its latest report), and
  fade together with a half-life from the subject's latest complaint — a
  subject still being reported keeps its older complaints.
* **Behaviour** from call records over ``behaviour_window_days``: low answer
  rate, short calls, ring-once calls and sequential dialling, once enough
  distinct callees are seen to judge; weighed down when many of the people
  a caller reached called it back (not for ring-once callers: wangiri
  victims calling back is the fraud).
* **Honeypots**: each distinct honeypot reached weighs ``honeypot_weight``.
* **Authoritative** evidence (a shut-down SMS port, confirmed fraud, an
  analyst's block) blocks directly.

Complaints alone flag nothing until ``label_min_reporters`` (3) distinct
reporters make them: mistaken complaints are rare and independent, so one or
two — even vouched for — are not evidence enough to label a line.

Safety rules: BLOCK needs *strong* evidence (corroborated or attested
complaints, behaviour, honeypots) of at least ``block_gate`` on its own —
unverified or account complaints never block alone, however many. A surge of
weak reporters in 24 h holds the subject: weak complaints then cannot tip it
to BLOCK at all, and a review case opens. Protected subjects are ALLOW.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from numrep.config import Settings
from numrep.evidence.records import Behaviour
from numrep.evidence.trust import WEAK_TIERS, count_tiers, outcome_factor, summarise, tier_of, velocity_factor
from numrep.models import Action, CaseKind, Category, Channel, Complaint, ReasonCode, ReporterStats, Reputation, Tier
from numrep.scoring import FUTURE_SKEW, channels_for

SURGE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class ParamsV2:
    window: timedelta
    half_life: timedelta
    label_threshold: int
    block_threshold: int
    tier_weights: Mapping[Tier, float]
    block_gate: float
    honeypot_weight: float
    account_history: timedelta
    velocity_free: int
    surge_min: int
    surge_share: float
    behaviour_days: float
    label_min_reporters: int = 3

    @classmethod
    def from_settings(cls, s: Settings) -> ParamsV2:
        return cls(
            window=timedelta(days=s.window_days),
            half_life=timedelta(days=s.half_life_days),
            label_threshold=s.label_threshold,
            block_threshold=s.block_threshold,
            tier_weights={Tier(k): v for k, v in s.tier_weights.items()},
            block_gate=s.block_gate,
            honeypot_weight=s.honeypot_weight,
            account_history=timedelta(days=s.account_history_days),
            velocity_free=s.velocity_free_subjects,
            surge_min=s.surge_min_reporters,
            surge_share=s.surge_weak_share,
            behaviour_days=s.behaviour_window_days,
            label_min_reporters=s.label_min_reporters,
        )


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything v2 scores one subject on; bounded whatever the volume."""

    subject: str
    complaints: Sequence[Complaint] = ()  # the latest report per reporter, at most `complaint_cap`
    more_reporters: int = 0  # reporters beyond the cap: counted, not weighed
    corroborated: frozenset[str] = frozenset()  # report ids that call records corroborate
    reporters: Mapping[str, ReporterStats] = field(default_factory=dict)
    behaviour: Mapping[Channel, Behaviour] = field(default_factory=dict)
    authoritative: Sequence[str] = ()  # reasons: port blacklist, confirmed fraud, analyst block
    cleared_before: datetime | None = None  # an analyst cleared the complaints before this
    analyst_hold: bool = False  # an analyst decided to keep it at LABEL at most
    authoritative_code: ReasonCode = ReasonCode.MANUAL_RULE  # what the first of `authoritative` is
    case_id: str = ""  # the case behind the verdict, for redress (confirmed fraud, analyst, dispute)
    dispute_hold: str = ""  # a dispute under review holds the subject at LABEL (non-authoritative evidence)


def deciding_code(parts: Sequence[tuple[float, ReasonCode]]) -> ReasonCode:
    """The strongest evidence of a flagged channel: the largest share of its strength (ties: the first listed)."""
    return max(parts, key=lambda p: p[0])[1]


class Scored(NamedTuple):
    reputation: Reputation
    surge: str | None  # why the subject is held for review, when a report surge holds it


def strength_to_score(s: float) -> int:
    return min(99, int(round(100 * (1 - math.exp(-max(s, 0.0))))))  # 100 is for authoritative evidence alone


def _ramp(x: float, lo: float, hi: float) -> float:
    """0 at ``lo``, 1 at ``hi`` (either order), linear between."""
    if lo < hi:
        return 0.0 if x <= lo else 1.0 if x >= hi else (x - lo) / (hi - lo)
    return 0.0 if x >= lo else 1.0 if x <= hi else (lo - x) / (lo - hi)


CALLBACK_MIN_REACHED = 20


def behaviour_strength(b: Behaviour, channel: Channel) -> tuple[float, list[str]]:
    """How strongly call behaviour alone says "spam", with the signs that say it.

    Callbacks weigh it down (:func:`callback_damping`): people who call a
    caller back are its customers.
    """
    enough = _ramp(b.distinct_callees, 20, 100)
    if enough == 0:
        return 0.0, []
    signs: list[tuple[float, str]] = [
        (
            0.9 * _ramp(b.callees_per_prefix, 1.6, 4.0),
            f"~{b.callees_per_prefix:.0f} callees per 10-number block (sequential dialling)",
        )
    ]
    if channel is Channel.VOICE:
        signs += [
            (0.8 * _ramp(b.answer_rate, 0.55, 0.2), f"{b.answer_rate:.0%} answered"),
            (0.5 * _ramp(b.short_share, 0.45, 0.8), f"{b.short_share:.0%} of answered calls under 10 s"),
            (1.2 * _ramp(b.ring_once_share, 0.25, 0.6), f"{b.ring_once_share:.0%} ring-once calls"),
        ]
    damp = callback_damping(b)
    s = enough * damp * sum(w for w, _ in signs)
    why = [why for w, why in signs if w > 0]
    if damp < 1 and why:
        why.append(
            f"{b.called_back} of {b.reached:,} people reached called back ({b.callback_share:.0%}): weighed ×{damp:.2f}"
        )
    return min(s, 3.0), why


def callback_damping(b: Behaviour) -> float:
    """1 without callbacks; down to 0.3 when a quarter or more of the (at least 20) people reached called back.

    Not for ring-once callers: their victims calling back (a premium line) is
    the fraud itself — the damping fades out as the ring-once share grows.
    """
    if b.reached < CALLBACK_MIN_REACHED:
        return 1.0
    return 1.0 - 0.7 * _ramp(b.callback_share, 0.05, 0.25) * (1.0 - _ramp(b.ring_once_share, 0.25, 0.6))


def score_v2(ev: Evidence, as_of: datetime, p: ParamsV2, protected_reason: str | None = None) -> Scored:
    subject = ev.subject
    channels = channels_for(subject)
    start, end = as_of - p.window, as_of + FUTURE_SKEW
    if ev.cleared_before is not None:
        start = max(start, ev.cleared_before)
    complaints = [c for c in ev.complaints if start <= c.occurred_at <= end]
    tiers = {
        c.report_id: tier_of(c, c.report_id in ev.corroborated, ev.reporters.get(c.reporter_hash), p.account_history)
        for c in complaints
    }

    def weight(c: Complaint) -> float:
        stats = ev.reporters.get(c.reporter_hash)
        return (
            p.tier_weights[tiers[c.report_id]]
            * velocity_factor(stats.subjects_24h if stats else 1, p.velocity_free)
            * outcome_factor(stats)
        )

    last = max((c.occurred_at for c in complaints), default=None)
    fade = 0.5 ** (max((as_of - last).total_seconds(), 0.0) / p.half_life.total_seconds()) if last else 0.0

    recent = [c for c in complaints if c.occurred_at >= as_of - SURGE_WINDOW]
    recent_weak = sum(1 for c in recent if tiers[c.report_id] in WEAK_TIERS)
    surge = None
    if recent_weak >= p.surge_min and recent_weak >= p.surge_share * len(recent):
        surge = f"report surge: {recent_weak} of {len(recent)} reporters in 24 h are unverified or fresh accounts"

    reasons: list[str] = []
    actions: dict[Channel, Action] = {}
    scores: dict[Channel, int] = {}
    codes: dict[Channel, ReasonCode] = {}
    withheld = False
    for ch in channels:
        mine = [c for c in complaints if c.channel is ch]
        weak = fade * sum(weight(c) for c in mine if tiers[c.report_id] in WEAK_TIERS)
        strong_c = fade * sum(weight(c) for c in mine if tiers[c.report_id] not in WEAK_TIERS)
        b = ev.behaviour.get(ch, Behaviour())
        s_b, signs = behaviour_strength(b, ch)
        s_h = p.honeypot_weight * len(b.honeypots)
        strong = strong_c + s_b + s_h
        score = strength_to_score(strong + weak)
        scores[ch] = score
        action = Action.ALLOW
        if s_b == 0 and s_h == 0 and len({c.reporter_hash for c in mine}) < p.label_min_reporters:
            pass  # complaints alone flag nothing until enough distinct people make them: mistakes happen one at a time
        elif score >= p.block_threshold:
            can_block = strong >= p.block_gate and not ev.analyst_hold and not ev.dispute_hold
            if surge is not None:  # held: weak complaints may not tip it
                can_block = can_block and strength_to_score(strong) >= p.block_threshold
            action = Action.BLOCK if can_block else Action.LABEL
            withheld = withheld or not can_block
        elif score >= p.label_threshold:
            action = Action.LABEL
        actions[ch] = action
        if action is not Action.ALLOW:
            codes[ch] = deciding_code(
                [
                    (s_h, ReasonCode.HONEYPOT),
                    (s_b, ReasonCode.BEHAVIOUR),
                    (strong_c, ReasonCode.CORROBORATED_COMPLAINTS),
                    (weak, ReasonCode.COMPLAINTS),
                ]
            )
            threshold = p.block_threshold if action is Action.BLOCK else p.label_threshold
            reasons.append(f"{ch.value}: score {score} >= {action.value.lower()} threshold {threshold}")
        if s_b > 0:
            reasons.append(
                f"behaviour ({ch.value}, {p.behaviour_days:g} days): {b.calls:,} calls to "
                f"~{b.distinct_callees:,.0f} people, " + ", ".join(signs)
            )
        if b.honeypots:
            n = len(b.honeypots)
            reasons.append(f"{ch.value}: reached {n} honeypot number{'s' if n != 1 else ''}")

    categories: Counter[Category] = Counter()
    for cat, _reporter in {(c.category, c.reporter_hash) for c in complaints}:
        categories[cat] += 1
    order = list(Tier)  # strongest first
    per_reporter: dict[str, tuple[Tier, float]] = {}  # a person who complained on both channels counts once
    for c in complaints:
        mine_t, mine_w = tiers[c.report_id], weight(c)
        held = per_reporter.get(c.reporter_hash)
        if held is None or (order.index(mine_t), -mine_w) < (order.index(held[0]), -held[1]):
            per_reporter[c.reporter_hash] = (mine_t, mine_w)
    reporters = len(per_reporter)
    weighted = fade * sum(w for _, w in per_reporter.values())
    if complaints:
        summary = f"{summarise(count_tiers(t for t, _ in per_reporter.values()))} in {p.window.days:g} days"
        if ev.more_reporters:
            summary += f" (and {ev.more_reporters:,} more, counted only)"
        if categories:
            summary += f", mostly {min(categories.items(), key=lambda kv: (-kv[1], kv[0].value))[0].value}"
        reasons.insert(0, summary)

    score = max(scores.values(), default=0)
    if protected_reason is not None:
        actions = {ch: Action.ALLOW for ch in channels}
        codes = {}
        reasons = [f"protected: {protected_reason}", *reasons[: 1 if complaints else 0]]
        surge, withheld = None, False
    elif ev.authoritative:
        actions = {ch: Action.BLOCK for ch in channels}
        codes = {ch: ev.authoritative_code for ch in channels}
        score = 100
        reasons = [*ev.authoritative, *reasons]
        surge, withheld = None, False
    else:
        if surge is not None:
            reasons.append(f"held for review: {surge}")
        if ev.dispute_hold and withheld:
            reasons.append(f"held at LABEL while dispute {ev.dispute_hold} is under review")
        if ev.analyst_hold:
            reasons.append("held at LABEL by an analyst's decision")
        elif withheld and surge is None and not ev.dispute_hold:
            reasons.append(
                f"BLOCK withheld: strong evidence below the gate {p.block_gate:g} "
                "(complaints nobody vouches for never block alone)"
            )

    first = min((c.occurred_at for c in complaints), default=None)
    rep = Reputation(
        subject=subject,
        score=score,
        actions=actions,
        categories=dict(categories),
        reporters=reporters + ev.more_reporters,
        weighted_reporters=round(weighted, 6),
        first_seen=first,
        last_seen=last,
        reasons=tuple(reasons),
        protected=protected_reason is not None,
        updated_at=as_of,
        codes=codes,
        case_id=(ev.case_id or (f"{CaseKind.REPORT_BOMBING.value}:{subject}" if surge else "")) if codes else "",
    )
    return Scored(rep, surge)
