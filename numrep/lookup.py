"""The lookup path (docs/ARCHITECTURE.md §3): protected → range rules → Bloom filter → store.

:class:`LookupEngine` holds everything the hot path reads in memory — the
protected set, the published rules (exact, port and range), the current
filter snapshot — and a background refresher that follows new versions in the
store and swaps them in atomically (each is one reference assignment, so a
lookup on another thread sees either the old or the new object, never a mix).

A filter miss answers ALLOW with no I/O. A hit is confirmed against a small
in-process cache, then the store; if the store fails, the last published
rules answer (fail safe) — a filter hit alone never blocks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from enum import Enum
from types import MappingProxyType
from typing import NamedTuple

from numrep.config import Settings
from numrep.errors import StoreUnavailable
from numrep.filter import EmptyFilter, FilterSnapshot
from numrep.models import Action, Category, Channel, Reputation
from numrep.numbers import Namespace, namespace, normalize
from numrep.protected import ProtectedSet
from numrep.rules import RuleIndex, apply_delta
from numrep.store.base import Store

log = logging.getLogger(__name__)


class VerdictSource(str, Enum):
    PROTECTED = "protected"
    RANGE_RULE = "range_rule"
    FILTER = "filter"
    STORE = "store"
    PUBLISHED_RULES = "published_rules"


NO_CATEGORIES: Mapping[Category, int] = MappingProxyType({})


class Verdict(NamedTuple):
    """One answer. A NamedTuple: built on every lookup, and cheaper to build than a frozen dataclass."""

    subject: str
    channel: Channel
    action: Action
    source: VerdictSource
    version: int
    score: int = 0
    categories: Mapping[Category, int] = NO_CATEGORIES
    top_category: Category | None = None
    reasons: tuple[str, ...] = ()
    protected: bool = False


def default_channel(subject: str) -> Channel:
    return Channel.SMS if namespace(subject) is Namespace.SMS else Channel.VOICE


class LookupEngine:
    """Answers lookups from memory, confirming filter hits against the store."""

    def __init__(self, store: Store, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.settings = settings
        self._clock = clock
        self.protected = ProtectedSet(settings.allowlist_extra, settings.region)
        self._published = RuleIndex.build(0, "", {})
        self._filter: FilterSnapshot | EmptyFilter = EmptyFilter()
        self._filter_snapshot_id = 0
        self._cache: dict[str, tuple[float, Reputation | None]] = {}
        self.store_healthy = True
        self.last_error = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._refresh_lock = threading.Lock()

    # ---- state ----------------------------------------------------------
    @property
    def version(self) -> int:
        return self._published.version

    @property
    def filter_version(self) -> int:
        return self._filter.version

    @property
    def filter_count(self) -> int:
        return self._filter.count

    @property
    def rules_count(self) -> int:
        return len(self._published.rules)

    def refresh(self) -> bool:
        """Pull new rules, allowlist and filter from the store; True if anything changed.

        Store failures mark the engine unhealthy and keep the state it has.
        """
        with self._refresh_lock:
            try:
                changed = self._refresh_rules()
                self.protected.replace_allowlist(
                    {e.subject: f"allowlist: {e.reason}" for e in self.store.list_allowlist()}
                )
                changed = self._refresh_filter() or changed
            except Exception as exc:  # NumrepError or any driver error: serve on from memory
                self._unhealthy(exc)
                return False
            self.store_healthy = True
            if changed:
                self._cache = {}
            return changed

    def _unhealthy(self, exc: BaseException) -> None:
        self.last_error = str(exc)
        if self.store_healthy:
            log.warning("store unreachable; serving from the last published rules", extra={"error": str(exc)})
        self.store_healthy = False

    def _refresh_rules(self) -> bool:
        current = self._published
        delta = self.store.rules_since(current.version)
        if delta.version == current.version and not delta.full_snapshot:
            return False
        if delta.full_snapshot:
            rules = {r.rule_id: r for r in delta.added}
        else:
            rules = dict(current.rules)
            apply_delta(rules, delta.added, delta.removed)
        self._published = RuleIndex.build(delta.version, delta.checksum, rules)
        log.info("rules loaded", extra={"version": delta.version, "rules": len(rules), "full": delta.full_snapshot})
        return True

    def _refresh_filter(self) -> bool:
        meta = self.store.latest_filter_snapshot()
        if meta is None or meta.snapshot_id == self._filter_snapshot_id:
            return False
        snapshot = FilterSnapshot.from_bytes(meta.version, meta.error_rate, self.store.filter_snapshot_data(meta.snapshot_id))
        self._filter, self._filter_snapshot_id = snapshot, meta.snapshot_id
        log.info("filter loaded", extra={"version": meta.version, "count": meta.count})
        return True

    def start(self) -> None:
        """Load state once (or raise StoreUnavailable), then keep refreshing in a daemon thread.

        Starting blind — no rules, no filter — would answer ALLOW to everything,
        so the first load must succeed; later outages are served from memory.
        """
        self.refresh()
        if not self.store_healthy:
            raise StoreUnavailable(f"cannot load rules and filter from the {self.store.name} store: {self.last_error}")
        self._thread = threading.Thread(target=self._run, name="numrep-refresh", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.settings.refresh_interval_seconds):
            self.refresh()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # ---- the hot path ---------------------------------------------------
    def lookup(self, raw: str, channel: Channel | None = None) -> Verdict:
        """Normalise ``raw`` (raising InvalidSubject) and decide."""
        return self.decide(normalize(raw, self.settings.region), channel)

    def decide(self, subject: str, channel: Channel | None = None) -> Verdict:
        published = self._published
        ch = channel or default_channel(subject)
        why = self.protected.reason(subject)
        if why is not None:
            return Verdict(subject, ch, Action.ALLOW, VerdictSource.PROTECTED, published.version,
                           reasons=(f"protected: {why}",), protected=True)
        r = published.range_match(subject, ch)
        if r is not None:
            return Verdict(subject, ch, r.action, VerdictSource.RANGE_RULE, published.version,
                           top_category=r.category, reasons=(r.reason,))
        if subject not in self._filter and subject not in published.subjects:
            return Verdict(subject, ch, Action.ALLOW, VerdictSource.FILTER, published.version)
        return self._confirm(subject, ch, published)

    def _confirm(self, subject: str, ch: Channel, published: RuleIndex) -> Verdict:
        now = self._clock()
        cached = self._cache.get(subject)
        if cached is not None and cached[0] > now:
            rep = cached[1]
        else:
            try:
                rep = self.store.get_reputation(subject)
            except Exception as exc:  # any backend failure: fail safe to the published rules
                self._unhealthy(exc)
                return self._from_published(subject, ch, published)
            self.store_healthy = True
            if self.settings.reputation_cache_seconds > 0:
                if len(self._cache) > 100_000:
                    self._cache = {}
                self._cache[subject] = (now + self.settings.reputation_cache_seconds, rep)
        if rep is None:
            return Verdict(subject, ch, Action.ALLOW, VerdictSource.STORE, published.version)
        return Verdict(
            subject, ch, rep.action(ch), VerdictSource.STORE, published.version, score=rep.score,
            categories=dict(rep.categories), top_category=rep.top_category, reasons=rep.reasons,
            protected=rep.protected,
        )

    @staticmethod
    def _from_published(subject: str, ch: Channel, published: RuleIndex) -> Verdict:
        r = published.exact(subject, ch)
        if r is None:
            return Verdict(subject, ch, Action.ALLOW, VerdictSource.PUBLISHED_RULES, published.version)
        return Verdict(subject, ch, r.action, VerdictSource.PUBLISHED_RULES, published.version,
                       top_category=r.category, reasons=(r.reason,))
