"""The lookup path: protected → range rules → filter → store, and fail-safe."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from numrep import pipeline
from numrep.config import Settings
from numrep.errors import InvalidSubject, StoreUnavailable, Unconfirmed
from numrep.lookup import LookupEngine, Verdict, VerdictSource, decide
from numrep.models import Action, Category, Channel, Reputation, Rule, RuleKind
from numrep.protected import ProtectedSet
from numrep.rules import RuleIndex
from numrep.store.base import Store
from tests.conftest import make_report

NOW = datetime.now(UTC)
SPAM = "tel:+8617012345678"


class CountingStore:
    """Wraps a real store, counting reads and optionally failing them."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.reads = 0
        self.fail = False

    def get_reputation(self, subject: str) -> Reputation | None:
        self.reads += 1
        if self.fail:
            raise StoreUnavailable("store down")
        return self.inner.get_reputation(subject)

    def __getattr__(self, name: str) -> object:
        attr = getattr(self.inner, name)
        if self.fail and callable(attr):

            def failing(*a: object, **k: object) -> object:
                raise StoreUnavailable("store down")

            return failing
        return attr


@pytest.fixture
def flagged(store: Store, settings: Settings) -> Store:
    store.add_reports([make_report(i, at=NOW, attested_by="China Mobile") for i in range(10)])  # v2 blocks on attested
    store.add_reports([make_report(100 + i, subject="tel:+86110", at=NOW) for i in range(300)])
    pipeline.rescore_dirty(store, settings)
    return store


def engine_for(store: object, settings: Settings) -> LookupEngine:
    e = LookupEngine(store, settings)  # type: ignore[arg-type]
    e.refresh()
    return e


def test_filter_miss_does_no_io(flagged: Store, settings: Settings) -> None:
    counting = CountingStore(flagged)
    e = engine_for(counting, settings)
    v = e.lookup("13800138000")
    assert (v.action, v.source, counting.reads) == (Action.ALLOW, VerdictSource.FILTER, 0)


def test_hit_is_confirmed_against_the_store(flagged: Store, settings: Settings) -> None:
    counting = CountingStore(flagged)
    e = engine_for(counting, settings)
    v = e.lookup("+86 170 1234 5678")
    assert v.action is Action.BLOCK and v.source is VerdictSource.STORE and v.score > 80
    assert v.top_category is Category.LOANS_FINANCE and v.reasons and counting.reads == 1
    e.lookup(SPAM)
    assert counting.reads == 1  # cached
    assert e.lookup(SPAM, Channel.SMS).action is Action.ALLOW


def test_false_positive_costs_one_read_never_a_block(store: Store, settings: Settings) -> None:
    loose = settings.model_copy(update={"filter_error_rate": 0.3, "filter_min_capacity": 100})
    store.publish_rules(
        [
            Rule(
                f"tel:+86170{i:08d}#voice",
                RuleKind.EXACT,
                f"tel:+86170{i:08d}",
                Channel.VOICE,
                Action.BLOCK,
                Category.FRAUD,
                "test",
                NOW,
            )
            for i in range(80)
        ],
        [],
        NOW,
    )
    pipeline.sync_filter(store, loose)
    counting = CountingStore(store)
    e = engine_for(counting, loose)
    probes = (f"tel:+86138{i:08d}" for i in range(10_000))
    probe = next(p for p in probes if p in e._filter)  # noqa: SLF001 - a real false positive of the filter
    v = e.decide(probe)
    assert v.action is Action.ALLOW and v.source is VerdictSource.STORE and counting.reads == 1


def test_protected_numbers_allow_without_io(flagged: Store, settings: Settings) -> None:
    counting = CountingStore(flagged)
    e = engine_for(counting, settings)
    v = e.lookup("110")
    assert v.action is Action.ALLOW and v.protected and v.source is VerdictSource.PROTECTED and counting.reads == 0


def test_store_down_answers_from_published_rules(flagged: Store, settings: Settings) -> None:
    counting = CountingStore(flagged)
    e = engine_for(counting, settings)
    counting.fail = True
    assert e.refresh() is False and e.store_healthy is False
    v = e.lookup(SPAM)
    assert v.action is Action.BLOCK and v.source is VerdictSource.PUBLISHED_RULES
    assert e.lookup("13800138000").action is Action.ALLOW
    counting.fail = False
    e.refresh()
    assert e.store_healthy is True


