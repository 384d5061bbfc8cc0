"""Dispute timeliness: acknowledge within ``dispute_ack_hours`` and decide within ``dispute_decide_hours`` of filing.

Each deadline counts from the filing time. A dispute belongs to the period it
was *filed* in, wherever its deadlines or steps fall: one filed at 23:00 on the
last day and acknowledged the next morning is on time in the period it was
filed in. At a moment ``now`` a step is

* **met** if it happened by its deadline,
* **breached** if it happened after its deadline, or has not happened and the
  deadline has passed,
* **pending** otherwise (not yet due): neither met nor breached.

A dispute closed before a step (withdrawn, or expired because the number was
no longer flagged) has that step answered by the closing. Like complaint
timeliness (``numrep.regulator.timeliness``), the period report defaults
``now`` to the moment every dispute of the period is due, so it is a function
of the data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from numrep.config import Settings
from numrep.models import Dispute, DisputeState
from numrep.regulator.periods import Period
from numrep.store.base import Store


@dataclass(frozen=True, slots=True)
class DisputeSLA:
    ack: timedelta
    decide: timedelta

    @classmethod
    def from_settings(cls, s: Settings) -> DisputeSLA:
        return cls(timedelta(hours=s.dispute_ack_hours), timedelta(hours=s.dispute_decide_hours))

    def ack_due(self, d: Dispute) -> datetime:
        return d.filed_at + self.ack

    def decide_due(self, d: Dispute) -> datetime:
        return d.filed_at + self.decide

    @staticmethod
    def acknowledged_at(d: Dispute) -> datetime | None:
        return d.at(DisputeState.ACKNOWLEDGED) or d.decided_at

    def next_deadline(self, d: Dispute) -> datetime:
        """The deadline an open dispute must meet next (the review queue's order)."""
        return self.ack_due(d) if self.acknowledged_at(d) is None else self.decide_due(d)


def _step(done: datetime | None, due: datetime, now: datetime) -> str:
    if done is not None and done <= now:
        return "met" if done <= due else "breached"
    return "breached" if now > due else "pending"


@dataclass(frozen=True, slots=True)
class DisputeTimeliness:
    filed: int
    ack_met: int
    ack_breached: int
    decide_met: int
    decide_breached: int
    pending: int  # disputes with a step not yet due
    upheld: int
    rejected: int
    due_late: int = 0  # disputes (every step due) with at least one step breached

    @property
    def on_time_share(self) -> float:
        """Of the disputes whose steps are all due, the share with none breached (1.0 when none are due)."""
        due = self.filed - self.pending
        late = self.due_late
        return 1.0 if due <= 0 else round((due - late) / due, 4)


def count(disputes: Iterable[Dispute], sla: DisputeSLA, now: datetime) -> DisputeTimeliness:
    """Tally the steps of ``disputes`` as they stand at ``now`` (transitions after ``now`` are not yet known)."""
    filed = ack_met = ack_breached = decide_met = decide_breached = pending = upheld = rejected = late = 0
    for d in disputes:
        if d.filed_at > now:
            continue
        filed += 1
        ack = _step(sla.acknowledged_at(d), sla.ack_due(d), now)
        decided = d.decided_at
        dec = _step(decided, sla.decide_due(d), now)
        ack_met += ack == "met"
        ack_breached += ack == "breached"
        decide_met += dec == "met"
        decide_breached += dec == "breached"
        if "pending" in (ack, dec):
            pending += 1
        elif "breached" in (ack, dec):
            late += 1
        if decided is not None and decided <= now:
            upheld += d.state is DisputeState.UPHELD
            rejected += d.state is DisputeState.REJECTED
    return DisputeTimeliness(filed, ack_met, ack_breached, decide_met, decide_breached, pending, upheld, rejected, late)


def for_period(store: Store, period: Period, sla: DisputeSLA, now: datetime | None = None) -> DisputeTimeliness:
    """The disputes filed in ``period``, tallied at ``now`` (default: when every one of them is due)."""
    start = datetime(period.start.year, period.start.month, period.start.day, tzinfo=UTC)
    end = datetime(period.end.year, period.end.month, period.end.day, tzinfo=UTC)
    return count(store.disputes_filed(start, end), sla, now or end + max(sla.ack, sla.decide))
