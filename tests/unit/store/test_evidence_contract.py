"""The evidence part of the store contract, run on every backend (the `store` fixture)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from numrep.errors import Conflict, NotFound
from numrep.evidence.sketch import HyperLogLog
from numrep.models import (
    BlockSwitch,
    CallAggregate,
    CallRecord,
    CaseKind,
    Channel,
    ConfirmedFraud,
    Decision,
    Honeypot,
    Outcome,
    ReviewCase,
)
from numrep.store.base import Store
from tests.conftest import NOW, make_report

CALLER = "tel:+8617012345678"
HOUR = NOW.replace(minute=0)


def record(n: int, caller: str = CALLER, at: datetime = HOUR + timedelta(minutes=5), callee: str | None = None,
           talk: int = 0) -> CallRecord:
    return CallRecord(record_id=f"op-{n}", caller=caller, callee_hash=callee or f"h1:callee{n}", channel=Channel.VOICE,
                      start=at, ring_ms=3000, talk_seconds=talk, international=False, operator="China Mobile",
                      callee_reg=(n % 4096) << 6 | 1, prefix_reg=(n % 7) << 6 | 2, received_at=NOW)


def aggregate(caller: str = CALLER, hour: datetime = HOUR, source: str = "records", calls: int = 3) -> CallAggregate:
    sketch = HyperLogLog.of(f"tel:+8613800{i:06d}" for i in range(calls)).to_bytes()
    return CallAggregate(caller, Channel.VOICE, hour, source, calls, 1, 1, 1, 0, sketch, sketch, ("h1:pot",))


class TestCallRecords:
    def test_records_are_idempotent_on_their_id_and_mark_their_hour(self, store: Store) -> None:
        assert store.add_call_records([record(1), record(2)]) == [True, True]
        assert store.add_call_records([record(1), record(3, at=HOUR + timedelta(hours=1, minutes=1))]) == [False, True]
        first = record(1)._replace(talk_seconds=99)
        assert store.add_call_records([first]) == [False]
        got = store.call_records_in_hour(CALLER, HOUR)
        assert [r.record_id for r in got] == ["op-1", "op-2"] and got[0] == record(1)
        marks = store.dirty_hours(10)
        assert sorted((m.caller, m.hour) for m in marks) == [(CALLER, HOUR), (CALLER, HOUR + timedelta(hours=1))]

    def test_a_re_marked_hour_stays_dirty(self, store: Store) -> None:
        store.add_call_records([record(1)])
        marks = store.dirty_hours(10)
        store.add_call_records([record(2)])
        store.clear_dirty_hours(marks)
        assert [m.hour for m in store.dirty_hours(10)] == [HOUR]
        store.clear_dirty_hours(store.dirty_hours(10))
        assert store.dirty_hours(10) == []

    def test_aggregates_replace_by_key_and_mark_the_caller(self, store: Store) -> None:
        store.put_call_aggregates([aggregate(calls=3), aggregate(source="operator:Unicom", calls=5)])
        store.put_call_aggregates([aggregate(calls=4)])
        store.put_call_aggregates([aggregate(hour=HOUR - timedelta(days=9))])
        got = store.call_aggregates([CALLER, "tel:+8613900139000"], HOUR - timedelta(days=7))
        assert list(got) == [CALLER]
        assert sorted((a.source, a.calls) for a in got[CALLER]) == [("operator:Unicom", 5), ("records", 4)]
        assert got[CALLER][0].honeypots == ("h1:pot",)
        assert HyperLogLog.from_bytes(got[CALLER][0].callees).estimate() > 2
        assert CALLER in {m.subject for m in store.dirty_subjects(10)}

    def test_contacts_corroborate_only_within_their_window(self, store: Store) -> None:
        store.add_call_records([record(1, callee="h1:victim", at=NOW - timedelta(days=2))])
        claims = [("h1:victim", NOW - timedelta(days=7), NOW), ("h1:victim", NOW - timedelta(days=1), NOW),
                  ("h1:other", NOW - timedelta(days=7), NOW)]
        assert store.contacted(CALLER, claims) == {0}
        assert store.contacted("tel:+8613900139000", claims) == set()


class TestComplaints:
    def test_latest_complaint_per_reporter_and_the_rest_counted(self, store: Store) -> None:
        reports = [make_report(i, reporter=f"h1:r{i % 5}", at=NOW - timedelta(hours=i)) for i in range(1, 11)]
        reports.append(dataclasses.replace(make_report(20, reporter="h1:r9", at=NOW), reporter_number_hash="h1:n9",
                                           attested_by="China Mobile"))
        store.add_reports(reports)
        got, more = store.complaints_for_subject(CALLER, NOW - timedelta(days=30), limit=3)
        assert [c.reporter_hash for c in got] == ["h1:r9", "h1:r1", "h1:r2"]
        assert got[0].reporter_number_hash == "h1:n9" and got[0].attested_by == "China Mobile"
        assert got[1].occurred_at == NOW - timedelta(hours=1)
        assert more == 3
        assert store.complaints_for_subject(CALLER, NOW - timedelta(days=30), limit=100)[1] == 0

    def test_reporter_stats_in_event_time(self, store: Store) -> None:
        store.add_reports([make_report(1, reporter="h1:a", at=NOW - timedelta(days=20)),
                           make_report(2, reporter="h1:a", at=NOW - timedelta(hours=3), subject="tel:+8613900139000"),
                           make_report(3, reporter="h1:a", at=NOW - timedelta(hours=2), subject="tel:+8613900139001"),
                           make_report(4, reporter="h1:a", at=NOW - timedelta(hours=1))])
        backdated = dataclasses.replace(make_report(5, reporter="h1:new", at=NOW - timedelta(days=300)), received_at=NOW)
        store.add_reports([backdated])
        stats = store.reporter_stats({"h1:a": NOW, "h1:nobody": NOW, "h1:new": NOW})
        assert sorted(stats) == ["h1:a", "h1:new"]
        assert stats["h1:a"].first_seen == NOW - timedelta(days=20) + timedelta(seconds=1)  # when it was received
        assert stats["h1:a"].subjects_24h == 3
        # a client cannot age an id by backdating occurred_at: first seen is the server's receipt time
        assert stats["h1:new"].first_seen == NOW


class TestHoneypotsFraudCases:
    def test_honeypots(self, store: Store) -> None:
        pot = Honeypot("tel:+8613800000001", "h1:pot", "China Mobile", "unassigned", NOW)
        assert store.add_honeypot(pot) == pot
        assert store.add_honeypot(dataclasses.replace(pot, note="again")) == pot
        assert store.honeypots() == [pot]
        assert store.remove_honeypot(pot.number) == pot
        assert store.remove_honeypot(pot.number) is None
        assert store.honeypots() == []

    def test_confirmed_fraud_marks_dirty(self, store: Store) -> None:
        entry = ConfirmedFraud(CALLER, "case-7", NOW + timedelta(days=30), "analyst", "police case", NOW)
        store.confirm_fraud(entry)
        assert store.confirmed_fraud([CALLER, "tel:+8613900139000"]) == {CALLER: entry}
        assert CALLER in {m.subject for m in store.dirty_subjects(10)}

    def test_review_cases_open_once_and_are_decided_once(self, store: Store) -> None:
        case = ReviewCase(f"report_bombing:{CALLER}", CALLER, CaseKind.REPORT_BOMBING, "2000 fresh reporters", NOW)
        assert store.open_case(case) is True
        assert store.open_case(case) is False
        assert store.review_cases("open") == [case]
        store.clear_dirty(store.dirty_subjects(10))
        decided = store.decide_case(case.case_id, Decision.LABEL, "ana", "looks like bombing", NOW + timedelta(hours=1), None)
        assert decided.decision is Decision.LABEL and decided.actor == "ana" and decided.subject == CALLER
        assert store.review_cases("open") == []
        assert store.review_cases("decided") == [decided]
        assert store.case_decisions([CALLER]) == {CALLER: [decided]}
        assert CALLER in {m.subject for m in store.dirty_subjects(10)}
        with pytest.raises(NotFound):
            store.decide_case(case.case_id, Decision.CLEAR, "ana", "again", NOW, None)
        assert store.open_case(dataclasses.replace(case, opened_at=NOW + timedelta(days=1))) is True
        store.decide_case(case.case_id, Decision.BLOCK, "bo", "confirmed", NOW + timedelta(days=1, hours=1),
                          NOW + timedelta(days=31))
        assert [c.decision for c in store.case_decisions([CALLER])[CALLER]] == [Decision.LABEL, Decision.BLOCK]
        assert len(store.review_cases("all")) == 2

    def test_block_switch(self, store: Store) -> None:
        assert store.get_block_switch() == BlockSwitch(False)
        on = BlockSwitch(True, "ops", "incident 42", NOW)
        store.set_block_switch(on)
        assert store.get_block_switch() == on


def test_conflict_is_failed_precondition() -> None:
    assert Conflict.status == "FAILED_PRECONDITION"


def test_raw_records_are_pruned_and_their_aggregates_stay(sqlite_store: Store) -> None:
    old, new = record(1, at=HOUR - timedelta(days=40)), record(2)
    sqlite_store.add_call_records([old, new])
    sqlite_store.put_call_aggregates([aggregate(hour=HOUR - timedelta(days=40))])
    assert sqlite_store.prune_call_records(HOUR - timedelta(days=35)) == 1
    assert sqlite_store.prune_call_records(HOUR - timedelta(days=35)) == 0
    assert sqlite_store.call_records_in_hour(CALLER, HOUR) == [new]
    assert sqlite_store.call_aggregates([CALLER], HOUR - timedelta(days=41))[CALLER][0].hour == HOUR - timedelta(days=40)


class TestOutcomes:
    def test_outcomes_count_per_reporter_once_and_find_what_they_reported(self, store: Store) -> None:
        store.add_reports([make_report(1, reporter="h1:a", at=NOW - timedelta(hours=5)),
                           make_report(2, reporter="h1:a", subject="tel:+8613900139000", at=NOW - timedelta(hours=4)),
                           make_report(3, reporter="h1:b", subject="tel:+8613900139001", at=NOW - timedelta(hours=3))])
        store.record_outcome(CALLER, Outcome.CLEARED, ["h1:a"], NOW)
        store.record_outcome(CALLER, Outcome.CLEARED, ["h1:a"], NOW)  # again: counted once
        store.record_outcome("tel:+8613900139000", Outcome.CONFIRMED, ["h1:a"], NOW)
        stats = store.reporter_stats({"h1:a": NOW, "h1:b": NOW})
        assert (stats["h1:a"].confirmed, stats["h1:a"].cleared) == (1, 1)
        assert (stats["h1:b"].confirmed, stats["h1:b"].cleared) == (0, 0)
        assert store.subjects_reported_by(["h1:a", "h1:b"], NOW - timedelta(days=1), 10) == [
            "tel:+8613900139000", "tel:+8613900139001", CALLER]
        assert len(store.subjects_reported_by(["h1:a", "h1:b"], NOW - timedelta(days=1), 2)) == 2
        assert store.subjects_reported_by(["h1:a"], NOW - timedelta(hours=1), 10) == []


def test_shadow_diffs_replace_and_forget(store: Store) -> None:
    from numrep.models import Action, ShadowDiff

    a = ShadowDiff(CALLER, Action.BLOCK, Action.LABEL, 70, ("8 unverified reporters", "BLOCK withheld"), NOW)
    b = ShadowDiff("tel:+8613900139000", Action.ALLOW, Action.LABEL, 55, (), NOW)
    store.put_shadow_diffs([a, b], [])
    store.put_shadow_diffs([dataclasses.replace(a, v2_score=72)],
                           ["tel:+8613900139000"])
    assert store.shadow_diffs(10) == [dataclasses.replace(a, v2_score=72)]
    assert store.shadow_diffs(0) == []
