"""The lookup path (docs/ARCHITECTURE.md §3): protected → range rules → Bloom filter → confirm.

:func:`decide` is the one decision, a pure function over in-memory state (the
protected set, a published :class:`RuleIndex`, a filter) and a ``confirm``
callable for filter hits. Two callers supply that state:

* :class:`LookupEngine` (the service) holds the protected set, the published
  rules and the current filter snapshot, with a background refresher that
  follows new versions in the store and swaps them in atomically (each is one
  reference assignment, so a lookup on another thread sees either the old or
  the new object, never a mix); a hit is confirmed against a small
  in-process cache, then the store.
* ``numrep.sdk.local_list.LocalListClient`` (an operator switch) holds the
  verified rules and filter from the rules feed; a hit is confirmed by the
  service.

A filter miss answers ALLOW with no I/O. If confirming fails, the last
published rules answer (fail safe) — a filter hit alone never blocks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Container, Mapping
from datetime import UTC, datetime
from enum import Enum
from types import MappingProxyType
from typing import NamedTuple, Protocol

from numrep import metrics
from numrep.cache import MISSING, TTLCache
from numrep.config import Settings
from numrep.errors import StoreUnavailable, Unconfirmed
from numrep.filter import EmptyFilter, FilterSnapshot
from numrep.models import (
    Action,
    AllowlistEntry,
    Category,
    Channel,
    FilterSnapshotMeta,
    ReasonCode,
    Reputation,
    RulesDelta,
)
from numrep.numbers import default_channel, normalize
from numrep.protected import ProtectedSet
from numrep.rules import RuleIndex, apply_delta

log = logging.getLogger(__name__)


class VerdictSource(str, Enum):
    """Which stage of a lookup decided. The first five are the service's (``VerdictSource`` in
    protos/numrep/v1/reputation.proto); the rest are the local list's (numrep.sdk.local_list)."""

    PROTECTED = "protected"  # a protected subject: always ALLOW
    RANGE_RULE = "range_rule"  # a published range rule matched
    FILTER = "filter"  # the service's filter (and rules) missed: ALLOW without I/O
    STORE = "store"  # the store confirmed a filter hit
    PUBLISHED_RULES = "published_rules"  # the store was unreachable: the service's published rules answered
    LOCAL_MISS = "local_miss"  # the switch's local filter (and rules) missed: ALLOW without a call
    SERVICE = "service"  # the service confirmed a local hit
    SERVICE_CACHED = "service_cached"  # a confirmation from the service, reused while fresh at the same version
    LOCAL_RULES = "local_rules"  # the service was unreachable or too slow: the verified local rules answered


NO_CATEGORIES: Mapping[Category, int] = MappingProxyType({})


class Verdict(NamedTuple):
    """One answer. A NamedTuple: built on every lookup, and cheaper to build than a frozen dataclass."""

    subject: str
    channel: Channel
    action: Action
    source: VerdictSource
    version: int  # the rules version the answer was decided at
    score: int = 0
    categories: Mapping[Category, int] = NO_CATEGORIES
    top_category: Category | None = None
    reasons: tuple[str, ...] = ()
    protected: bool = False
    code: ReasonCode | None = None  # why, machine-readable: set on LABEL and BLOCK
    case_id: str = ""  # the case behind the verdict, for redress


_new_tuple = tuple.__new__

Confirm = Callable[[str, Channel, int], Verdict]
"""``confirm(subject, channel, version)``: the verdict for a filter hit, or raise Unconfirmed."""


