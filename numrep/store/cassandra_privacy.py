"""The Cassandra store's retention and deletion primitives (see ``numrep.store.privacy``).

Retention is a write TTL taken from the settings, counted from a report's
receipt (``report_ttl``): ``reports_by_id``, ``reports_by_subject`` and
``reports_by_reporter`` expire exactly at ``report_retention_days``, a kept
text at ``report_text_retention_days``. ``reports_by_day`` (subject, category
and channel, never the reporter) lives ``GRACE_DAYS`` longer: it is how the
prune task finds the subjects whose reports expired, to mark them dirty —
the one thing a TTL cannot do — before deleting it.

No multi-row transactions: a deletion marks the subjects dirty first, then
deletes the derived rows, and the row it found the reports by last, so a
run that died midway is finished by running it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from numrep.models import DisputeState
from numrep.store.cassandra_session import CassandraSession
from numrep.store.codec import from_micros, to_micros
from numrep.store.privacy import PrivacyStore, ReportKey

GRACE_DAYS = 2  # reports_by_day outlives the reports by this much, for the prune task to find them
MAX_TTL_SECONDS = 630_720_000  # Cassandra's limit (20 years)
DAY_SHARDS = 16  # = numrep.store.cassandra.SHARDS (reports_by_day partitions per day)

SELECT_OF_REPORTER = (
    "SELECT occurred_at, report_id, subject, received_at FROM reports_by_reporter WHERE reporter_hash = ? LIMIT ?"
)
SELECT_BY_ID = (
    "SELECT report_id, reporter_hash, subject, occurred_at, received_at FROM reports_by_id WHERE report_id = ?"
)
SELECT_OF_DAY = "SELECT report_id, subject, received_at FROM reports_by_day WHERE day = ? AND shard = ?"
SELECT_STEPS = "SELECT step FROM case_events WHERE report_id = ?"
SELECT_OUTCOMES_OF = "SELECT outcome FROM reporter_outcomes WHERE reporter_hash = ?"
DELETE_STEPS = "DELETE FROM case_events WHERE report_id = ?"
DELETE_BY_SUBJECT = "DELETE FROM reports_by_subject WHERE subject = ? AND day = ? AND occurred_at = ? AND report_id = ?"
DELETE_BY_ID = "DELETE FROM reports_by_id WHERE report_id = ?"
DELETE_BY_DAY = "DELETE FROM reports_by_day WHERE day = ? AND shard = ? AND report_id = ?"
DELETE_BY_REPORTER = "DELETE FROM reports_by_reporter WHERE reporter_hash = ? AND occurred_at = ? AND report_id = ?"
DELETE_OUTCOMES = "DELETE FROM reporter_outcomes WHERE reporter_hash = ?"
SELECT_DISPUTES_OF_MONTH = "SELECT dispute_id FROM disputes_by_month WHERE month = ? AND filed_at < ?"
SELECT_DISPUTE_STATEMENT = "SELECT dispute_id, state, statement FROM disputes WHERE dispute_id = ?"
BLANK_STATEMENT = "UPDATE disputes SET statement = '' WHERE dispute_id = ?"
STATEMENT_LOOKBACK_MONTHS = 13  # months before the cut-off a run scans (older ones were blanked by earlier runs)


def ttl_seconds(days: float, since: datetime, now: datetime) -> int:
    """A write TTL that ends ``days`` after ``since`` (at least 1 s: Cassandra has no zero TTL on a write)."""
    remaining = timedelta(days=days) - (now - since)
    return max(1, min(MAX_TTL_SECONDS, int(remaining.total_seconds())))


def _day(dt: datetime) -> date:
    return dt.astimezone(UTC).date()


class CassandraPrivacy(CassandraSession, PrivacyStore):
    """Mixed into CassandraStore, whose session helpers it uses."""

    # ---- TTLs of writes --------------------------------------------------
    def report_ttl(self, received_at: datetime, now: datetime | None = None) -> int:
        """Seconds a report received at ``received_at`` still has to live."""
        return ttl_seconds(self.settings.report_retention_days, received_at, now or datetime.now(UTC))

    def report_text_ttl(self, received_at: datetime, now: datetime | None = None) -> int:
        return ttl_seconds(self.settings.report_text_retention_days, received_at, now or datetime.now(UTC))

    def report_index_ttl(self, received_at: datetime, now: datetime | None = None) -> int:
        """The TTL of ``reports_by_day``: the report's, plus the grace the prune task needs."""
        return ttl_seconds(self.settings.report_retention_days + GRACE_DAYS, received_at, now or datetime.now(UTC))

    # ---- the primitives ------------------------------------------------------
    def _reports_of_reporter(self, reporter_hash: str, limit: int) -> list[ReportKey]:
        rows = self._exec(SELECT_OF_REPORTER, (reporter_hash, limit))
        return [
            ReportKey(r["report_id"], r["subject"], from_micros(r["occurred_at"]), from_micros(r["received_at"]))
            for r in rows
        ]

    def _reports_received_before(self, before: datetime, limit: int) -> list[tuple[str, ReportKey]]:
        """The reports of the days just before ``before``, from ``reports_by_day`` (older ones are gone by TTL)."""
        last = _day(before)
        days = [last - timedelta(days=i) for i in range(GRACE_DAYS + 1)]
        found: list[dict[str, Any]] = []
        for part in self._many(SELECT_OF_DAY, [(d, s) for d in days for s in range(DAY_SHARDS)]):
            found += (r for r in part if r["received_at"] is not None and r["received_at"] < to_micros(before))
        found = sorted(found, key=lambda r: (r["received_at"], r["report_id"]))[:limit]
        stored = {
            row["report_id"]: row
            for part in self._many(SELECT_BY_ID, [(r["report_id"],) for r in found])
            for row in part
        }
        out = []
        for r in found:
            full = stored.get(r["report_id"])  # None once the report itself expired: only the index is left
            out.append(
                (
                    full["reporter_hash"] if full else "",
                    ReportKey(
                        r["report_id"],
                        r["subject"],
                        from_micros(full["occurred_at"]) if full else None,
                        from_micros(r["received_at"]),
                    ),
                )
            )
        return out

    def _delete_reports(self, reports: Sequence[tuple[str, ReportKey]]) -> tuple[int, int, set[str]]:
        keys = [k for _, k in reports]
        subjects = {k.subject for k in keys}
        self.mark_dirty(sorted(subjects))  # first: whatever happens next, the scores are recomputed
        unknown = [k.report_id for k in keys if k.received_at is None]
        received = {
            row["report_id"]: from_micros(row["received_at"])
            for part in self._many(SELECT_BY_ID, [(rid,) for rid in unknown])
            for row in part
        }
        ids = [(k.report_id,) for k in keys]
        steps = sum(len(part) for part in self._many(SELECT_STEPS, ids))
        self._many(DELETE_STEPS, ids)
        self._many(
            DELETE_BY_SUBJECT,
            [
                (k.subject, _day(k.occurred_at), to_micros(k.occurred_at), k.report_id)
                for k in keys
                if k.occurred_at is not None
            ],
        )
        self._many(DELETE_BY_ID, ids)
        # Last, the rows deletions find reports by (a retry finds what a crash left).
        by_day = [(k.report_id, k.received_at or received.get(k.report_id)) for k in keys]
        self._many(DELETE_BY_DAY, [(_day(at), _shard(rid), rid) for rid, at in by_day if at is not None])
        self._many(
            DELETE_BY_REPORTER,
            [
                (reporter_hash, to_micros(k.occurred_at), k.report_id)
                for reporter_hash, k in reports
                if reporter_hash and k.occurred_at is not None
            ],
        )
        return len(keys), steps, subjects

    def _delete_reporter_outcomes(self, reporter_hash: str) -> int:
        n = len(self._exec(SELECT_OUTCOMES_OF, (reporter_hash,)))
        if n:
            self._exec(DELETE_OUTCOMES, (reporter_hash,))
        return n

    def prune_report_texts(self, before: datetime, limit: int) -> int:
        """Kept texts expire by their own write TTL (``report_text_ttl``): nothing to blank here."""
        return 0

    def prune_dispute_statements(self, before: datetime, limit: int) -> int:
        """No TTL fits (a statement's time starts when its dispute closes): the months before the cut-off are read."""
        y, m = before.astimezone(UTC).year, before.astimezone(UTC).month
        months = []
        for _ in range(STATEMENT_LOOKBACK_MONTHS):
            months.append(y * 100 + m)
            y, m = (y, m - 1) if m > 1 else (y - 1, 12)
        ids = [
            row["dispute_id"]
            for part in self._many(SELECT_DISPUTES_OF_MONTH, [(mo, to_micros(before)) for mo in months])
            for row in part
        ]
        rows = [row for part in self._many(SELECT_DISPUTE_STATEMENT, [(i,) for i in ids]) for row in part]
        due = [r["dispute_id"] for r in rows if r["statement"] and DisputeState(r["state"]).final][:limit]
        self._many(BLANK_STATEMENT, [(i,) for i in due])
        return len(due)


def _shard(report_id: str) -> int:
    from numrep.store.cassandra import shard_of  # the one definition of the day index's shard

    return shard_of(report_id)
