"""Scoring v1: from reports to a reputation with reasons.

* Only reports in the window (``window_days``) count.
* A reporter counts once per subject and channel: its most recent report,
  weighted by the trust of its source and decayed with a half-life.
* The weighted distinct-reporter count ``w`` maps to a score
  ``100 * (1 - exp(-w / score_scale))``; thresholds turn the score into
  ``LABEL`` or ``BLOCK`` per channel. As reports age the score decays and the
  subject is delisted automatically at the next rescore.
* Authoritative evidence (a shut-down SMS port, confirmed fraud) blocks
  directly.
* Protected subjects are always ``ALLOW``, whatever the evidence.

Scoring is a pure function of its inputs (reports, ``as_of``, parameters),
so re-running it after a crash gives the same reputation.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from numrep.config import Settings
from numrep.models import Action, Category, Channel, Report, Reputation
from numrep.numbers import Namespace, namespace

# Clock skew tolerated on a report's occurred_at.
FUTURE_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class ScoringParams:
    window: timedelta
    half_life: timedelta
    scale: float
    label_threshold: int
    block_threshold: int
    source_weights: dict[str, float]

    @classmethod
    def from_settings(cls, s: Settings) -> ScoringParams:
        return cls(
            window=timedelta(days=s.window_days),
            half_life=timedelta(days=s.half_life_days),
            scale=s.score_scale,
            label_threshold=s.label_threshold,
            block_threshold=s.block_threshold,
            source_weights=dict(s.source_weights),
        )

    def action_for(self, score: int) -> Action:
        if score >= self.block_threshold:
            return Action.BLOCK
        if score >= self.label_threshold:
            return Action.LABEL
        return Action.ALLOW


def channels_for(subject: str) -> tuple[Channel, ...]:
    """The channels a subject can reach users on: SMS ports only send messages."""
    return (Channel.SMS,) if namespace(subject) is Namespace.SMS else (Channel.VOICE, Channel.SMS)


def _latest_per_reporter(reports: Iterable[Report]) -> dict[str, Report]:
    latest: dict[str, Report] = {}
    for r in reports:
        cur = latest.get(r.reporter_hash)
        if cur is None or (r.occurred_at, r.report_id) > (cur.occurred_at, cur.report_id):
            latest[r.reporter_hash] = r
    return latest


def _weight(r: Report, as_of: datetime, p: ScoringParams) -> float:
    age = max((as_of - r.occurred_at).total_seconds(), 0.0)
    return p.source_weights.get(r.source.value, 1.0) * 0.5 ** (age / p.half_life.total_seconds())


def _score(weighted: float, scale: float) -> int:
    return int(round(100 * (1 - math.exp(-weighted / scale))))


def score_subject(
    subject: str,
    reports: Sequence[Report],
    as_of: datetime,
    params: ScoringParams,
    protected_reason: str | None = None,
    authoritative: Sequence[str] = (),
) -> Reputation:
    """Score one subject from its reports (any age; the window is applied here)."""
    start, end = as_of - params.window, as_of + FUTURE_SKEW
    in_window = [r for r in reports if r.subject == subject and start <= r.occurred_at <= end]
    channels = channels_for(subject)

    channel_scores: dict[Channel, tuple[int, float, int]] = {}
    for ch in channels:
        latest = _latest_per_reporter(r for r in in_window if r.channel is ch)
        weighted = sum(_weight(r, as_of, params) for r in latest.values())
        channel_scores[ch] = (_score(weighted, params.scale), weighted, len(latest))

    everyone = _latest_per_reporter(in_window)
    categories: Counter[Category] = Counter()
    for cat, _reporter in {(r.category, r.reporter_hash) for r in in_window}:
        categories[cat] += 1
    weighted_all = sum(_weight(r, as_of, params) for r in everyone.values())
    score = max((s for s, _, _ in channel_scores.values()), default=0)

    reasons: list[str] = []
    actions: dict[Channel, Action] = {}
    if protected_reason is not None:
        actions = {ch: Action.ALLOW for ch in channels}
        reasons.append(f"protected: {protected_reason}")
    elif authoritative:
        actions = {ch: Action.BLOCK for ch in channels}
        score = 100
        reasons.extend(authoritative)
    else:
        actions = {ch: params.action_for(channel_scores[ch][0]) for ch in channels}
        for ch in channels:
            s, _, n = channel_scores[ch]
            if actions[ch] is not Action.ALLOW:
                threshold = params.block_threshold if actions[ch] is Action.BLOCK else params.label_threshold
                reasons.append(
                    f"{ch.value}: score {s} >= {actions[ch].value.lower()} threshold {threshold} ({n} reporters)"
                )

    if everyone:
        days = params.window.total_seconds() / 86400
        summary = f"{len(everyone)} reporter{'s' if len(everyone) != 1 else ''} in {days:g} days (weighted {weighted_all:.1f})"
        if categories:
            top = min(categories.items(), key=lambda kv: (-kv[1], kv[0].value))[0]
            summary += f", mostly {top.value}"
        reasons.insert(0 if protected_reason is None else 1, summary)

    return Reputation(
        subject=subject,
        score=score,
        actions=actions,
        categories=dict(categories),
        reporters=len(everyone),
        weighted_reporters=round(weighted_all, 6),
        first_seen=min((r.occurred_at for r in in_window), default=None),
        last_seen=max((r.occurred_at for r in in_window), default=None),
        reasons=tuple(reasons),
        protected=protected_reason is not None,
        updated_at=as_of,
    )
