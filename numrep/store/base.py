"""The store interface every backend implements.

Backends live beside this module (``sqlite.py``, later ``cassandra.py``) and
pass one contract suite (``tests/unit/store/test_contract.py``). Methods that
every backend must have are abstract; everything is keyed so that retrying a
call after a crash is harmless:

* reports are append-only and idempotent on ``report_id``; accepting a report
  and marking its subject dirty happen together;
* dirty marks carry a token, and clearing one only removes it if the subject
  was not marked again meanwhile;
* rule publication is one atomic step to a new version, with its checksum.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime

from numrep.models import (
    Allocation,
    ApiKey,
    CaseEvent,
    AllowlistEntry,
    DirtyMark,
    FilterSnapshotMeta,
    PortBlacklistEntry,
    Report,
    ReportSummary,
    Reputation,
    Rule,
    RulesDelta,
)
from numrep.store.evidence import EvidenceStore


class Store(EvidenceStore):
    """Persistent state of numrep (the evidence part: ``numrep.store.evidence``)."""

    #: Backend name, as in the ``store`` setting.
    name: str = "abstract"

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
    def reports_for_subject(self, subject: str, since: datetime) -> list[Report]:
        """Reports about ``subject`` whose ``occurred_at`` is at or after ``since``."""

    @abstractmethod
    def report_summaries(self, start: date, end: date) -> Iterator[ReportSummary]:
        """Reports received on UTC days ``start`` <= day < ``end`` (any order)."""

    @abstractmethod
    def count_reports(self) -> int:
        """How many distinct reports are stored."""

    # ---- dirty subjects -------------------------------------------------
    @abstractmethod
    def mark_dirty(self, subjects: Iterable[str]) -> None:
        """Ask for these subjects to be rescored."""

    @abstractmethod
    def dirty_subjects(self, limit: int) -> list[DirtyMark]:
        """Up to ``limit`` subjects waiting to be rescored, oldest first."""

    @abstractmethod
    def clear_dirty(self, marks: Iterable[DirtyMark]) -> None:
        """Clear marks whose token is unchanged (a subject marked again stays dirty)."""

    # ---- reputations ----------------------------------------------------
    @abstractmethod
    def put_reputations(self, reputations: Sequence[Reputation]) -> None:
        """Insert or replace reputations."""

    @abstractmethod
    def get_reputation(self, subject: str) -> Reputation | None:
        """The reputation of ``subject``, or None if it was never scored."""

    @abstractmethod
    def flagged_subjects(self) -> list[str]:
        """Subjects whose reputation has a non-ALLOW action on some channel."""

    # ---- rules ----------------------------------------------------------
    @abstractmethod
    def rules_version(self) -> int:
        """The latest published rules version (0 before the first)."""

    @abstractmethod
    def active_rules(self, subjects: Iterable[str] | None = None) -> dict[str, Rule]:
        """Active rules at the latest version, all or only those for ``subjects``."""

    @abstractmethod
    def publish_rules(self, upserts: Sequence[Rule], removed: Sequence[str], created_at: datetime) -> int | None:
        """Publish a new version with these changes; return it, or None if they change nothing.

        Removing an id that is not active and upserting a rule identical to
        the active one are no-ops, so a retried publication does not create
        an empty version.
        """

    @abstractmethod
    def rules_since(self, since_version: int) -> RulesDelta:
        """A delta from ``since_version`` to the latest, or a full snapshot.

        A full snapshot is returned when ``since_version`` is 0, newer than the
        latest, or older than the retained log.
        """

    # ---- SMS-port blacklist ---------------------------------------------
    @abstractmethod
    def add_port_blacklist(self, entries: Sequence[PortBlacklistEntry]) -> int:
        """Insert or update entries (keyed by port) and mark changed ports dirty.

        Returns how many were new or changed; re-importing the same entries
        returns 0. The SQLite store applies a call in one transaction.
        """

    @abstractmethod
    def port_blacklist(self, ports: Iterable[str]) -> dict[str, PortBlacklistEntry]:
        """The blacklist entries of these ports (absent ports are left out)."""

    @abstractmethod
    def count_port_blacklist(self) -> int:
        """How many ports are blacklisted."""

    @abstractmethod
    def list_port_blacklist(self) -> list[PortBlacklistEntry]:
        """Every blacklisted port, sorted by port (for publications)."""

    # ---- number-resource registry ----------------------------------------
    @abstractmethod
    def put_allocations(self, allocations: Sequence[Allocation]) -> int:
        """Insert or update range allocations (keyed by prefix); returns how many were new or changed."""

    @abstractmethod
    def allocations(self) -> list[Allocation]:
        """Every allocation, sorted by prefix (the registry is small: thousands of ranges)."""

    # ---- complaint handling -----------------------------------------------
    @abstractmethod
    def get_report(self, report_id: str) -> ReportSummary | None:
        """One report's summary by id, or None."""

    @abstractmethod
    def add_case_event(self, event: CaseEvent) -> CaseEvent:
        """Record a holder's step on a complaint; the first event of a step wins and is returned."""

    @abstractmethod
    def case_events(self, report_ids: Iterable[str]) -> list[CaseEvent]:
        """The recorded steps of these complaints."""

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

    def prune_filter_snapshots(self, keep: int) -> int:
        """Drop all but the newest ``keep`` snapshots; returns how many were dropped."""
        raise NotImplementedError(f"{type(self).__name__} does not prune filter snapshots")
