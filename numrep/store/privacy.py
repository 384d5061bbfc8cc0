"""The privacy part of the store interface: retention and deletion on request.

:class:`numrep.store.base.Store` inherits these. The algorithms are written
once here (:meth:`PrivacyStore.delete_reporter`, :meth:`PrivacyStore.prune_reports`);
each backend supplies the primitives beside its core (``sqlite_privacy.py``,
``cassandra_privacy.py``) and passes the same contract tests
(``tests/unit/store/test_privacy_contract.py``).

A report is deleted together with every row derived from it (on Cassandra:
``reports_by_id``, ``reports_by_subject``, ``reports_by_day``,
``reports_by_reporter``; on both: its complaint-handling steps), and its
subject is marked dirty in the same step, so the score it fed is recomputed.
The row a deletion finds its reports by is deleted last: a crash midway
leaves reports that the same call, run again, finds and finishes. Reporter
hashes only ever reach this module: the raw id is hashed by the caller
(``numrep.privacy.keyed_hash``) before any lookup.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ReportKey:
    """What it takes to find every row of one report (``received_at`` None: unknown, in rows older than it)."""

    report_id: str
    subject: str
    occurred_at: datetime | None
    received_at: datetime | None


@dataclass(slots=True)
class Removal:
    """What a deletion or a prune removed: counts per kind, and the subjects whose scores it changed."""

    reports: int = 0
    case_events: int = 0
    outcomes: int = 0
    subjects: set[str] = field(default_factory=set)

    def add(self, reports: int, case_events: int, subjects: set[str]) -> None:
        self.reports += reports
        self.case_events += case_events
        self.subjects |= subjects


class PrivacyStore(ABC):
    # ---- the algorithms ------------------------------------------------------
    def delete_reporter(self, reporter_hash: str, batch: int = 500) -> Removal:
        """Delete every report of ``reporter_hash`` (its derived rows and complaint steps) and its trust rows.

        The subjects of the deleted reports are marked dirty (their scores are
        recomputed). Idempotent: a reporter with nothing stored (unknown, or
        deleted already) yields an empty Removal, and a run that died midway
        is finished by running it again.
        """
        removal = Removal()
        while keys := self._reports_of_reporter(reporter_hash, batch):
            removal.add(*self._delete_reports([(reporter_hash, k) for k in keys]))
        removal.outcomes = self._delete_reporter_outcomes(reporter_hash)
        return removal

    def prune_reports(self, before: datetime, limit: int) -> Removal:
        """Delete up to ``limit`` reports received before ``before`` (one bounded step) and mark their subjects dirty.

        Call it until it removes nothing. Backends that expire reports by TTL
        (Cassandra) still run it: TTLs cannot mark the subjects dirty.
        """
        removal = Removal()
        found = self._reports_received_before(before, limit)
        if found:
            removal.add(*self._delete_reports(found))
        return removal

    # ---- the primitives each backend supplies -------------------------------
    @abstractmethod
    def _reports_of_reporter(self, reporter_hash: str, limit: int) -> list[ReportKey]:
        """Up to ``limit`` reports of this reporter."""

    @abstractmethod
    def _reports_received_before(self, before: datetime, limit: int) -> list[tuple[str, ReportKey]]:
        """Up to ``limit`` (reporter hash, report) received before ``before`` (reporter hash "" if unknown)."""

    @abstractmethod
    def _delete_reports(self, reports: Sequence[tuple[str, ReportKey]]) -> tuple[int, int, set[str]]:
        """Delete these (reporter hash, report) with their derived rows; mark their subjects dirty first.

        Returns (reports deleted, complaint steps deleted, subjects marked).
        """

    @abstractmethod
    def _delete_reporter_outcomes(self, reporter_hash: str) -> int:
        """Delete the reporter's trust rows (outcomes of the subjects it reported); returns how many."""

    @abstractmethod
    def prune_report_texts(self, before: datetime, limit: int) -> int:
        """Blank up to ``limit`` report texts received before ``before``; returns how many (call until 0)."""

    @abstractmethod
    def prune_dispute_statements(self, before: datetime, limit: int) -> int:
        """Blank up to ``limit`` owners' statements of closed disputes filed before ``before``; returns how many.

        The dispute itself (its states, times and the decision) stays for the SLA report.
        """
