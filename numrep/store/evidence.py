"""The evidence part of the store interface: call records, trust inputs, honeypots, cases.

:class:`numrep.store.base.Store` inherits these; each backend implements
them beside its core (``sqlite_evidence.py``, ``cassandra_evidence.py``) and
passes the same contract tests (``tests/unit/store/test_evidence_contract.py``).
Every write is keyed so that a retry after a crash is harmless:

* raw call records are idempotent on ``record_id``; folding them into hourly
  aggregates and contacts is atomic, or re-derives whole caller-hours;
* hourly aggregates are keyed by (caller, hour, channel, source) and replaced
  whole, so deriving one again writes the same row;
* hour marks carry a token, like dirty subjects.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

from numrep.models import (
    BlockSwitch,
    CallAggregate,
    CallRecord,
    Complaint,
    ConfirmedFraud,
    Contact,
    Decision,
    Honeypot,
    Outcome,
    ReporterStats,
    ReviewCase,
    ShadowDiff,
)


class EvidenceStore(ABC):
    # ---- call records --------------------------------------------------
    @abstractmethod
    def add_call_records(self, records: Sequence[CallRecord]) -> list[bool]:
        """Store records (first one wins per ``record_id``) for the worker to fold.

        Returns, per record, True if it is new and False if one with the same
        id was stored already.
        """

    @abstractmethod
    def fold_call_records(
        self, limit: int, honeypots: frozenset[str], caller_hash: Callable[[str], str], contacts_cap: int
    ) -> int:
        """Fold stored records not yet folded (about ``limit`` of them) into their hourly aggregates (source
        ``records``, marking the callers dirty) and into the contacts; returns how many (0: none left).

        ``caller_hash`` hashes a caller with the subscriber-number key (contacts
        carry it, so callbacks can be matched); a caller keeps at most
        ``contacts_cap`` distinct callees. A crash at any point leaves the store
        as if the fold had not run, or had run whole: no record counts twice.
        """

    @abstractmethod
    def call_records_in_hour(self, caller: str, hour: datetime) -> list[CallRecord]:
        """Every stored record of ``caller`` that started in the hour beginning at ``hour`` (inspection and
        tests: a backend need not index this)."""

    def prune_call_records(self, before: datetime) -> int:
        """Delete raw records that started before ``before`` and contacts last seen before it; returns how
        many records (aggregates stay).

        Raw records are kept only as long as corroboration and early warning need
        them. Backends with row TTLs may expire them themselves instead.
        """
        raise NotImplementedError(f"{type(self).__name__} does not prune call records")

    @abstractmethod
    def contacts(
        self,
        caller: str,
        since: datetime,
        operator: str | None = None,
        after: tuple[str, str] | None = None,
        limit: int = 1000,
    ) -> list[Contact]:
        """The subscribers ``caller`` reached and last called at or after ``since`` (for early warning), by
        (callee hash, operator), at most ``limit``, starting after ``after`` (the last one of the previous
        page); only through ``operator`` if given."""

    @abstractmethod
    def callbacks(self, subjects: Mapping[str, str], since: datetime, limit: int) -> dict[str, tuple[int, int]]:
        """Per subject (mapped to its subscriber-number hash): (distinct callees it reached since ``since``,
        how many of them called it back after it first reached them). Reads at most ``limit`` contacts each
        way; subjects that reached nobody are left out."""

    @abstractmethod
    def put_call_aggregates(self, aggregates: Sequence[CallAggregate]) -> None:
        """Insert or replace aggregates by (caller, hour, channel, source); marks the callers dirty."""

    @abstractmethod
    def call_aggregates(self, callers: Iterable[str], since: datetime) -> dict[str, list[CallAggregate]]:
        """Aggregates of these callers for hours at or after ``since`` (callers without any are left out)."""

    @abstractmethod
    def contacted(self, caller: str, claims: Sequence[tuple[str, datetime, datetime]]) -> set[int]:
        """Which claims the contacts bear out: indexes ``i`` of ``claims`` = (callee hash, from, to) such
        that ``caller`` reached that callee between ``from`` and ``to`` — as far as its first and last call
        tell (a contact first reached before ``to`` and last after ``from``)."""

    # ---- reporter trust -------------------------------------------------
    @abstractmethod
    def complaints_for_subject(
        self, subject: str, since: datetime, limit: int, until: datetime | None = None
    ) -> tuple[list[Complaint], int]:
        """The latest complaint per reporter about ``subject`` from ``since`` to ``until`` (unbounded if None),
        newest first, at most ``limit``; and how many more distinct reporters there are (counted, not
        returned). ``until`` keeps a replay at ``as_of`` from reading (and being crowded by) later ones."""

    def complaints_for_subjects(
        self, subjects: Sequence[str], since: datetime, limit: int, until: datetime | None = None
    ) -> dict[str, tuple[list[Complaint], int]]:
        """``complaints_for_subject`` for a batch in one call (backends may read the subjects concurrently)."""
        return {s: self.complaints_for_subject(s, since, limit, until) for s in subjects}

    def contacted_many(self, claims: Mapping[str, Sequence[tuple[str, datetime, datetime]]]) -> dict[str, set[int]]:
        """``contacted`` for a batch of callers in one call."""
        return {caller: self.contacted(caller, c) for caller, c in claims.items() if c}

    @abstractmethod
    def reporter_stats(self, moments: Mapping[str, datetime]) -> dict[str, ReporterStats]:
        """Per reporter hash: first seen (earliest ``received_at`` of its reports: server time, which a client
        cannot backdate), the distinct
        subjects it reported in the 24 hours up to the given moment, and its recorded outcomes."""

    @abstractmethod
    def record_outcome(self, subject: str, outcome: Outcome, reporters: Sequence[str], at: datetime) -> None:
        """Record that ``subject``, reported by ``reporters``, was confirmed or cleared (idempotent per
        reporter, subject and outcome)."""

    @abstractmethod
    def subjects_reported_by(self, reporters: Iterable[str], since: datetime, limit: int) -> list[str]:
        """Distinct subjects these reporters reported since ``since``, at most ``limit`` (their trust changed)."""

    # ---- honeypots ------------------------------------------------------
    @abstractmethod
    def add_honeypot(self, honeypot: Honeypot) -> Honeypot:
        """Add (or keep) a honeypot; returns the stored one."""

    @abstractmethod
    def remove_honeypot(self, number: str) -> Honeypot | None:
        """Remove a honeypot; returns it, or None if it was not one."""

    @abstractmethod
    def honeypots(self) -> list[Honeypot]:
        """Every honeypot, sorted by number."""

    # ---- authoritative evidence and review ----------------------------
    @abstractmethod
    def confirm_fraud(self, entry: ConfirmedFraud) -> None:
        """Insert or replace the confirmation of a subject and mark it dirty."""

    @abstractmethod
    def confirmed_fraud(self, subjects: Iterable[str]) -> dict[str, ConfirmedFraud]:
        """The confirmations of these subjects (expired ones included; scoring checks expiry)."""

    @abstractmethod
    def open_case(self, case: ReviewCase) -> bool:
        """Open a case unless one with its id is open already; True if opened."""

    @abstractmethod
    def decide_case(
        self, case_id: str, decision: Decision, actor: str, reason: str, at: datetime, expires_at: datetime | None
    ) -> ReviewCase:
        """Decide an open case (NotFound if absent, Conflict if decided) and mark its subject dirty.
        The decided case keeps its history under ``<case id>@<decided at>``; the id is free again."""

    @abstractmethod
    def review_cases(self, state: str = "open", limit: int = 100) -> list[ReviewCase]:
        """Cases by state ("open", "decided", "all"), oldest first."""

    @abstractmethod
    def case_decisions(self, subjects: Iterable[str]) -> dict[str, list[ReviewCase]]:
        """The decided cases of these subjects, oldest decision first."""

    @abstractmethod
    def put_shadow_diffs(self, diffs: Sequence[ShadowDiff], agreeing: Iterable[str]) -> None:
        """Record where shadow scoring differs (replacing a subject's earlier difference) and forget the
        subjects on which v1 and v2 now agree."""

    @abstractmethod
    def shadow_diffs(self, limit: int) -> list[ShadowDiff]:
        """Recorded differences, by subject, at most ``limit``."""

    @abstractmethod
    def get_block_switch(self) -> BlockSwitch:
        """The platform-wide BLOCK→LABEL switch (off when never set)."""

    @abstractmethod
    def set_block_switch(self, switch: BlockSwitch) -> None:
        """Set the switch (the caller queues the rescoring of flagged subjects)."""
