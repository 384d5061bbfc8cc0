"""Reporter trust: how much one complaint weighs, from evidence about its reporter.

Tiers, strongest first (docs/ARCHITECTURE.md §11):

* **corroborated** — an operator's call records show the subject called or
  texted the reporter's own number in the days before the report;
* **attested** — an operator sent the report with its own key for a number
  the registry says it holds (the key vouches, never the report's ``source``);
* **account** — an app account first seen well before this report;
* **unverified** — a fresh id nobody vouches for.

A reporter that reports many subjects in a short time weighs less (velocity).
Trust is learned from outcomes: subjects independent evidence later confirmed
(fraud confirmed, a shut-down port, an analyst's block) raise a reporter's
weight; subjects later cleared (an analyst's clearance, the allowlist) lower it.
Everything is in event time (``occurred_at``), so a replay of history weighs
each complaint as live ingestion did.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta

from numrep.cache import MISSING, TTLCache
from numrep.config import Settings
from numrep.models import Complaint, Lane, Outcome, ReporterStats, Tier
from numrep.regulator.registry import Registry
from numrep.store.base import Store

WEAK_TIERS = frozenset({Tier.ACCOUNT, Tier.UNVERIFIED})
MAX_RESCORED_BY_OUTCOME = 5000


def tier_of(c: Complaint, corroborated: bool, stats: ReporterStats | None, history: timedelta) -> Tier:
    """The tier of one complaint, given whether records corroborate it and its reporter's history."""
    if corroborated:
        return Tier.CORROBORATED
    if c.attested_by:
        return Tier.ATTESTED
    if stats is not None and c.occurred_at - stats.first_seen >= history:
        return Tier.ACCOUNT
    return Tier.UNVERIFIED


def outcome_factor(stats: ReporterStats | None) -> float:
    """Trust learned from outcomes: each subject of a reporter's that independent evidence later confirmed adds a
    quarter (up to double weight); each it reported that was cleared divides its weight."""
    if stats is None:
        return 1.0
    return min(2.0, 1.0 + 0.25 * stats.confirmed) / (1 + 2 * stats.cleared)


def record_outcome(store: Store, settings: Settings, subject: str, outcome: Outcome, now: datetime) -> int:
    """Independent evidence settled ``subject``: its reporters' trust moves, and the other subjects they reported
    are queued for rescoring (bounded; the pipeline rescores them in batches). Returns the reporters touched."""
    window = timedelta(days=settings.window_days)
    complaints, _more = store.complaints_for_subject(subject, now - window, settings.complaint_cap)
    reporters = sorted({c.reporter_hash for c in complaints})
    if not reporters:
        return 0
    store.record_outcome(subject, outcome, reporters, now)
    touched = [s for s in store.subjects_reported_by(reporters, now - window, MAX_RESCORED_BY_OUTCOME) if s != subject]
    store.mark_dirty(touched, Lane.BACKLOG)  # bulk: behind the subjects with new evidence
    return len(reporters)


def velocity_factor(subjects_24h: int, free: int) -> float:
    """Full weight up to ``free`` subjects a day; beyond, the weight shrinks as free / n."""
    return 1.0 if subjects_24h <= free else free / subjects_24h


class Attestor:
    """Who vouches for a reporter's number: the sending operator, if the registry says it holds the number.

    The registry is small and changes by imports, so it is reloaded at most
    every ``refresh_seconds``.
    """

    def __init__(
        self, store: Store, refresh_seconds: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._store = store
        self._cache: TTLCache[str, Registry] = TTLCache(refresh_seconds, max_size=1, clock=clock)

    def registry(self) -> Registry:
        registry = self._cache.get("registry")
        if registry is MISSING:
            registry = Registry.load(self._store)
            self._cache.put("registry", registry)
        return registry

    def for_operator(self, operator: str | None) -> Callable[[str], str] | None:
        """The attest function for reports sent with ``operator``'s key (None: nobody can attest)."""
        if not operator:
            return None

        def attest(number: str) -> str:
            holder = self.registry().holder_of(number)
            return operator if holder is not None and holder.holder == operator else ""

        return attest


def summarise(tiers: Mapping[Tier, int]) -> str:
    """``12 corroborated, 3 unverified reporters`` — strongest first, zero tiers left out."""
    parts = [f"{n} {t.value}" for t in Tier if (n := tiers.get(t, 0))]
    if not parts:
        return "no reporters"
    total = sum(tiers.values())
    return f"{', '.join(parts)} reporter{'s' if total != 1 else ''}"


def count_tiers(tiers: Iterable[Tier]) -> dict[Tier, int]:
    out: dict[Tier, int] = {}
    for t in tiers:
        out[t] = out.get(t, 0) + 1
    return out
