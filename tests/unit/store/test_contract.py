"""The store contract: every backend passes the same suite (see conftest STORE_BACKENDS)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from numrep.errors import NotFound
from numrep.models import Action, AllowlistEntry, Category, Channel, Lane, Reputation, Rule, RuleKind
from numrep.rules import EMPTY_CHECKSUM, canonical_checksum
from numrep.store.base import Store
from tests.conftest import NOW, make_report


def rule(
    subject: str, action: Action = Action.BLOCK, channel: Channel = Channel.VOICE, kind: RuleKind = RuleKind.EXACT
) -> Rule:
    return Rule(f"{subject}#{channel.value}", kind, subject, channel, action, Category.FRAUD, "because", NOW)


def reputation(subject: str, action: Action = Action.BLOCK, score: int = 90) -> Reputation:
    return Reputation(
        subject=subject,
        score=score,
        actions={Channel.VOICE: action, Channel.SMS: Action.ALLOW},
        categories={Category.FRAUD: 3, Category.RETAIL: 1},
        reporters=4,
        weighted_reporters=3.5,
        first_seen=NOW - timedelta(days=1),
        last_seen=NOW,
        reasons=("4 reporters", "score 90"),
        protected=False,
        updated_at=NOW,
    )


class TestReports:
    def test_given_new_reports_when_added_then_stored_and_subjects_dirty(self, store: Store) -> None:
        assert store.add_reports([make_report(1), make_report(2, subject="tel:+8613900139000")]) == [True, True]
        assert store.count_reports() == 2
        assert sorted(m.subject for m in store.dirty_subjects(10)) == ["tel:+8613900139000", "tel:+8617012345678"]

    def test_same_report_id_three_times_counts_once(self, store: Store) -> None:
        r = make_report(1)
        assert store.add_reports([r]) == [True]
        assert store.add_reports([r]) == [False]
        assert store.add_reports([r, make_report(2)]) == [False, True]
        assert store.count_reports() == 2

    def test_a_duplicate_id_keeps_the_first_report(self, store: Store) -> None:
        store.add_reports([make_report(1, category=Category.FRAUD)])
        store.add_reports([make_report(1, category=Category.RETAIL)])
        [stored] = store.reports_for_subject("tel:+8617012345678", NOW - timedelta(days=1))
        assert stored.category is Category.FRAUD

    def test_reports_round_trip_and_filter_by_time(self, store: Store) -> None:
        old = make_report(1, at=NOW - timedelta(days=40))
        new = make_report(2, at=NOW - timedelta(days=1))
        store.add_reports([old, new])
        assert store.reports_for_subject(new.subject, NOW - timedelta(days=30)) == [new]
        assert store.reports_for_subject(new.subject, NOW - timedelta(days=50)) == [old, new]
        assert store.reports_for_subject("tel:+8613900139000", NOW - timedelta(days=50)) == []

    def test_concurrent_duplicate_submissions_store_one(self, store: Store) -> None:
        r = make_report(7)
        results: list[bool] = []
        lock = threading.Lock()

        def submit() -> None:
            out = store.add_reports([r])
            with lock:
                results.extend(out)

        threads = [threading.Thread(target=submit) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [False] * 7 + [True]
        assert store.count_reports() == 1


class TestDirty:
    def test_clear_removes_only_unchanged_marks(self, store: Store) -> None:
        store.mark_dirty(["tel:+86a", "tel:+86b"])
        marks = store.dirty_subjects(10)
        store.mark_dirty(["tel:+86a"])  # marked again while being processed
        store.clear_dirty(marks)
        assert [m.subject for m in store.dirty_subjects(10)] == ["tel:+86a"]

    def test_limit(self, store: Store) -> None:
        store.mark_dirty([f"tel:+86{i}" for i in range(5)])
        assert len(store.dirty_subjects(3)) == 3

    def test_a_remark_in_the_backlog_survives_the_clear_of_a_fresh_mark(self, store: Store) -> None:
        store.mark_dirty(["tel:+86a"])
        marks = store.dirty_subjects(10)
        store.mark_dirty(["tel:+86a"], Lane.BACKLOG)  # the hourly pass marks it while it is being rescored
        store.clear_dirty(marks)
        assert [m.subject for m in store.dirty_subjects(10)] == ["tel:+86a"]

    def test_given_a_backlog_when_new_evidence_arrives_then_it_is_served_first(self, store: Store) -> None:
        # given: the hourly pass queued many flagged subjects
        store.mark_dirty([f"tel:+86b{i:03d}" for i in range(50)], Lane.BACKLOG)
        # when: a report arrives for two subjects, one of them in the backlog
        store.add_reports([make_report(1, subject="tel:+86new"), make_report(2, subject="tel:+86b007")])
        # then: they come first, in the fresh lane, and the backlog follows
        first = store.dirty_subjects(2)
        assert sorted(m.subject for m in first) == ["tel:+86b007", "tel:+86new"]
        assert {m.lane for m in first} == {Lane.FRESH}
        rest = store.dirty_subjects(100)
        assert {m.subject for m in rest} >= {f"tel:+86b{i:03d}" for i in range(50)} - {"tel:+86b007"}

    def test_paged_drain_returns_every_subject_once(self, store: Store) -> None:
        subjects = {f"tel:+86p{i:04d}" for i in range(1200)}
        store.mark_dirty(sorted(subjects), Lane.BACKLOG)
        seen: list[str] = []
        for _ in range(10):
            marks = store.dirty_subjects(250)
            if not marks:
                break
            assert len(marks) <= 250
            seen += [m.subject for m in marks]
            store.clear_dirty(marks)
        assert sorted(seen) == sorted(subjects)  # each once: cleared marks are not served again
        assert store.dirty_subjects(10) == []

    def test_deferred_marks_go_behind_new_evidence_with_one_more_attempt(self, store: Store) -> None:
        store.mark_dirty(["tel:+86bad", "tel:+86ok"])
        marks = {m.subject: m for m in store.dirty_subjects(10)}
        assert marks["tel:+86bad"].attempts == 0
        store.defer_dirty([marks["tel:+86bad"]])
        store.clear_dirty([marks["tel:+86ok"]])
        store.mark_dirty(["tel:+86new"])
        [new, bad] = store.dirty_subjects(10)
        assert (new.subject, new.lane) == ("tel:+86new", Lane.FRESH)
        assert (bad.subject, bad.lane, bad.attempts) == ("tel:+86bad", Lane.BACKLOG, 1)
        store.defer_dirty([bad])
        [again] = [m for m in store.dirty_subjects(10) if m.subject == "tel:+86bad"]
        assert again.attempts == 2
        store.clear_dirty(store.dirty_subjects(10))
        assert store.dirty_subjects(10) == []


class TestReputations:
    def test_round_trip_and_replace(self, store: Store) -> None:
        rep = reputation("tel:+8617012345678")
        store.put_reputations([rep])
        assert store.get_reputation(rep.subject) == rep
        delisted = reputation(rep.subject, Action.ALLOW, 10)
        store.put_reputations([delisted])
        assert store.get_reputation(rep.subject) == delisted
        assert store.get_reputation("tel:+8613900139000") is None

    def test_flagged_subjects(self, store: Store) -> None:
        store.put_reputations(
            [reputation("tel:+86a"), reputation("tel:+86b", Action.LABEL), reputation("tel:+86c", Action.ALLOW)]
        )
        assert store.flagged_subjects() == ["tel:+86a", "tel:+86b"]


class TestRules:
    def test_starts_empty(self, store: Store) -> None:
        assert store.rules_version() == 0
        d = store.rules_since(0)
        assert (d.version, d.full_snapshot, d.added, d.checksum) == (0, True, (), EMPTY_CHECKSUM)

    def test_publish_versions_and_deltas(self, store: Store) -> None:
        a, b, c = rule("tel:+86a"), rule("tel:+86b"), rule("tel:+86c", Action.LABEL)
        assert store.publish_rules([a, b], [], NOW) == 1
        assert store.publish_rules([c], [a.rule_id], NOW) == 2
        assert store.rules_version() == 2
        assert set(store.active_rules()) == {b.rule_id, c.rule_id}
        assert set(store.active_rules(["tel:+86c"])) == {c.rule_id}

        full = store.rules_since(0)
        assert full.full_snapshot and {r.rule_id for r in full.added} == {b.rule_id, c.rule_id}
        assert full.checksum == canonical_checksum([b, c])

        delta = store.rules_since(1)
        assert (delta.version, delta.from_version, delta.full_snapshot) == (2, 1, False)
        assert [r.rule_id for r in delta.added] == [c.rule_id]
        assert delta.removed == (a.rule_id,)
        assert delta.checksum == full.checksum

        assert store.rules_since(2).added == () and store.rules_since(2).version == 2

    def test_a_delta_applied_to_the_old_set_gives_the_checksum(self, store: Store) -> None:
        store.publish_rules([rule("tel:+86a"), rule("tel:+86b")], [], NOW)
        held = {r.rule_id: r for r in store.rules_since(0).added}
        store.publish_rules([rule("tel:+86b", Action.LABEL), rule("tel:+86d")], ["tel:+86a#voice"], NOW)
        d = store.rules_since(1)
        for rid in d.removed:
            held.pop(rid)
        held.update({r.rule_id: r for r in d.added})
        assert canonical_checksum(held.values()) == d.checksum

    def test_publishing_nothing_new_creates_no_version(self, store: Store) -> None:
        a = rule("tel:+86a")
        assert store.publish_rules([a], [], NOW) == 1
        assert store.publish_rules([a], ["tel:+86zzz#voice"], NOW + timedelta(hours=1)) is None
        assert store.rules_version() == 1

    def test_client_ahead_or_behind_the_log_gets_a_snapshot(self, store: Store) -> None:
        store.publish_rules([rule("tel:+86a")], [], NOW)
        assert store.rules_since(99).full_snapshot

    def test_concurrent_publishers_get_distinct_versions(self, store: Store) -> None:
        versions: list[int | None] = []
        lock = threading.Lock()

        def publish(i: int) -> None:
            v = store.publish_rules([rule(f"tel:+86{i}")], [], NOW)
            with lock:
                versions.append(v)

        threads = [threading.Thread(target=publish, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(v for v in versions if v is not None) == [1, 2, 3, 4, 5, 6]
        assert len(store.active_rules()) == 6


class TestAllowlist:
    def test_add_list_remove(self, store: Store) -> None:
        e = AllowlistEntry("tel:+864006001234", "hospital", "analyst", NOW)
        assert store.add_allowlist(e) == e
        assert store.add_allowlist(AllowlistEntry(e.subject, "other", "x", NOW)) == e  # idempotent
        assert store.list_allowlist() == [e]
        assert e.subject in {m.subject for m in store.dirty_subjects(10)}
        assert store.remove_allowlist(e.subject) is True
        assert store.remove_allowlist(e.subject) is False
        assert store.list_allowlist() == []


class TestFilterSnapshots:
    def test_store_and_fetch_latest(self, store: Store) -> None:
        assert store.latest_filter_snapshot() is None
        data = bytes(range(256)) * 9000  # > 2 chunks
        m1 = store.put_filter_snapshot(1, 10, 100, 0.001, b"one", NOW)
        m2 = store.put_filter_snapshot(2, 20, 100, 0.001, data, NOW)
        latest = store.latest_filter_snapshot()
        assert latest is not None and latest.snapshot_id == m2.snapshot_id and latest.version == 2
        assert store.filter_snapshot_data(m2.snapshot_id) == data
        assert store.filter_snapshot_data(m1.snapshot_id) == b"one"

    def test_prune(self, store: Store) -> None:
        ids = [store.put_filter_snapshot(v, 1, 100, 0.01, b"x", NOW).snapshot_id for v in (1, 2, 3)]
        assert store.prune_filter_snapshots(keep=1) == 2
        with pytest.raises(NotFound):
            store.filter_snapshot_data(ids[0])
        assert store.filter_snapshot_data(ids[2]) == b"x"


def test_migrate_twice_is_harmless(store: Store) -> None:
    store.add_reports([make_report(1)])
    store.migrate()
    store.migrate()
    assert store.count_reports() == 1


class TestPortBlacklist:
    def test_add_lookup_count_and_idempotency(self, store: Store) -> None:
        from datetime import date

        from numrep.models import PortBlacklistEntry

        a = PortBlacklistEntry("sms:10657000123456", "Acme", "loan ads", "MIIT", date(2026, 9, 30))
        b = PortBlacklistEntry("sms:10659000333", "Blast", "retail", "bureau", date(2026, 10, 1))
        assert store.add_port_blacklist([a, b]) == 2
        assert store.port_blacklist([a.port, "sms:10650000000"]) == {a.port: a}
        assert store.count_port_blacklist() == 2
        assert sorted(m.subject for m in store.dirty_subjects(10)) == sorted([a.port, b.port])
        store.clear_dirty(store.dirty_subjects(10))
        assert store.add_port_blacklist([a, b]) == 0 and store.dirty_subjects(10) == []
        changed = PortBlacklistEntry(a.port, "Acme", "fraud", "MIIT", date(2026, 9, 30))
        assert store.add_port_blacklist([changed, b]) == 1
        assert store.port_blacklist([a.port])[a.port].reason == "fraud"
        assert store.list_port_blacklist() == [changed, b]


def test_report_summaries_by_received_day(store: Store) -> None:
    from datetime import date

    store.add_reports(
        [make_report(1, at=NOW), make_report(2, at=NOW + timedelta(days=1)), make_report(3, at=NOW - timedelta(days=3))]
    )
    got = sorted(store.report_summaries(date(2026, 11, 1), date(2026, 11, 3)), key=lambda r: r.report_id)
    assert [(r.report_id[-1], r.day) for r in got] == [("1", date(2026, 11, 1)), ("2", date(2026, 11, 2))]
    assert got[0].subject == "tel:+8617012345678" and got[0].category is Category.LOANS_FINANCE


def test_api_keys_round_trip(store: Store) -> None:
    from numrep.models import ApiKey, Scope

    k = ApiKey("h1:abc", "China Mobile", frozenset({Scope.LOOKUP, Scope.RULES}), NOW)
    store.put_api_key(k)
    assert store.get_api_key("h1:abc") == k and store.get_api_key("h1:zzz") is None
    revoked = ApiKey("h1:abc", "China Mobile", k.scopes, NOW, revoked=True)
    store.put_api_key(revoked)
    assert store.list_api_keys() == [revoked]


class TestBatchReads:
    """Scoring and publication read per batch of subjects, never one round trip per subject."""

    def test_reports_for_subjects_equal_the_reads_one_by_one(self, store: Store) -> None:
        a, b, quiet = "tel:+8617012345678", "tel:+8613900139000", "tel:+8613700137000"
        store.add_reports(
            [
                make_report(1, subject=a, at=NOW - timedelta(days=40)),
                make_report(2, subject=a, at=NOW - timedelta(days=1)),
                make_report(3, subject=b, at=NOW - timedelta(hours=2)),
                make_report(4, subject=a, at=NOW - timedelta(hours=3)),
                make_report(5, subject=b, at=NOW - timedelta(hours=2)),
            ]
        )
        since = NOW - timedelta(days=30)
        got = store.reports_for_subjects([b, a, quiet, a], since)
        assert set(got) == {a, b, quiet} and got[quiet] == []
        assert [r.report_id[-1] for r in got[a]] == ["2", "4"]  # by occurred_at, then report_id
        assert [r.report_id[-1] for r in got[b]] == ["3", "5"]
        for s in (a, b, quiet):
            assert got[s] == store.reports_for_subject(s, since)
        assert store.reports_for_subjects([], since) == {}

    def test_reports_for_many_subjects(self, store: Store) -> None:
        subjects = [f"tel:+86170{i:08d}" for i in range(600)]  # more than one IN list on SQLite
        store.add_reports([make_report(i, subject=s) for i, s in enumerate(subjects)])
        got = store.reports_for_subjects(subjects, NOW - timedelta(days=1))
        assert len(got) == 600 and all(len(got[s]) == 1 and got[s][0].subject == s for s in subjects)

    def test_get_reputations_equal_the_reads_one_by_one(self, store: Store) -> None:
        reps = [reputation(f"tel:+86170{i:08d}", Action.BLOCK if i % 2 else Action.ALLOW) for i in range(700)]
        store.put_reputations(reps)
        wanted = [r.subject for r in reps[::3]] + ["tel:+8613900139000"]
        got = store.get_reputations(wanted + wanted[:5])
        assert got == {r.subject: r for r in reps[::3]}
        assert all(got[s] == store.get_reputation(s) for s in wanted[:20])
        assert store.get_reputations([]) == {}

    def test_port_blacklist_and_active_rules_answer_a_batch(self, store: Store) -> None:
        from datetime import date

        from numrep.models import PortBlacklistEntry

        ports = [PortBlacklistEntry(f"sms:10657{i:06d}", "Acme", "ads", "MIIT", date(2026, 9, 30)) for i in range(3)]
        store.add_port_blacklist(ports)
        assert store.port_blacklist([p.port for p in ports] + ["sms:10650000000"]) == {p.port: p for p in ports}
        rules = [rule(f"tel:+86{i}") for i in range(4)] + [rule("tel:+860", channel=Channel.SMS)]
        store.publish_rules(rules, [], NOW)
        assert set(store.active_rules(["tel:+860", "tel:+863", "tel:+869"])) == {
            "tel:+860#voice",
            "tel:+860#sms",
            "tel:+863#voice",
        }


class TestRuleLogRetention:
    def test_deltas_within_the_retained_log_and_snapshots_beyond(self, store: Store) -> None:
        store.keep_versions = 3
        held: dict[int, dict[str, Rule]] = {}
        for v in range(1, 7):
            removed = [f"tel:+86{v - 2}#voice"] if v > 2 else []
            assert store.publish_rules([rule(f"tel:+86{v}"), rule("tel:+86x", score_action(v))], removed, NOW) == v
            held[v] = {r.rule_id: r for r in store.rules_since(0).added}
        assert store.rules_since(2).full_snapshot  # its log was pruned
        for since in (4, 5):
            d = store.rules_since(since)
            assert not d.full_snapshot and d.from_version == since and d.version == 6
            state = dict(held[since])
            for rid in d.removed:
                state.pop(rid)
            state.update({r.rule_id: r for r in d.added})
            assert state == held[6] and canonical_checksum(state.values()) == d.checksum

    def test_added_then_removed_collapses_to_a_removal(self, store: Store) -> None:
        store.publish_rules([rule("tel:+86a")], [], NOW)
        store.publish_rules([rule("tel:+86b")], [], NOW)
        store.publish_rules([], ["tel:+86b#voice", "tel:+86a#voice"], NOW)
        store.publish_rules([rule("tel:+86a", Action.LABEL)], [], NOW)
        d = store.rules_since(1)
        assert [r.rule_id for r in d.added] == ["tel:+86a#voice"] and d.added[0].action is Action.LABEL
        assert d.removed == ("tel:+86b#voice",)


def score_action(v: int) -> Action:
    return Action.BLOCK if v % 2 else Action.LABEL


def test_optional_capabilities_name_the_class(store: Store) -> None:
    for call in (
        lambda: Store.allocations(store),
        lambda: Store.case_events(store, []),
        lambda: Store.prune_filter_snapshots(store, 1),
    ):
        with pytest.raises(NotImplementedError, match=type(store).__name__):
            call()
