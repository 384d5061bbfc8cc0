"""Cassandra tables of the redress part (numrep.store.redress; migration ``cql/0011_redress.cql``).

Filing claims the subject's row of ``open_disputes`` by LWT, then writes the
dispute (also by LWT) and its index rows; a decision changes the dispute's
state by compare-and-set, then releases the claim. A crash between steps
leaves a claim whose dispute is missing or closed: the next filing for the
subject takes it over (compare-and-set on the claim), so nothing stays stuck.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from numrep.errors import Conflict
from numrep.models import Dispute, DisputeState, Transition
from numrep.store.cassandra_session import CassandraSession
from numrep.store.codec import DISPUTE_COLUMNS, dispute_from, dispute_values, to_micros, transitions_text
from numrep.store.redress import RedressStore

CLAIM = "INSERT INTO open_disputes (bucket, subject, dispute_id, filed_at) VALUES (0, ?, ?, ?) IF NOT EXISTS"
TAKE_OVER = "UPDATE open_disputes SET dispute_id = ?, filed_at = ? WHERE bucket = 0 AND subject = ? IF dispute_id = ?"
RELEASE = "DELETE FROM open_disputes WHERE bucket = 0 AND subject = ? IF dispute_id = ?"
SELECT_OPEN = "SELECT dispute_id FROM open_disputes WHERE bucket = 0"
DELETE_DISPUTE = "DELETE FROM disputes WHERE dispute_id = ?"
INSERT_DISPUTE = (
    f"INSERT INTO disputes ({', '.join(DISPUTE_COLUMNS)}) VALUES ({', '.join('?' * len(DISPUTE_COLUMNS))}) "
    "IF NOT EXISTS"
)
SELECT_DISPUTE = "SELECT * FROM disputes WHERE dispute_id = ?"
STEP = "UPDATE disputes SET transitions = ?, state = ? WHERE dispute_id = ? IF state = ?"
INSERT_BY_SUBJECT = "INSERT INTO disputes_by_subject (subject, dispute_id) VALUES (?, ?)"
SELECT_BY_SUBJECT = "SELECT subject, dispute_id FROM disputes_by_subject WHERE subject = ?"
INSERT_BY_MONTH = "INSERT INTO disputes_by_month (month, filed_at, dispute_id) VALUES (?, ?, ?)"
SELECT_BY_MONTH = "SELECT dispute_id FROM disputes_by_month WHERE month = ? AND filed_at >= ? AND filed_at < ?"


def month_of(dt: datetime) -> int:
    dt = dt.astimezone(UTC)
    return dt.year * 100 + dt.month


def _months(start: datetime, end: datetime) -> list[int]:
    out, y, m = [], start.astimezone(UTC).year, start.astimezone(UTC).month
    last = month_of(end)
    while y * 100 + m <= last:
        out.append(y * 100 + m)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


class CassandraRedress(CassandraSession, RedressStore):
    """Mixed into CassandraStore, whose session helpers it uses."""

    def _disputes(self, ids: Iterable[str]) -> list[Dispute]:
        rows = self._many(SELECT_DISPUTE, [(i,) for i in sorted(set(ids))])
        return sorted((dispute_from(r[0]) for r in rows if r), key=lambda d: (d.filed_at, d.dispute_id))

    def file_dispute(self, dispute: Dispute) -> Dispute | None:
        """Claim the subject (LWT) for this dispute, or answer the open one that holds it.

        The dispute's row is written before the claim, so a claim always names a
        dispute that exists: a concurrent filer that loses finds the winner's row
        (not a missing one it would mistake for a crash's leftover) and removes its
        own. A claim is taken over only if its dispute is closed or missing (a claim
        written by an older version that crashed before its row).
        """
        filed = to_micros(dispute.filed_at)
        self._exec(INSERT_DISPUTE, dispute_values(dispute, list_column=True))
        for _attempt in range(3):
            claim = self._exec(CLAIM, (dispute.subject, dispute.dispute_id, filed))[0]
            if claim["[applied]"]:
                break
            held = claim["dispute_id"]
            current = self.get_dispute(held)
            if current is not None and current.open:
                self._exec(DELETE_DISPUTE, (dispute.dispute_id,))
                self._index(current)  # idempotent: repairs a filing that crashed after its claim
                return current
            # a stale claim (its dispute closed, or missing): take it over
            if self._exec(TAKE_OVER, (dispute.dispute_id, filed, dispute.subject, held))[0]["[applied]"]:
                break
        else:
            self._exec(DELETE_DISPUTE, (dispute.dispute_id,))
            raise Conflict(f"could not claim {dispute.subject} for a dispute (concurrent filings); retry")
        self._index(dispute)
        return None

    def _index(self, dispute: Dispute) -> None:
        self._exec(INSERT_BY_SUBJECT, (dispute.subject, dispute.dispute_id))
        self._exec(INSERT_BY_MONTH, (month_of(dispute.filed_at), to_micros(dispute.filed_at), dispute.dispute_id))

    def get_dispute(self, dispute_id: str) -> Dispute | None:
        rows = self._exec(SELECT_DISPUTE, (dispute_id,))
        return dispute_from(rows[0]) if rows else None

    def transition_dispute(self, dispute_id: str, expected: DisputeState, step: Transition) -> Dispute | None:
        d = self.get_dispute(dispute_id)
        if d is None or d.state is not expected:
            return None
        steps = (*d.transitions, step)
        if not self._exec(STEP, (transitions_text(steps), step.state.value, dispute_id, expected.value))[0][
            "[applied]"
        ]:
            return None
        if step.state.final:
            self._exec(RELEASE, (d.subject, dispute_id))
        return Dispute(
            d.dispute_id, d.subject, d.proof, d.holder, d.statement, d.owner_hash, d.filed_at, steps, d.authoritative
        )

    def disputes_for_subjects(self, subjects: Iterable[str]) -> dict[str, list[Dispute]]:
        found = [row for rows in self._many(SELECT_BY_SUBJECT, [(s,) for s in sorted(set(subjects))]) for row in rows]
        out: dict[str, list[Dispute]] = {}
        for d in self._disputes(r["dispute_id"] for r in found):
            out.setdefault(d.subject, []).append(d)
        return out

    def open_disputes(self, limit: int) -> list[Dispute]:
        ids = [r["dispute_id"] for r in self._exec(SELECT_OPEN)]
        return [d for d in self._disputes(ids) if d.open][:limit]

    def disputes_filed(self, start: datetime, end: datetime) -> list[Dispute]:
        lo, hi = to_micros(start), to_micros(end)
        rows = self._many(SELECT_BY_MONTH, [(m, lo, hi) for m in _months(start, end)])
        return self._disputes(r["dispute_id"] for part in rows for r in part)
