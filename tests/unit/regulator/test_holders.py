"""Holder scores per period, tiers with reasons, and range rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from numrep import pipeline
from numrep.config import Settings
from numrep.lookup import LookupEngine, VerdictSource
from numrep.models import Action, Allocation, Category, Channel, HolderType, Report, Source
from numrep.regulator.holders import range_rules, score_holders
from numrep.regulator.periods import Period
from numrep.store.base import Store

PERIOD = Period.parse("2026-10")
IN_PERIOD = datetime(2026, 10, 10, 12, tzinfo=UTC)
BEFORE = datetime(2026, 9, 10, 12, tzinfo=UTC)

ALLOCATIONS = [
    Allocation("tel:+86170", "China Telecom", HolderType.OPERATOR, 10_000_000),
    Allocation("tel:+8617001", "Virtual Mobile Co", HolderType.RESELLER, 1_000),
    Allocation("tel:+86138", "China Mobile", HolderType.OPERATOR, 100_000_000),
]


def report(n: int, subject: str, at: datetime, category: Category = Category.LOANS_FINANCE) -> Report:
    return Report(f"30000000-0000-4000-8000-{n:012d}", f"h1:r{n}", subject, Channel.VOICE, category, at, at, Source.APP)


def load(store: Store) -> None:
    store.put_allocations(ALLOCATIONS)
    reports = [report(i, f"tel:+8617001{i % 40:06d}", IN_PERIOD) for i in range(80)]  # reseller: 80 complaints
    reports += [report(100 + i, f"tel:+8617001{i:06d}", BEFORE) for i in range(10)]  # 10 the month before
    reports += [report(200 + i, f"tel:+86170999{i:05d}", IN_PERIOD, Category.RETAIL) for i in range(5)]
    reports += [report(300 + i, "tel:+8613800138000", IN_PERIOD, Category.INSURANCE) for i in range(3)]
    store.add_reports(reports)


def test_scores_tiers_and_reasons(store: Store) -> None:
    load(store)
    flagged = [f"tel:+8617001{i:06d}" for i in range(30)]
    scores = {s.holder: s for s in score_holders(store, PERIOD, flagged=flagged)}
    reseller = scores["Virtual Mobile Co"]
    assert (reseller.complaints, reseller.reported_numbers, reseller.flagged_numbers) == (80, 40, 30)
    assert reseller.complaints_per_10k == 800.0 and reseller.previous_per_10k == 100.0 and reseller.trend == 8.0
    assert reseller.tier == "D" and "suspend new range allocations" in reseller.restrictions
    assert reseller.reasons == (
        "80 complaints = 800.0 per 10,000 allocated numbers (1,000 allocated)",
        "8.0x the previous period (100.0 per 10,000)",
        "30 of 40 reported numbers flagged (75%)",
        "mostly loans_finance (100%)",
    )
    operator = scores["China Telecom"]
    assert operator.complaints == 5 and operator.tier == "A" and operator.categories == {Category.RETAIL: 5}
    assert scores["China Mobile"].complaints == 3
    assert [s.holder for s in score_holders(store, PERIOD, flagged=flagged)][0] == "Virtual Mobile Co"


def test_range_rules_for_abusive_ranges_only(store: Store, settings: Settings) -> None:
    load(store)
    flagged = [f"tel:+8617001{i:06d}" for i in range(60)]  # 6% of the reseller's 1,000 numbers
    rules = range_rules(store, settings, ["tel:+86110"], flagged=flagged)
    assert set(rules) == {"tel:+8617001#voice", "tel:+8617001#sms"}
    assert rules["tel:+8617001#voice"].action is Action.LABEL
    assert rules["tel:+8617001#voice"].reason.startswith(
        "range tel:+8617001 of Virtual Mobile Co (reseller): 60 of 1,000"
    )
    # a range that would cover a protected subject never gets a rule
    assert range_rules(store, settings, ["tel:+86170011"], flagged=flagged) == {}
    assert range_rules(store, settings, [], flagged=flagged[:10]) == {}  # too few


def test_published_range_rules_answer_lookups(store: Store, settings: Settings) -> None:
    load(store)
    now = datetime.now(UTC)
    store.add_reports(
        [
            report(1000 + i * 10 + k, f"tel:+8617001{i:06d}", now - timedelta(hours=1))
            for i in range(60)
            for k in range(9)
        ]
    )
    pipeline.rescore_dirty(store, settings.model_copy(update={"range_rule_min_flagged": 20}))
    assert len([s for s in store.flagged_subjects() if s.startswith("tel:+8617001")]) >= 50
    assert pipeline.publish_range_rules(store, settings) is not None
    assert pipeline.publish_range_rules(store, settings) is None  # idempotent
    engine = LookupEngine(store, settings)
    engine.refresh()
    v = engine.lookup("+86 170 0199 9999")
    assert v.source is VerdictSource.RANGE_RULE and v.action is Action.LABEL
    assert engine.lookup("110").protected


def test_periods() -> None:
    assert (PERIOD.start, PERIOD.end, PERIOD.previous().label) == (date(2026, 10, 1), date(2026, 11, 1), "2026-09")
    assert Period.parse("2026-Q4").end == date(2027, 1, 1) and Period.parse("2026-W01").start == date(2025, 12, 29)
