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


def record(
    n: int, caller: str = CALLER, at: datetime = HOUR + timedelta(minutes=5), callee: str | None = None, talk: int = 0
) -> CallRecord:
    return CallRecord(
        record_id=f"op-{n}",
        caller=caller,
        callee_hash=callee or f"h1:callee{n}",
        channel=Channel.VOICE,
        start=at,
        ring_ms=3000,
        talk_seconds=talk,
        international=False,
        operator="China Mobile",
        callee_reg=(n % 4096) << 6 | 1,
        prefix_reg=(n % 7) << 6 | 2,
        received_at=NOW,
    )


def fold(store: Store, cap: int = 100, hashes: dict[str, str] | None = None) -> int:
    """Fold everything stored (the worker's step), hashing callers as ``hashes`` say."""
    done = 0
    while n := store.fold_call_records(10_000, frozenset(), lambda c: (hashes or {}).get(c, "h2:" + c), cap):
        done += n
    return done


def calls_by_hour(store: Store) -> dict[datetime, int]:
    return {
        a.hour: a.calls
        for a in store.call_aggregates([CALLER], HOUR - timedelta(days=1)).get(CALLER, [])
        if a.source == "records"
    }


def aggregate(caller: str = CALLER, hour: datetime = HOUR, source: str = "records", calls: int = 3) -> CallAggregate:
    sketch = HyperLogLog.of(f"tel:+8613800{i:06d}" for i in range(calls)).to_bytes()
    return CallAggregate(caller, Channel.VOICE, hour, source, calls, 1, 1, 1, 0, sketch, sketch, ("h1:pot",))


class TestCallRecords:
    def test_records_are_idempotent_on_their_id_and_folded_once(self, store: Store) -> None:
        assert store.add_call_records([record(1), record(2)]) == [True, True]
        assert store.add_call_records([record(1), record(3, at=HOUR + timedelta(hours=1, minutes=1))]) == [False, True]
        first = record(1)._replace(talk_seconds=99)
        assert store.add_call_records([first]) == [False]
        assert store.add_call_records([record(4), record(4)]) == [True, False]
        got = store.call_records_in_hour(CALLER, HOUR)
        assert [r.record_id for r in got] == ["op-1", "op-2", "op-4"] and got[0] == record(1)
        assert fold(store) == 4
        assert calls_by_hour(store) == {HOUR: 3, HOUR + timedelta(hours=1): 1}
        assert CALLER in {m.subject for m in store.dirty_subjects(10)}
        # when a folded record is sent again, then it is not counted again
        assert store.add_call_records([record(2)]) == [False]
        fold(store)
        assert calls_by_hour(store) == {HOUR: 3, HOUR + timedelta(hours=1): 1}

    def test_a_fold_that_crashes_leaves_the_state_of_a_clean_run(self, store: Store) -> None:
        store.add_call_records([record(1), record(2, callee="h2:b")])
        fold(store)
        store.add_call_records([record(3, talk=4), record(5, caller="tel:+8617099990000")])

        def crash(_caller: str) -> str:
            raise RuntimeError("killed mid-fold")

        with pytest.raises(RuntimeError):
            store.fold_call_records(10_000, frozenset(), crash, 100)
        fold(store)
        assert fold(store) == 0
        [agg] = store.call_aggregates([CALLER], HOUR)[CALLER]
        assert (agg.calls, agg.answered, agg.short_calls) == (3, 1, 1)
        assert round(HyperLogLog.from_bytes(agg.callees).estimate()) == 3
        assert [c.callee_hash for c in store.contacts(CALLER, HOUR - timedelta(days=1))] == [
            "h1:callee1",
            "h1:callee3",
            "h2:b",
        ]

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
        fold(store)
        claims = [
            ("h1:victim", NOW - timedelta(days=7), NOW),
            ("h1:victim", NOW - timedelta(days=1), NOW),
            ("h1:other", NOW - timedelta(days=7), NOW),
        ]
        assert store.contacted(CALLER, claims) == {0}
        assert store.contacted("tel:+8613900139000", claims) == set()
        assert store.contacted_many({CALLER: claims, "tel:+8613900139000": claims}) == {
            CALLER: {0},
            "tel:+8613900139000": set(),
        }

    def test_contacts_are_kept_per_operator_capped_per_caller_and_within_the_window(self, store: Store) -> None:
        # given a caller reaching 5 subscribers through two operators, one of them long ago
        store.add_call_records(
            [
                record(1, callee="h2:a", at=HOUR - timedelta(minutes=30)),
                record(2, callee="h2:a"),
                record(3, callee="h2:b")._replace(operator="China Unicom"),
                record(4, callee="h2:c", at=NOW - timedelta(days=20)),
                record(5, callee="h2:d"),
            ]
        )
        fold(store, cap=4)
        # when more than the cap arrive, then they are not kept, while known callees still update
        store.add_call_records([record(6, callee="h2:e"), record(7, callee="h2:a", at=HOUR + timedelta(minutes=20))])
        fold(store, cap=4)
        listed = store.contacts(CALLER, NOW - timedelta(days=30))
        assert [(c.callee_hash, c.operator) for c in listed] == [
            ("h2:a", "China Mobile"),
            ("h2:b", "China Unicom"),
            ("h2:c", "China Mobile"),
            ("h2:d", "China Mobile"),
        ]
        a = listed[0]
        assert (a.first_at, a.last_at) == (HOUR - timedelta(minutes=30), HOUR + timedelta(minutes=20))
        # then the window and the operator select, and pages follow one another
        assert [c.callee_hash for c in store.contacts(CALLER, NOW - timedelta(days=7))] == ["h2:a", "h2:b", "h2:d"]
        assert [c.callee_hash for c in store.contacts(CALLER, NOW - timedelta(days=30), operator="China Unicom")] == [
            "h2:b"
        ]
        page = store.contacts(CALLER, NOW - timedelta(days=30), limit=2)
        rest = store.contacts(
            CALLER, NOW - timedelta(days=30), after=(page[-1].callee_hash, page[-1].operator), limit=2
        )
        assert [c.callee_hash for c in page + rest] == ["h2:a", "h2:b", "h2:c", "h2:d"]
        assert store.contacts("tel:+8613900139000", NOW - timedelta(days=30)) == []

    def test_callbacks_count_callees_who_called_back_after_being_reached(self, store: Store) -> None:
        courier, y, z, w = CALLER, "tel:+8613800000001", "tel:+8613800000002", "tel:+8613800000003"
        h = {n: f"h2:{n[-4:]}" for n in (courier, y, z, w)}
        store.add_call_records(
            [
                record(1, callee=h[y], at=HOUR),
                record(2, callee=h[z], at=HOUR),
                record(3, callee=h[w], at=HOUR),
                record(4, caller=y, callee=h[courier], at=HOUR + timedelta(minutes=10)),  # y calls back
                record(5, caller=w, callee=h[courier], at=HOUR - timedelta(hours=2)),  # w called before: no callback
            ]
        )
        fold(store, hashes=h)
        got = store.callbacks(
            {courier: h[courier], y: h[y], "tel:+8613900139000": "h2:none"}, HOUR - timedelta(days=1), 100
        )
        assert got == {courier: (3, 1), y: (1, 0)}