def decide(
    subject: str,
    channel: Channel | None,
    protected: ProtectedSet,
    published: RuleIndex,
    flagged: Container[str],
    confirm: Confirm,
    miss: VerdictSource = VerdictSource.FILTER,
    fallback: VerdictSource = VerdictSource.PUBLISHED_RULES,
) -> Verdict:
    """Decide for a normalised ``subject`` (§3): protected → range rule → filter miss → confirm.

    A subject in neither ``flagged`` (the filter) nor the published exact
    rules answers ALLOW from ``miss`` — the hot path, which allocates nothing
    but the returned Verdict. Otherwise ``confirm`` answers; if it raises
    :class:`Unconfirmed`, the published exact rule (or ALLOW) answers from
    ``fallback``.
    """
    ch = channel or default_channel(subject)
    version = published.version
    why = protected.reason(subject)
    if why is not None:
        return Verdict(
            subject, ch, Action.ALLOW, VerdictSource.PROTECTED, version, reasons=(f"protected: {why}",), protected=True
        )
    # published.range_match, inlined: a call costs as much as the probes on the hot path
    if (
        (ranges := published.ranges.get(ch)) is not None
        and (r := ranges.longest(subject)) is not None
        and (r.expires_at is None or r.live(datetime.now(UTC)))
    ):  # a lapsed rule matches nothing
        return Verdict(
            subject,
            ch,
            r.action,
            VerdictSource.RANGE_RULE,
            version,
            top_category=r.category,
            reasons=(r.reason,),
            code=r.code or ReasonCode.RANGE_RULE,
        )
    if subject not in flagged and subject not in published.subjects:
        # Verdict(subject, ch, Action.ALLOW, miss, version), without the NamedTuple's Python-level __new__:
        # the hot path, where that call costs as much as the rest of the decision's own work
        return _new_tuple(
            Verdict, (subject, ch, Action.ALLOW, miss, version, 0, NO_CATEGORIES, None, (), False, None, "")
        )
    try:
        return confirm(subject, ch, version)
    except Unconfirmed:
        exact = published.exact(subject, ch)
        if exact is None:
            return Verdict(subject, ch, Action.ALLOW, fallback, version)
        return Verdict(
            subject,
            ch,
            exact.action,
            fallback,
            version,
            top_category=exact.category,
            reasons=(exact.reason,),
            code=exact.code,
        )


class LookupStore(Protocol):
    """What the lookup engine reads from the store (a narrow view of numrep.store.base.Store)."""

    @property
    def name(self) -> str: ...

    def rules_since(self, since_version: int) -> RulesDelta: ...

    def list_allowlist(self) -> list[AllowlistEntry]: ...

    def latest_filter_snapshot(self) -> FilterSnapshotMeta | None: ...

    def filter_snapshot_data(self, snapshot_id: int) -> bytes: ...

    def get_reputation(self, subject: str) -> Reputation | None: ...


class LookupEngine:
    """Answers lookups from memory, confirming filter hits against the store."""

    def __init__(self, store: LookupStore, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.settings = settings
        self.protected = ProtectedSet(settings.allowlist_extra, settings.region)
        self._published = RuleIndex.build(0, "", {})
        self._filter: FilterSnapshot | EmptyFilter = EmptyFilter()
        self._filter_snapshot_id = 0
        self._cache: TTLCache[str, Reputation | None] = TTLCache(settings.reputation_cache_seconds, clock=clock)
        self._confirm_hit: Confirm = self._confirm  # bound once: the hot path allocates no bound method
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
                self._cache.clear()
                metrics.RULES_VERSION.set(self.version)
                metrics.FILTER_VERSION.set(self.filter_version)
            return changed

    def _unhealthy(self, exc: BaseException) -> None:
        metrics.STORE_ERRORS.labels("lookup").inc()
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
        snapshot = FilterSnapshot.from_bytes(
            meta.version, meta.error_rate, self.store.filter_snapshot_data(meta.snapshot_id)
        )
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
        """Decide for a normalised subject with the state held now."""
        return decide(subject, channel, self.protected, self._published, self._filter, self._confirm_hit)

    def _confirm(self, subject: str, ch: Channel, version: int) -> Verdict:
        """A filter hit: the reputation from the cache, else the store (raising Unconfirmed when it fails)."""
        rep = self._cache.get(subject)
        if rep is MISSING:
            try:
                rep = self.store.get_reputation(subject)
            except Exception as exc:  # any backend failure: fail safe to the published rules
                self._unhealthy(exc)
                raise Unconfirmed(f"the {self.store.name} store cannot confirm {subject}: {exc}") from exc
            self.store_healthy = True
            self._cache.put(subject, rep)
        if rep is None:
            return Verdict(subject, ch, Action.ALLOW, VerdictSource.STORE, version)
        return Verdict(
            subject,
            ch,
            rep.action(ch),
            VerdictSource.STORE,
            version,
            score=rep.score,
            categories=dict(rep.categories),
            top_category=rep.top_category,
            reasons=rep.reasons,
            protected=rep.protected,
            code=rep.codes.get(ch),
            case_id=rep.case_id,
        )
