"""The store interface every backend implements, and the algorithms written once over it.

Backends live beside this module (``sqlite.py``, ``cassandra.py``) and pass
one contract suite (``tests/unit/store/test_contract.py``). Methods that
every backend must have are abstract; optional capabilities (the regulator's
side: publications, the registry, complaint handling; pruning snapshots)
raise ``NotImplementedError`` naming the class. Everything is keyed so that
retrying a call after a crash is harmless:

* reports are append-only and idempotent on ``report_id``; accepting a report
  and marking its subject dirty happen together;
* dirty marks carry a token, and clearing one only removes it if the subject
  was not marked again meanwhile; the queue has two lanes (fresh evidence
  ahead of bulk backlog rescoring) and is read in bounded pages;
* rule publication is one atomic step to a new version, with its checksum.

The rules feed (§4) is written here once, as template methods:
:meth:`Store.publish_rules` (what really changes, the next version, the log,
the checksum) and :meth:`Store.rules_since` (the log collapsed into a delta,
or a full snapshot). Backends supply the small primitives they run on
(``_latest_version``, ``_read_rules``, ``_append_log``, …).

Reads that scoring and publication make per subject come in batches
(:meth:`Store.reports_for_subjects`, :meth:`Store.get_reputations`,
:meth:`Store.port_blacklist`, :meth:`Store.active_rules`): one call per batch
of subjects, never one round trip per subject.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from itertools import islice
from typing import TypeVar

from numrep.models import (
    Allocation,
    AllowlistEntry,
    ApiKey,
    CaseEvent,
    DirtyMark,
    FilterSnapshotMeta,
    Lane,
    PortBlacklistEntry,
    Report,
    ReportSummary,
    Reputation,
    Rule,
    RulesDelta,
)
from numrep.rules import apply_delta, canonical_checksum, effective_changes
from numrep.store.cards import CardStore
from numrep.store.codec import LogEntry, to_micros
from numrep.store.evidence import EvidenceStore
from numrep.store.privacy import PrivacyStore
from numrep.store.redress import RedressStore

IMPORT_BATCH = 5000  # entries of an import applied per step (add_port_blacklist, put_allocations)
_T = TypeVar("_T")


def batches(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    """``items`` in lists of at most ``size`` (an import's staged entries, read as a stream)."""
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def collapse_log(entries: Iterable[LogEntry]) -> tuple[tuple[Rule, ...], tuple[str, ...]]:
    """Collapse rule-log entries (in version order) into (added, removed), each sorted by rule id.

    The last entry of a rule wins: added then removed is a removal, removed
    then added an addition.
    """
    last: dict[str, LogEntry] = {}
    for e in entries:
        last[e.rule_id] = e
    added = tuple(e.rule for _, e in sorted(last.items()) if e.rule is not None)
    removed = tuple(rid for rid, e in sorted(last.items()) if e.rule is None)
    return added, removed


class Store(EvidenceStore, RedressStore, CardStore, PrivacyStore):
    """Persistent state of numrep (the evidence part: ``numrep.store.evidence``; disputes: ``numrep.store.redress``;
    real-name cards: ``numrep.store.cards``; retention and deletion: ``numrep.store.privacy``)."""

    #: Backend name, as in the ``store`` setting.
    name: str = "abstract"
    #: Versions of the rule log kept for deltas.
    keep_versions: int = 10_000
    #: The most versions one delta spans (None: all the log keeps). Beyond it a
    #: client gets a full snapshot: a backend that reads the log per version
    #: (Cassandra) must bound what one cheap call can cost.
    max_delta_versions: int | None = None
    #: Whether publishers may reuse the rule set they published last (when the
    #: version shows nobody published since) instead of reading every rule again.
    cache_published_rules: bool = False
    _published: tuple[int, dict[str, Rule]] | None = None

    def _unsupported(self, what: str) -> NotImplementedError:
        return NotImplementedError(f"{type(self).__name__} does not support {what}")

    @abstractmethod
    def migrate(self) -> None:
        """Create or upgrade the schema. Safe to call any number of times."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    # ---- reports ---------------------------------------------------------
    @abstractmethod
    def add_reports(self, reports: Sequence[Report]) -> list[bool]:
        """Store reports and mark their subjects dirty, atomically per report.

        Returns, per report, True if it is new and False if a report with the
        same ``report_id`` was already stored (that one is kept unchanged).
        """

    @abstractmethod
    def reports_for_subjects(self, subjects: Iterable[str], since: datetime) -> dict[str, list[Report]]:
        """Per subject, its reports whose ``occurred_at`` is at or after ``since``, by (occurred_at, report_id).

        Every subject asked for is a key (with an empty list if it has none).
        """

    def reports_for_subject(self, subject: str, since: datetime) -> list[Report]:
        """Reports about ``subject`` whose ``occurred_at`` is at or after ``since`` (a batch of one)."""
        return self.reports_for_subjects([subject], since)[subject]

    # ---- dirty subjects: the rescoring queue, in two lanes ------------------------
    @abstractmethod
    def mark_dirty(self, subjects: Iterable[str], lane: Lane = Lane.FRESH) -> None:
        """Ask for these subjects to be rescored, in ``lane`` (bulk callers pass ``Lane.BACKLOG``).

        A subject marked again while it is being processed stays dirty: the
        new mark is a new entry that a clear of the old one cannot remove.
        """

    @abstractmethod
    def dirty_subjects(self, limit: int) -> list[DirtyMark]:
        """Up to ``limit`` distinct subjects waiting to be rescored: the fresh lane first, then the
        backlog, each oldest first. Reads are bounded (paged), never a scan of the whole queue."""

    @abstractmethod
    def clear_dirty(self, marks: Iterable[DirtyMark]) -> None:
        """Clear exactly these marks (a subject marked again meanwhile stays dirty)."""

    @abstractmethod
    def defer_dirty(self, marks: Iterable[DirtyMark]) -> None:
        """Move these marks to the backlog with one more failed attempt each (a subject whose
        rescore failed must not hold up the queue); a re-mark meanwhile is kept as it is."""

    # ---- reputations ----------------------------------------------------
    @abstractmethod
    def put_reputations(self, reputations: Sequence[Reputation]) -> None:
        """Insert or replace reputations."""

    @abstractmethod
    def get_reputation(self, subject: str) -> Reputation | None:
        """The reputation of ``subject``, or None if it was never scored (the lookup path's read)."""

    @abstractmethod
    def get_reputations(self, subjects: Iterable[str]) -> dict[str, Reputation]:
        """The reputations of these subjects (subjects never scored are left out)."""

    @abstractmethod
    def flagged_subjects(self) -> list[str]:
        """Subjects whose reputation has a non-ALLOW action on some channel."""

    # ---- rules: the algorithms ----------------------------------------------
    def rules_version(self) -> int:
        """The latest published rules version (0 before the first)."""
        return self._latest_version()[0]

    @abstractmethod
    def active_rules(self, subjects: Iterable[str] | None = None) -> dict[str, Rule]:
        """Active rules at the latest version, all or only those for ``subjects``."""

    def publish_rules(self, upserts: Sequence[Rule], removed: Sequence[str], created_at: datetime) -> int | None:
        """Publish a new version with these changes; return it, or None if they change nothing.

        Removing an id that is not active and upserting a rule identical to
        the active one are no-ops, so a retried publication does not create
        an empty version. The log is written before the rules and the version
        row last: a version is visible only once complete.
        """
        with self._publishing():
            current_version = self._latest_version()[0]
            current = self._rules_for_publication(current_version)
            real_upserts, real_removed = effective_changes(current, upserts, removed)
            if not real_upserts and not real_removed:
                self._remember_published(current_version, current)
                return None
            version = current_version + 1
            removed_rules = [current[rid] for rid in real_removed]
            self._append_log(version, real_upserts, real_removed)
            self._apply_rules(version, real_upserts, removed_rules)
            apply_delta(current, real_upserts, real_removed)
            checksum = canonical_checksum(current.values())
            self._write_version(version, created_at, checksum, len(real_upserts), len(real_removed))
            self._prune_log(version)
            self._remember_published(version, current)
            return version

    def rules_since(self, since_version: int) -> RulesDelta:
        """A delta from ``since_version`` to the latest, or a full snapshot.

        A full snapshot is returned when ``since_version`` is 0, newer than the
        latest, older than the retained log (or the log it needs has a gap), or
        more than ``max_delta_versions`` behind.
        """
        with self._reading_rules():
            version, checksum = self._latest_version()
            if 0 < since_version == version:
                return RulesDelta(version, since_version, False, (), (), checksum)
            if (
                0 < since_version < version
                and self.delta_reaches(since_version, version)
                and since_version >= self._oldest_delta_base(version)
            ):
                entries = self._read_log(since_version, version)
                if {e.version for e in entries} == set(range(since_version + 1, version + 1)):
                    added, removed = collapse_log(entries)
                    return RulesDelta(version, since_version, False, added, removed, checksum)
            rules = self._read_rules()
            return RulesDelta(version, 0, True, tuple(sorted(rules.values(), key=lambda r: r.rule_id)), (), checksum)

    def rules_head(self) -> tuple[int, str]:
        """(version, checksum) of the latest published version: one small read."""
        return self._latest_version()

    def delta_reaches(self, since_version: int, latest: int) -> bool:
        """Whether a delta may span ``since_version`` to ``latest`` (the log may still have been pruned)."""
        return self.max_delta_versions is None or latest - since_version <= self.max_delta_versions

    # ---- the feed epoch ----------------------------------------------------
    def feed_epoch(self) -> int:
        """The current feed epoch (microseconds since the Unix epoch when it began).

        The first call on a store that has none (a new store, or one written
        before epochs existed) begins one.
        """
        epoch = self._read_epoch()
        return epoch if epoch is not None else self.start_feed_epoch(datetime.now(UTC), only_if_none=True)

    def start_feed_epoch(self, at: datetime, only_if_none: bool = False) -> int:
        """Begin a new feed epoch, later than any before; returns it.

        Run it after restoring the store from a backup (``numrep epoch new``):
        clients then take the restored rule set as a full snapshot instead of
        refusing its lower version. The latest version's checksum is derived
        again from the active rules (the canonical form may have changed since
        it was written). ``only_if_none``: keep an epoch another process began.
        """
        with self._publishing():
            old = self._read_epoch()
            if old is not None and only_if_none:
                return old
            epoch = max(to_micros(at) or 0, (old or 0) + 1)
            version, checksum = self._latest_version()
            if version:
                fresh = canonical_checksum(self._read_rules().values())
                if fresh != checksum:
                    self._rewrite_checksum(version, fresh)
            self._write_epoch(epoch)
            return epoch

    def _rules_for_publication(self, version: int) -> dict[str, Rule]:
        published = self._published
        if self.cache_published_rules and published is not None and published[0] == version:
            return dict(published[1])
        return self._read_rules()

    def _remember_published(self, version: int, rules: dict[str, Rule]) -> None:
        if self.cache_published_rules:
            self._published = (version, rules)

    # ---- rules: the primitives each backend supplies -------------------------------
    @abstractmethod
    def _publishing(self) -> AbstractContextManager[None]:
        """One publisher at a time (across processes); atomic where the backend has transactions."""

    @abstractmethod
    def _reading_rules(self) -> AbstractContextManager[None]:
        """One consistent view of versions, log and rules where the backend offers one."""

    @abstractmethod
    def _latest_version(self) -> tuple[int, str]:
        """(version, checksum) of the latest published version; (0, EMPTY_CHECKSUM) before the first."""

    @abstractmethod
    def _read_rules(self) -> dict[str, Rule]:
        """Every active rule, by id."""

    @abstractmethod
    def _append_log(self, version: int, upserts: Sequence[Rule], removed: Sequence[str]) -> None:
        """Write the log rows of ``version`` (replacing any a crashed publisher left)."""

    @abstractmethod
    def _apply_rules(self, version: int, upserts: Sequence[Rule], removed: Sequence[Rule]) -> None:
        """Write ``upserts`` (tagged with ``version``) to the active rules and delete ``removed``."""

    @abstractmethod
    def _write_version(self, version: int, created_at: datetime, checksum: str, added: int, removed: int) -> None:
        """Record ``version`` as published (it becomes the latest)."""

    @abstractmethod
    def _prune_log(self, version: int) -> None:
        """Drop log rows beyond ``keep_versions`` behind ``version``."""

    @abstractmethod
    def _oldest_delta_base(self, latest: int) -> int:
        """The oldest ``since_version`` whose delta to ``latest`` the retained log can give."""

    @abstractmethod
    def _read_log(self, since: int, until: int) -> list[LogEntry]:
        """Log entries of versions ``since`` < v <= ``until``, in version order."""

    @abstractmethod
    def _read_epoch(self) -> int | None:
        """The stored feed epoch, or None if none was begun."""

    @abstractmethod
    def _write_epoch(self, epoch: int) -> None:
        """Store the feed epoch (called inside ``_publishing``)."""

    @abstractmethod
    def _rewrite_checksum(self, version: int, checksum: str) -> None:
        """Replace the recorded checksum of a published ``version`` (called inside ``_publishing``)."""

    # ---- SMS-port blacklist ---------------------------------------------
    @abstractmethod
    def add_port_blacklist(self, entries: Iterable[PortBlacklistEntry]) -> int:
        """Insert or update entries (keyed by port) and mark changed ports dirty.

        Returns how many were new or changed; re-importing the same entries
        returns 0. ``entries`` is consumed in batches (an import streams them
        from its staging file); the SQLite store applies a call in one transaction.
        """

    @abstractmethod
    def port_blacklist(self, ports: Iterable[str]) -> dict[str, PortBlacklistEntry]:
        """The blacklist entries of these ports (absent ports are left out)."""

    # ---- API keys ---------------------------------------------------------
    @abstractmethod
    def put_api_key(self, key: ApiKey) -> None:
        """Insert or replace a key (by hash)."""

    @abstractmethod
    def get_api_key(self, key_hash: str) -> ApiKey | None:
        """The key with this hash, or None."""

    @abstractmethod
    def list_api_keys(self) -> list[ApiKey]:
        """Every key, by operator then hash."""

    # ---- allowlist ------------------------------------------------------
    @abstractmethod
    def add_allowlist(self, entry: AllowlistEntry) -> AllowlistEntry:
        """Add (or keep) an entry and mark the subject dirty; returns the stored entry."""

    @abstractmethod
    def remove_allowlist(self, subject: str) -> bool:
        """Remove an entry and mark the subject dirty; False if absent."""

    @abstractmethod
    def list_allowlist(self) -> list[AllowlistEntry]:
        """All entries, sorted by subject."""

    # ---- filter snapshots ----------------------------------------------
    @abstractmethod
    def put_filter_snapshot(
        self, version: int, count: int, capacity: int, error_rate: float, data: bytes, created_at: datetime
    ) -> FilterSnapshotMeta:
        """Store a serialized filter built for rules ``version``."""

    @abstractmethod
    def latest_filter_snapshot(self) -> FilterSnapshotMeta | None:
        """The newest snapshot's metadata (highest version, then newest build)."""

    @abstractmethod
    def filter_snapshot_data(self, snapshot_id: int) -> bytes:
        """The serialized filter of a snapshot; NotFound if it was pruned."""

    # ---- optional capabilities ---------------------------------------------
    def prune_filter_snapshots(self, keep: int) -> int:
        """Drop all but the newest ``keep`` snapshots; returns how many were dropped."""
        raise self._unsupported("pruning filter snapshots")

    def report_summaries(self, start: date, end: date) -> Iterator[ReportSummary]:
        """Reports received on UTC days ``start`` <= day < ``end`` (any order); for publications."""
        raise self._unsupported("scanning reports by day")

    def list_port_blacklist(self) -> list[PortBlacklistEntry]:
        """Every blacklisted port, sorted by port (for publications)."""
        raise self._unsupported("listing the SMS-port blacklist")

    def put_allocations(self, allocations: Iterable[Allocation]) -> int:
        """Insert or update range allocations (keyed by prefix), consumed in batches; returns how many were new or changed."""
        raise self._unsupported("the number-resource registry")

    def allocations(self) -> list[Allocation]:
        """Every allocation, sorted by prefix (the registry is small: thousands of ranges)."""
        raise self._unsupported("the number-resource registry")

    def get_report(self, report_id: str) -> ReportSummary | None:
        """One report's summary by id, or None (complaint handling)."""
        raise self._unsupported("complaint handling")

    def add_case_event(self, event: CaseEvent) -> CaseEvent:
        """Record a holder's step on a complaint; the first event of a step wins and is returned."""
        raise self._unsupported("complaint handling")

    def case_events(self, report_ids: Iterable[str]) -> list[CaseEvent]:
        """The recorded steps of these complaints."""
        raise self._unsupported("complaint handling")