class TestComplaints:
    def test_latest_complaint_per_reporter_and_the_rest_counted(self, store: Store) -> None:
        reports = [make_report(i, reporter=f"h1:r{i % 5}", at=NOW - timedelta(hours=i)) for i in range(1, 11)]
        reports.append(
            dataclasses.replace(
                make_report(20, reporter="h1:r9", at=NOW), reporter_number_hash="h1:n9", attested_by="China Mobile"
            )
        )
        store.add_reports(reports)
        got, more = store.complaints_for_subject(CALLER, NOW - timedelta(days=30), limit=3)
        assert [c.reporter_hash for c in got] == ["h1:r9", "h1:r1", "h1:r2"]
        assert got[0].reporter_number_hash == "h1:n9" and got[0].attested_by == "China Mobile"
        assert got[1].occurred_at == NOW - timedelta(hours=1)
        assert more == 3
        assert store.complaints_for_subject(CALLER, NOW - timedelta(days=30), limit=100)[1] == 0
        # a replay at an earlier moment reads only what had happened by then
        got, more = store.complaints_for_subject(
            CALLER, NOW - timedelta(days=30), limit=2, until=NOW - timedelta(hours=4)
        )
        assert ([c.reporter_hash for c in got], more) == (["h1:r4", "h1:r0"], 3)

    def test_reporter_stats_in_event_time(self, store: Store) -> None:
        store.add_reports(
            [
                make_report(1, reporter="h1:a", at=NOW - timedelta(days=20)),
                make_report(2, reporter="h1:a", at=NOW - timedelta(hours=3), subject="tel:+8613900139000"),
                make_report(3, reporter="h1:a", at=NOW - timedelta(hours=2), subject="tel:+8613900139001"),
                make_report(4, reporter="h1:a", at=NOW - timedelta(hours=1)),
            ]
        )
        backdated = dataclasses.replace(
            make_report(5, reporter="h1:new", at=NOW - timedelta(days=300)), received_at=NOW
        )
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
        decided = store.decide_case(
            case.case_id, Decision.LABEL, "ana", "looks like bombing", NOW + timedelta(hours=1), None
        )
        assert decided.decision is Decision.LABEL and decided.actor == "ana" and decided.subject == CALLER
        assert store.review_cases("open") == []
        assert store.review_cases("decided") == [decided]
        assert store.case_decisions([CALLER]) == {CALLER: [decided]}
        assert CALLER in {m.subject for m in store.dirty_subjects(10)}
        with pytest.raises(NotFound):
            store.decide_case(case.case_id, Decision.CLEAR, "ana", "again", NOW, None)
        assert store.open_case(dataclasses.replace(case, opened_at=NOW + timedelta(days=1))) is True
        store.decide_case(
            case.case_id, Decision.BLOCK, "bo", "confirmed", NOW + timedelta(days=1, hours=1), NOW + timedelta(days=31)
        )
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
    assert sqlite_store.call_aggregates([CALLER], HOUR - timedelta(days=41))[CALLER][0].hour == HOUR - timedelta(
        days=40
    )


