"""Retention and deletion on request, on every backend (``numrep.store.privacy``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from numrep.models import CaseEvent, CaseStep, Dispute, DisputeState, Outcome, Proof, Report, Transition
from numrep.store.base import Store
from tests.conftest import make_report

SPAM = "tel:+8617012345678"
OTHER = "tel:+8617099990000"
ALICE = "h1:alice"
BOB = "h1:bob"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _clear_dirty(store: Store) -> None:
    store.clear_dirty(store.dirty_subjects(1000))


def _dirty(store: Store) -> set[str]:
    return {m.subject for m in store.dirty_subjects(1000)}


def _report_ids(store: Store, subject: str) -> set[str]:
    return {r.report_id for r in store.reports_for_subject(subject, EPOCH)}


def _summaries(store: Store, start: date, end: date) -> set[str]:
    return {s.report_id for s in store.report_summaries(start, end)}


def _received(report: Report, at: datetime) -> Report:
    """``report`` as if received at ``at`` (and made an hour before)."""
    return replace(report, occurred_at=at - timedelta(hours=1), received_at=at)


def test_deleting_a_reporter_removes_its_reports_derived_rows_and_trust_and_marks_subjects(store: Store) -> None:
    """Given two reporters, when one asks to be deleted, then only its data goes and its subjects are rescored."""
    now = datetime.now(UTC).replace(microsecond=0)
    alice = [
        make_report(1, SPAM, ALICE, at=now - timedelta(hours=2)),
        make_report(2, OTHER, ALICE, at=now - timedelta(hours=1)),
    ]
    bob = [make_report(3, SPAM, BOB, at=now - timedelta(hours=1))]
    store.add_reports(alice + bob)
    store.record_outcome(SPAM, Outcome.CONFIRMED, [ALICE, BOB], now)
    store.add_case_event(CaseEvent(alice[0].report_id, CaseStep.ACKNOWLEDGED, "China Mobile", now, ""))
    _clear_dirty(store)

    removal = store.delete_reporter(ALICE)

    assert (removal.reports, removal.case_events, removal.outcomes) == (2, 1, 1)
    assert removal.subjects == {SPAM, OTHER} == _dirty(store)
    assert _report_ids(store, SPAM) == {bob[0].report_id}  # by subject
    assert _report_ids(store, OTHER) == set()
    assert store.get_report(alice[0].report_id) is None and store.get_report(bob[0].report_id) is not None  # by id
    today = now.date()
    assert _summaries(store, today - timedelta(days=1), today + timedelta(days=1)) == {bob[0].report_id}  # by day
    assert store.subjects_reported_by([ALICE], EPOCH, 10) == []  # by reporter
    assert store.subjects_reported_by([BOB], EPOCH, 10) == [SPAM]
    assert store.case_events([alice[0].report_id]) == []
    stats = store.reporter_stats({ALICE: now, BOB: now})
    assert ALICE not in stats and stats[BOB].confirmed == 1  # no history of Alice left behind
    assert store.delete_reporter(ALICE).outcomes == 0  # her outcome rows went the first time


def test_deleting_again_or_an_unknown_reporter_removes_nothing(store: Store) -> None:
    store.add_reports([make_report(1, SPAM, ALICE)])
    assert store.delete_reporter(ALICE).reports == 1
    _clear_dirty(store)
    for reporter in (ALICE, "h1:never-seen"):
        removal = store.delete_reporter(reporter)
        assert (removal.reports, removal.case_events, removal.outcomes, removal.subjects) == (0, 0, 0, set())
    assert _dirty(store) == set()


def test_a_deletion_that_died_midway_is_finished_by_running_it_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a deletion that crashes after its first batch, when it runs again, then nothing of the reporter is left."""
    store.add_reports([make_report(i, f"tel:+861701234{i:04d}", ALICE) for i in range(5)])
    real = store._delete_reports
    calls: list[int] = []

    def crash_after_one_batch(reports):  # type: ignore[no-untyped-def]
        calls.append(len(reports))
        if len(calls) == 2:
            raise ConnectionError("the worker died")
        return real(reports)

    monkeypatch.setattr(store, "_delete_reports", crash_after_one_batch)
    with pytest.raises(ConnectionError):
        store.delete_reporter(ALICE, batch=2)
    monkeypatch.undo()
    assert store.subjects_reported_by([ALICE], EPOCH, 10)  # half done

    removal = store.delete_reporter(ALICE, batch=2)

    assert removal.reports == 3 and store.subjects_reported_by([ALICE], EPOCH, 10) == []
    assert all(_report_ids(store, f"tel:+861701234{i:04d}") == set() for i in range(5))


