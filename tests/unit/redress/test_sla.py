"""Dispute timeliness on a fake clock: deadlines from filing, breaches counted in the filing's period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from numrep.config import Settings
from numrep.models import Dispute, DisputeState, Proof, Transition
from numrep.redress import disputes as ops
from numrep.redress.sla import DisputeSLA, count, for_period
from numrep.regulator import spam_list
from numrep.regulator.periods import Period
from numrep.store.base import Store

SLA = DisputeSLA(timedelta(hours=24), timedelta(hours=72))
OCT = Period.parse("2026-10")
NOV = Period.parse("2026-11")


def at(day: int, hour: int = 0, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def dispute(n: int, filed: datetime, *steps: tuple[DisputeState, datetime]) -> Dispute:
    ts = (Transition(DisputeState.FILED, filed, "owner"), *(Transition(s, t, "analyst 7") for s, t in steps))
    return Dispute(f"dsp_{n}", f"tel:+861700000{n:04d}", Proof.CODE, "Virtual Mobile Co", "mine", "h1:o", filed, ts)


# Filed at 23:00 on 31 October: acknowledged 10 h later (1 November), decided 70 h later (3 November): on time.
ON_TIME_ACROSS_MONTHS = dispute(
    1,
    at(31, 23),
    (DisputeState.ACKNOWLEDGED, at(1, 9, 11)),
    (DisputeState.UNDER_REVIEW, at(2, 9, 11)),
    (DisputeState.UPHELD, at(3, 21, 11)),
)
# Filed 30 October 12:00, acknowledged 25 h later (late), rejected at 60 h (in time).
LATE_ACK = dispute(
    2,
    at(30, 12),
    (DisputeState.ACKNOWLEDGED, at(31, 13)),
    (DisputeState.UNDER_REVIEW, at(31, 14)),
    (DisputeState.REJECTED, at(2, 0, 11)),
)
# Filed 31 October 06:00 and never touched.
IGNORED = dispute(3, at(31, 6))
# Filed 29 October, withdrawn by its owner two hours later: nothing was due.
WITHDRAWN = dispute(4, at(29, 10), (DisputeState.WITHDRAWN, at(29, 12)))
ALL = [ON_TIME_ACROSS_MONTHS, LATE_ACK, IGNORED, WITHDRAWN]


def store_all(store: Store) -> None:
    """File each dispute, then write its later steps through the compare-and-set path."""
    for d in ALL:
        assert (
            store.file_dispute(
                Dispute(
                    d.dispute_id, d.subject, d.proof, d.holder, d.statement, d.owner_hash, d.filed_at, d.transitions[:1]
                )
            )
            is None
        )
        for before, step in zip(d.transitions, d.transitions[1:]):
            assert store.transition_dispute(d.dispute_id, before.state, step) is not None


def test_deadlines_count_from_the_filing() -> None:
    assert SLA.ack_due(IGNORED) == at(1, 6, 11) and SLA.decide_due(IGNORED) == at(3, 6, 11)
    assert SLA.next_deadline(IGNORED) == at(1, 6, 11)
    assert SLA.next_deadline(LATE_ACK) == SLA.decide_due(LATE_ACK)


@pytest.mark.parametrize(
    "now, expected",
    [
        # the last instant of October: nothing is due yet but the late acknowledgement (due 31 Oct 12:00, done 13:00)
        (
            at(31, 23) + timedelta(minutes=59),
            dict(ack_met=1, ack_breached=1, decide_met=1, decide_breached=0, pending=3),
        ),
        # 1 November 06:01: the ignored dispute's acknowledgement is now late
        (
            at(1, 6, 11) + timedelta(minutes=1),
            dict(ack_met=1, ack_breached=2, decide_met=1, decide_breached=0, pending=3),
        ),
        # 1 November 09:30: the one filed at 23:00 on 31 October was acknowledged in time, in the next month
        (
            at(1, 9, 11) + timedelta(minutes=30),
            dict(ack_met=2, ack_breached=2, decide_met=1, decide_breached=0, pending=3),
        ),
        # when everything is due: the ignored one breached both steps
        (at(4, 0, 11), dict(ack_met=2, ack_breached=2, decide_met=3, decide_breached=1, pending=0)),
    ],
)
def test_breaches_are_counted_correctly_at_any_moment_across_the_month_boundary(
    now: datetime, expected: dict[str, int]
) -> None:
    t = count(ALL, SLA, now)
    assert {k: getattr(t, k) for k in expected} == expected
    assert t.filed == 4


def test_the_period_report_counts_disputes_in_the_period_they_were_filed(sqlite_store: Store) -> None:
    store_all(sqlite_store)
    sqlite_store.file_dispute(dispute(5, at(1, 0, 11)))  # filed on the first instant of November: not October's
    october = for_period(sqlite_store, OCT, SLA)
    assert (october.filed, october.ack_breached, october.decide_breached, october.pending) == (4, 2, 1, 0)
    assert (october.upheld, october.rejected, october.due_late) == (1, 1, 2)
    assert october.on_time_share == 0.5
    assert for_period(sqlite_store, NOV, SLA, now=at(1, 12, 11)).pending == 1


def test_the_spam_list_publishes_dispute_timeliness(sqlite_store: Store, settings: Settings) -> None:
    store_all(sqlite_store)
    files = spam_list.publish(sqlite_store, settings, OCT)
    assert b'"decide_breached": 1' in files["json"] and b'"ack_breached": 2' in files["json"]
    assert b"dispute_timeliness,,ack_breached,2" in files["csv"]
    assert b"Disputes of verdicts" in files["html"]


def test_the_queue_puts_the_most_urgent_deadline_first_and_moot_disputes_expire(
    sqlite_store: Store, settings: Settings
) -> None:
    sqlite_store.file_dispute(IGNORED)
    later = dispute(6, at(31, 12))
    acked = dispute(7, at(30, 0), (DisputeState.ACKNOWLEDGED, at(30, 1)))
    for d in (later, acked):
        sqlite_store.file_dispute(dispute(int(d.dispute_id[4:]), d.filed_at))
    sqlite_store.transition_dispute(acked.dispute_id, DisputeState.FILED, acked.transitions[1])
    # acked: decide by 2 Nov 00:00; ignored: acknowledge by 1 Nov 06:00; later: acknowledge by 1 Nov 12:00
    assert [d.dispute_id for d in ops.queue(sqlite_store, settings)] == ["dsp_3", "dsp_6", "dsp_7"]
    # none of their numbers is flagged any more (no reputation at all): the sweep expires them, saying why
    expired = ops.expire_moot(sqlite_store, at(5, 0, 11))
    assert sorted(d.dispute_id for d in expired) == ["dsp_3", "dsp_6", "dsp_7"]
    assert all(d.state is DisputeState.EXPIRED and "no longer labelled" in d.reason for d in expired)
    assert sqlite_store.open_disputes(10) == []
