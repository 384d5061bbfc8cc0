"""Complaint handling: routing to holders, acknowledgement and resolution, SLA failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from numrep.errors import Forbidden, NotFound
from numrep.models import Allocation, CaseStep, Category, Channel, HolderType, Report, Source
from numrep.regulator import spam_list, timeliness
from numrep.regulator.periods import Period
from numrep.store.base import Store

PERIOD = Period.parse("2026-10")
T0 = datetime(2026, 10, 5, 9, tzinfo=UTC)
SLA = timeliness.SLA(timedelta(hours=24), timedelta(hours=72), 0.9)


def rid(n: int) -> str:
    return f"50000000-0000-4000-8000-{n:012d}"


def load(store: Store) -> None:
    store.put_allocations(
        [
            Allocation("tel:+861700", "Virtual Mobile Co", HolderType.RESELLER, 100_000),
            Allocation("tel:+86138", "China Mobile", HolderType.OPERATOR, 100_000_000),
        ]
    )
    reports = [
        Report(rid(i), f"h1:{i}", f"tel:+8617001{i:06d}", Channel.VOICE, Category.FRAUD, T0, T0, Source.APP)
        for i in range(10)
    ]
    reports += [
        Report(rid(100 + i), f"h1:x{i}", f"tel:+8613800{i:06d}", Channel.VOICE, Category.RETAIL, T0, T0, Source.APP)
        for i in range(4)
    ]
    store.add_reports(reports)


def test_steps_are_recorded_once_and_only_by_the_routed_holder(store: Store) -> None:
    load(store)
    case = timeliness.record(store, rid(0), "Virtual Mobile Co", CaseStep.ACKNOWLEDGED, T0 + timedelta(hours=2), SLA)
    assert case.state == "acknowledged" and case.acknowledged_at == T0 + timedelta(hours=2)
    again = timeliness.record(store, rid(0), "Virtual Mobile Co", CaseStep.ACKNOWLEDGED, T0 + timedelta(hours=9), SLA)
    assert again.acknowledged_at == T0 + timedelta(hours=2)  # the first acknowledgement counts
    done = timeliness.record(
        store, rid(0), "Virtual Mobile Co", CaseStep.RESOLVED, T0 + timedelta(hours=30), SLA, "line suspended"
    )
    assert (done.state, done.resolution, done.on_time()) == ("resolved", "line suspended", True)
    with pytest.raises(Forbidden, match="routed to another holder"):
        timeliness.record(store, rid(1), "China Mobile", CaseStep.ACKNOWLEDGED, T0, SLA)
    with pytest.raises(NotFound):
        timeliness.record(store, rid(999), "China Mobile", CaseStep.ACKNOWLEDGED, T0, SLA)


def test_holders_below_target_fail(store: Store) -> None:
    load(store)
    for i in range(10):  # the reseller: 8 on time, 1 late, 1 never handled -> 80 %
        at = T0 + timedelta(hours=100 if i == 8 else 5)
        if i != 9:
            timeliness.record(store, rid(i), "Virtual Mobile Co", CaseStep.RESOLVED, at, SLA)
    for i in range(4):  # the operator: all on time
        timeliness.record(store, rid(100 + i), "China Mobile", CaseStep.ACKNOWLEDGED, T0 + timedelta(hours=1), SLA)
        timeliness.record(store, rid(100 + i), "China Mobile", CaseStep.RESOLVED, T0 + timedelta(hours=50), SLA)
    rows = {t.holder: t for t in timeliness.timeliness(store, PERIOD, SLA)}
    assert (rows["Virtual Mobile Co"].due, rows["Virtual Mobile Co"].on_time, rows["Virtual Mobile Co"].failed) == (
        10,
        8,
        True,
    )
    assert (rows["China Mobile"].due, rows["China Mobile"].on_time, rows["China Mobile"].failed) == (4, 4, False)
    listed = timeliness.cases(store, PERIOD, SLA, holder="China Mobile")
    assert [c.state for c in listed] == ["resolved"] * 4
    doc = spam_list.build(store, PERIOD, sla=SLA)
    assert doc.timeliness_failures == [{"holder": "Virtual Mobile Co", "due": 10, "on_time": 8, "share": 0.8}]


def test_open_complaints_are_not_due_before_their_deadline(store: Store) -> None:
    load(store)
    early = T0 + timedelta(hours=10)
    assert (
        all(t.due == 0 for t in timeliness.timeliness(store, PERIOD, SLA, now=early))
        or timeliness.timeliness(store, PERIOD, SLA, now=early) == []
    )