def test_range_rules_longest_prefix(store: Store, settings: Settings) -> None:
    rules = [
        Rule(
            "tel:+86170#voice",
            RuleKind.RANGE,
            "tel:+86170",
            Channel.VOICE,
            Action.LABEL,
            Category.FRAUD,
            "170 range",
            NOW,
        ),
        Rule(
            "tel:+861701#voice",
            RuleKind.RANGE,
            "tel:+861701",
            Channel.VOICE,
            Action.BLOCK,
            Category.FRAUD,
            "1701 block",
            NOW,
        ),
    ]
    store.publish_rules(rules, [], NOW)
    e = engine_for(store, settings)
    assert e.lookup("17012345678").action is Action.BLOCK
    assert e.lookup("17098765432").action is Action.LABEL
    assert e.lookup("17098765432", Channel.SMS).action is Action.ALLOW
    assert e.lookup("95588").action is Action.ALLOW  # protected wins over any range


def test_new_versions_are_picked_up(store: Store, settings: Settings) -> None:
    e = engine_for(store, settings)
    assert e.lookup(SPAM).action is Action.ALLOW and e.version == 0
    store.add_reports([make_report(i, at=NOW, attested_by="China Mobile") for i in range(10)])  # v2 blocks on attested
    pipeline.rescore_dirty(store, settings)
    assert e.refresh() is True
    assert e.lookup(SPAM).action is Action.BLOCK and e.version == 1 and e.filter_version == 1


def test_malformed_input_raises_validation_error(store: Store, settings: Settings) -> None:
    with pytest.raises(InvalidSubject, match="too many digits"):
        engine_for(store, settings).lookup("1380013800012345")


def test_start_fails_fast_when_the_store_is_unreachable(store: Store, settings: Settings) -> None:
    counting = CountingStore(store)
    counting.fail = True
    e = LookupEngine(counting, settings)  # type: ignore[arg-type]
    with pytest.raises(StoreUnavailable, match="cannot load rules and filter"):
        e.start()


# ---- the decision itself: pure, over in-memory state ------------------------------------------------------
def _index() -> RuleIndex:
    rules = [
        Rule(f"{SPAM}#voice", RuleKind.EXACT, SPAM, Channel.VOICE, Action.BLOCK, Category.FRAUD, "exact", NOW),
        Rule("tel:+86171#voice", RuleKind.RANGE, "tel:+86171", Channel.VOICE, Action.LABEL, Category.FRAUD, "171", NOW),
    ]
    return RuleIndex.build(7, "", {r.rule_id: r for r in rules})


def _confirm_fails(subject: str, ch: Channel, version: int) -> Verdict:
    raise Unconfirmed("down")


def test_decide_runs_protected_range_miss_then_confirm() -> None:
    protected, index = ProtectedSet(), _index()
    asked: list[tuple[str, Channel, int]] = []

    def confirm(subject: str, ch: Channel, version: int) -> Verdict:
        asked.append((subject, ch, version))
        return Verdict(subject, ch, Action.BLOCK, VerdictSource.STORE, version)

    def run(subject: str, channel: Channel | None = None) -> Verdict:
        return decide(subject, channel, protected, index, {"tel:+8613900000000"}, confirm)

    assert run("tel:+86110")[2:5] == (Action.ALLOW, VerdictSource.PROTECTED, 7)
    assert run("tel:+8617100000000")[2:4] == (Action.LABEL, VerdictSource.RANGE_RULE)
    miss = run("tel:+8617100000000", Channel.SMS)
    assert miss == Verdict("tel:+8617100000000", Channel.SMS, Action.ALLOW, VerdictSource.FILTER, 7)
    assert type(miss) is Verdict and miss.reasons == () and miss.categories == {}
    assert run("sms:106575551234").channel is Channel.SMS and not asked
    assert run(SPAM)[2:4] == (Action.BLOCK, VerdictSource.STORE)  # in the exact rules
    assert run("tel:+8613900000000")[2:4] == (Action.BLOCK, VerdictSource.STORE)  # in the filter
    assert asked == [(SPAM, Channel.VOICE, 7), ("tel:+8613900000000", Channel.VOICE, 7)]


def test_decide_falls_back_to_the_published_rules_when_confirm_cannot_answer() -> None:
    protected, index = ProtectedSet(), _index()
    v = decide(SPAM, None, protected, index, set(), _confirm_fails)
    assert (v.action, v.source, v.reasons) == (Action.BLOCK, VerdictSource.PUBLISHED_RULES, ("exact",))
    v = decide(
        "tel:+8613900000000",
        None,
        protected,
        index,
        {"tel:+8613900000000"},
        _confirm_fails,
        VerdictSource.LOCAL_MISS,
        VerdictSource.LOCAL_RULES,
    )
    assert (v.action, v.source) == (Action.ALLOW, VerdictSource.LOCAL_RULES)
    v = decide(
        "tel:+8613800138000",
        None,
        protected,
        index,
        set(),
        _confirm_fails,
        VerdictSource.LOCAL_MISS,
        VerdictSource.LOCAL_RULES,
    )
    assert (v.action, v.source) == (Action.ALLOW, VerdictSource.LOCAL_MISS)