def test_prune_deletes_reports_past_retention_in_bounded_steps_and_marks_their_subjects(store: Store) -> None:
    """Given reports received before and after the cut-off, when pruned, then only the old go, at most ``limit`` a step."""
    now = datetime.now(UTC).replace(microsecond=0)
    cutoff = now - timedelta(days=400)
    old = [
        _received(make_report(i, SPAM if i % 2 else OTHER, f"h1:r{i}"), cutoff - timedelta(hours=i + 1))
        for i in range(3)
    ]
    fresh = make_report(9, SPAM, "h1:r9", at=now - timedelta(hours=1))
    store.add_reports([*old, fresh])
    _clear_dirty(store)

    first = store.prune_reports(cutoff, limit=2)
    second = store.prune_reports(cutoff, limit=2)
    third = store.prune_reports(cutoff, limit=2)

    assert (first.reports, second.reports, third.reports) == (2, 1, 0)
    assert first.subjects | second.subjects == {SPAM, OTHER} == _dirty(store)
    assert _report_ids(store, SPAM) == {fresh.report_id} and _report_ids(store, OTHER) == set()
    assert all(store.get_report(r.report_id) is None for r in old)
    assert _summaries(store, cutoff.date() - timedelta(days=3), now.date() + timedelta(days=1)) == {fresh.report_id}
    assert store.subjects_reported_by([r.reporter_hash for r in old], EPOCH, 10) == []


def test_report_texts_are_stored_as_given_and_blanked_past_their_retention(store: Store) -> None:
    """Intake decides what text is kept (redacted); the store keeps it until its retention, then blanks it."""
    now = datetime.now(UTC).replace(microsecond=0)
    r = make_report(1, SPAM, ALICE, at=now - timedelta(hours=1))
    kept = replace(r, text="loan offer, call [NUMBER]")
    store.add_reports([kept])
    assert [x.text for x in store.reports_for_subject(SPAM, EPOCH)] == ["loan offer, call [NUMBER]"]

    store.prune_report_texts(now + timedelta(seconds=1), limit=10)  # on Cassandra the text's own TTL does this

    if store.name == "sqlite":
        assert [x.text for x in store.reports_for_subject(SPAM, EPOCH)] == [""]
        assert store.prune_report_texts(now + timedelta(seconds=1), limit=10) == 0  # idempotent
    assert _report_ids(store, SPAM) == {kept.report_id}  # the report itself stays


def test_statements_of_closed_disputes_are_blanked_past_their_retention(store: Store) -> None:
    """Given an old closed dispute, an old open one and a recent closed one, when pruned, then only the first loses its
    statement, and the dispute itself stays."""
    now = datetime.now(UTC).replace(microsecond=0)
    old, recent = now - timedelta(days=400), now - timedelta(days=10)

    def dispute(n: int, subject: str, at: datetime) -> Dispute:
        return Dispute(
            f"dsp_{n:04d}",
            subject,
            Proof.ATTESTATION,
            "China Mobile",
            "my shop's line, call 13812345678",
            "h1:own",
            at,
            (Transition(DisputeState.FILED, at, "operator:China Mobile", "filed"),),
            (),
        )

    for d in (dispute(1, SPAM, old), dispute(2, OTHER, old), dispute(3, "tel:+8617055550000", recent)):
        assert store.file_dispute(d) is None
    for dispute_id, at in (("dsp_0001", old), ("dsp_0003", recent)):
        assert (
            store.transition_dispute(
                dispute_id, DisputeState.FILED, Transition(DisputeState.WITHDRAWN, at + timedelta(days=1), "owner", "")
            )
            is not None
        )
    cutoff = now - timedelta(days=365)

    assert store.prune_dispute_statements(cutoff, limit=10) == 1
    assert store.prune_dispute_statements(cutoff, limit=10) == 0  # idempotent

    kept = {i: store.get_dispute(i) for i in ("dsp_0001", "dsp_0002", "dsp_0003")}
    assert kept["dsp_0001"] is not None and kept["dsp_0001"].statement == ""
    assert kept["dsp_0001"].state is DisputeState.WITHDRAWN  # the dispute and its history stay
    assert kept["dsp_0002"] is not None and kept["dsp_0002"].statement  # still open
    assert kept["dsp_0003"] is not None and kept["dsp_0003"].statement  # closed, but recent