def test_a_store_of_the_per_hour_design_is_folded_again_from_its_raw_records(sqlite_store: Store) -> None:
    # given records aggregated the old way (derived per hour, no fold cursor) over three hours
    from numrep.store.sqlite_evidence import FOLD_CURSOR, migrate_evidence

    sqlite_store.add_call_records([record(i, at=HOUR - timedelta(hours=i % 3, minutes=-5)) for i in range(1, 10)])
    fold(sqlite_store)
    before = {a.hour: a.calls for a in sqlite_store.call_aggregates([CALLER], HOUR - timedelta(days=1))[CALLER]}
    conn = sqlite_store._conn()  # type: ignore[attr-defined]
    conn.execute("DELETE FROM contacts")
    conn.execute("DELETE FROM meta WHERE key = ?", (FOLD_CURSOR,))
    # when the store is migrated and folded
    migrate_evidence(conn)
    fold(sqlite_store)
    # then every hour but the oldest (whose raw records retention may have cut) is derived again, once
    after = {a.hour: a.calls for a in sqlite_store.call_aggregates([CALLER], HOUR - timedelta(days=1))[CALLER]}
    assert after == before == {HOUR - timedelta(hours=2): 3, HOUR - timedelta(hours=1): 3, HOUR: 3}
    assert len(sqlite_store.contacts(CALLER, HOUR - timedelta(days=1))) == 6  # the oldest hour's 3 records are gone


class TestOutcomes:
    def test_outcomes_count_per_reporter_once_and_find_what_they_reported(self, store: Store) -> None:
        store.add_reports(
            [
                make_report(1, reporter="h1:a", at=NOW - timedelta(hours=5)),
                make_report(2, reporter="h1:a", subject="tel:+8613900139000", at=NOW - timedelta(hours=4)),
                make_report(3, reporter="h1:b", subject="tel:+8613900139001", at=NOW - timedelta(hours=3)),
            ]
        )
        store.record_outcome(CALLER, Outcome.CLEARED, ["h1:a"], NOW)
        store.record_outcome(CALLER, Outcome.CLEARED, ["h1:a"], NOW)  # again: counted once
        store.record_outcome("tel:+8613900139000", Outcome.CONFIRMED, ["h1:a"], NOW)
        stats = store.reporter_stats({"h1:a": NOW, "h1:b": NOW})
        assert (stats["h1:a"].confirmed, stats["h1:a"].cleared) == (1, 1)
        assert (stats["h1:b"].confirmed, stats["h1:b"].cleared) == (0, 0)
        assert store.subjects_reported_by(["h1:a", "h1:b"], NOW - timedelta(days=1), 10) == [
            "tel:+8613900139000",
            "tel:+8613900139001",
            CALLER,
        ]
        assert len(store.subjects_reported_by(["h1:a", "h1:b"], NOW - timedelta(days=1), 2)) == 2
        assert store.subjects_reported_by(["h1:a"], NOW - timedelta(hours=1), 10) == []


def test_shadow_diffs_replace_and_forget(store: Store) -> None:
    from numrep.models import Action, ShadowDiff

    a = ShadowDiff(CALLER, Action.BLOCK, Action.LABEL, 70, ("8 unverified reporters", "BLOCK withheld"), NOW)
    b = ShadowDiff("tel:+8613900139000", Action.ALLOW, Action.LABEL, 55, (), NOW)
    store.put_shadow_diffs([a, b], [])
    store.put_shadow_diffs([dataclasses.replace(a, v2_score=72)], ["tel:+8613900139000"])
    assert store.shadow_diffs(10) == [dataclasses.replace(a, v2_score=72)]
    assert store.shadow_diffs(0) == []
