"""Scoring v2: weak complaints never block alone, strong evidence does, and it stays a pure function."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from numrep.config import Settings
from numrep.evidence.records import Behaviour
from numrep.models import Action, Category, Channel, Complaint, ReporterStats
from numrep.scoring_v2 import Evidence, ParamsV2, score_v2

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
SUBJECT = "tel:+8613800138000"


@pytest.fixture
def params(settings: Settings) -> ParamsV2:
    return ParamsV2.from_settings(settings)


def complaints(
    n: int,
    *,
    ago: timedelta = timedelta(hours=2),
    spread: timedelta = timedelta(0),
    number: bool = False,
    attested: str = "",
    start: int = 0,
) -> list[Complaint]:
    return [
        Complaint(
            report_id=f"r{start + i}",
            reporter_hash=f"h1:rep{start + i}",
            channel=Channel.VOICE,
            category=Category.LOANS_FINANCE,
            occurred_at=NOW - ago - spread * i / max(n, 1),
            reporter_number_hash=f"h1:num{start + i}" if number else "",
            attested_by=attested,
        )
        for i in range(n)
    ]


SPAMMER = Behaviour(
    calls=3000, answered=450, short_calls=360, ring_once_calls=300, distinct_callees=2800, distinct_prefixes=120
)
COURIER = Behaviour(
    calls=900, answered=700, short_calls=200, ring_once_calls=40, distinct_callees=650, distinct_prefixes=640
)


def test_eight_invented_ids_never_block(params: ParamsV2) -> None:
    # given eight fresh, unverified reporters (the attack that used to BLOCK any number)
    scored = score_v2(Evidence(SUBJECT, complaints(8)), NOW, params)
    # then the number is labelled at most, and the reasons say why it is not blocked
    assert scored.reputation.action(Channel.VOICE) is Action.LABEL
    assert any("BLOCK withheld" in r for r in scored.reputation.reasons)
    assert "8 unverified reporters" in scored.reputation.reasons[0]


@pytest.mark.parametrize("n, action", [(2, Action.ALLOW), (3, Action.LABEL)])
def test_three_distinct_victims_label_a_number(params: ParamsV2, n: int, action: Action) -> None:
    assert (
        score_v2(Evidence(SUBJECT, complaints(n, spread=timedelta(days=3))), NOW, params).reputation.action(
            Channel.VOICE
        )
        is action
    )


def test_corroborated_complaints_block(params: ParamsV2) -> None:
    cs = complaints(3, number=True)
    scored = score_v2(Evidence(SUBJECT, cs, corroborated=frozenset(c.report_id for c in cs)), NOW, params)
    assert scored.reputation.action(Channel.VOICE) is Action.BLOCK
    assert scored.reputation.reasons[0].startswith("3 corroborated reporters")


def test_attested_complaints_block_but_one_attested_among_a_mob_does_not(params: ParamsV2) -> None:
    assert (
        score_v2(Evidence(SUBJECT, complaints(3, attested="China Mobile")), NOW, params).reputation.action(
            Channel.VOICE
        )
        is Action.BLOCK
    )
    mob = complaints(1, attested="China Mobile") + complaints(50, start=1)
    assert score_v2(Evidence(SUBJECT, mob), NOW, params).reputation.action(Channel.VOICE) is Action.LABEL


def test_a_bombing_surge_is_held_and_flagged_for_review(params: ParamsV2) -> None:
    # given 2,000 fresh accounts within an hour on a legitimate line
    scored = score_v2(
        Evidence(SUBJECT, complaints(2000, spread=timedelta(hours=1)), behaviour={Channel.VOICE: COURIER}), NOW, params
    )
    assert scored.reputation.action(Channel.VOICE) is Action.LABEL
    assert scored.surge is not None and "2000 of 2000" in scored.surge
    assert any(r.startswith("held for review") for r in scored.reputation.reasons)


def test_a_surge_does_not_shield_a_spammer_whose_behaviour_blocks(params: ParamsV2) -> None:
    scored = score_v2(Evidence(SUBJECT, complaints(100), behaviour={Channel.VOICE: SPAMMER}), NOW, params)
    assert scored.surge is not None
    assert scored.reputation.action(Channel.VOICE) is Action.BLOCK


def test_behaviour_blocks_a_spammer_and_passes_a_courier(params: ParamsV2) -> None:
    spam = score_v2(Evidence(SUBJECT, behaviour={Channel.VOICE: SPAMMER}), NOW, params).reputation
    assert spam.action(Channel.VOICE) is Action.BLOCK
    assert any("sequential dialling" in r and "answered" in r for r in spam.reasons)
    courier = score_v2(Evidence(SUBJECT, behaviour={Channel.VOICE: COURIER}), NOW, params).reputation
    assert courier.action(Channel.VOICE) is Action.ALLOW and courier.score < 20


@pytest.mark.parametrize("hits, action", [(1, Action.LABEL), (2, Action.BLOCK)])
def test_one_honeypot_hit_never_blocks_alone(params: ParamsV2, hits: int, action: Action) -> None:
    b = Behaviour(
        calls=hits,
        distinct_callees=hits,
        distinct_prefixes=hits,
        honeypots=frozenset(f"h1:pot{i}" for i in range(hits)),
    )
    rep = score_v2(Evidence(SUBJECT, behaviour={Channel.VOICE: b}), NOW, params).reputation
    assert rep.action(Channel.VOICE) is action


def test_velocity_shrinks_a_reporter_that_reports_many_subjects(params: ParamsV2) -> None:
    cs = complaints(3)
    busy = {c.reporter_hash: ReporterStats(c.reporter_hash, NOW - timedelta(days=1), subjects_24h=30) for c in cs}
    assert score_v2(Evidence(SUBJECT, cs, reporters=busy), NOW, params).reputation.action(Channel.VOICE) is Action.ALLOW


def test_an_account_with_history_outweighs_a_fresh_id(params: ParamsV2) -> None:
    cs = complaints(2)
    old = {c.reporter_hash: ReporterStats(c.reporter_hash, NOW - timedelta(days=90)) for c in cs}
    fresh = score_v2(Evidence(SUBJECT, cs), NOW, params).reputation
    aged = score_v2(Evidence(SUBJECT, cs, reporters=old), NOW, params).reputation
    assert aged.score > fresh.score
    assert "2 account reporters" in aged.reasons[0]


def test_protected_and_authoritative(params: ParamsV2) -> None:
    cs = complaints(30, number=True)
    strong = Evidence(SUBJECT, cs, corroborated=frozenset(c.report_id for c in cs), behaviour={Channel.VOICE: SPAMMER})
    assert score_v2(strong, NOW, params, protected_reason="bank").reputation.action(Channel.VOICE) is Action.ALLOW
    auth = score_v2(Evidence(SUBJECT, authoritative=("confirmed fraud: case 7",)), NOW, params).reputation
    assert auth.action(Channel.VOICE) is Action.BLOCK and auth.reasons[0] == "confirmed fraud: case 7"


def test_analyst_clearance_and_hold(params: ParamsV2) -> None:
    cs = complaints(3, attested="China Mobile")
    cleared = score_v2(Evidence(SUBJECT, cs, cleared_before=NOW - timedelta(hours=1)), NOW, params).reputation
    assert cleared.action(Channel.VOICE) is Action.ALLOW
    held = score_v2(Evidence(SUBJECT, cs, analyst_hold=True), NOW, params).reputation
    assert held.action(Channel.VOICE) is Action.LABEL


def test_complaints_fade_once_a_subject_goes_quiet_and_scoring_is_pure(params: ParamsV2) -> None:
    ev = Evidence(SUBJECT, complaints(5, attested="China Mobile"))
    assert score_v2(ev, NOW, params) == score_v2(ev, NOW, params)
    assert score_v2(ev, NOW + timedelta(days=20), params).reputation.action(Channel.VOICE) is Action.ALLOW


def test_trust_follows_outcomes(params: ParamsV2) -> None:
    cs = complaints(3)
    proven = {c.reporter_hash: ReporterStats(c.reporter_hash, NOW - timedelta(days=1), confirmed=4) for c in cs}
    wrong = {c.reporter_hash: ReporterStats(c.reporter_hash, NOW - timedelta(days=1), cleared=1) for c in cs}
    base = score_v2(Evidence(SUBJECT, cs), NOW, params).reputation
    assert score_v2(Evidence(SUBJECT, cs, reporters=proven), NOW, params).reputation.score > base.score
    assert (
        score_v2(Evidence(SUBJECT, cs, reporters=wrong), NOW, params).reputation.action(Channel.VOICE) is Action.ALLOW
    )
    # reporters with a record of confirmed reports are still unverified: they never block alone
    many = complaints(40)
    best = {c.reporter_hash: ReporterStats(c.reporter_hash, NOW - timedelta(days=1), confirmed=9) for c in many}
    assert (
        score_v2(Evidence(SUBJECT, many, reporters=best), NOW, params).reputation.action(Channel.VOICE) is Action.LABEL
    )


# A busy honest line that looks half like a spammer (few answered, short calls), and a ring-once fraudster.
BUSY = Behaviour(calls=2000, answered=600, short_calls=360, distinct_callees=1500, distinct_prefixes=1400)
WANGIRI = Behaviour(calls=1000, answered=50, ring_once_calls=700, distinct_callees=950, distinct_prefixes=900)


def test_callbacks_weigh_down_a_busy_line_and_say_so(params: ParamsV2) -> None:
    # given the same calls, without and with 30 % of the people it reached calling it back
    alone = score_v2(Evidence(SUBJECT, behaviour={Channel.VOICE: BUSY}), NOW, params).reputation
    called_back = dataclasses.replace(BUSY, reached=1000, called_back=300)
    helped = score_v2(Evidence(SUBJECT, behaviour={Channel.VOICE: called_back}), NOW, params).reputation
    # then the callbacks take it from LABEL to ALLOW, and the reasons say why
    assert alone.action(Channel.VOICE) is Action.LABEL
    assert helped.action(Channel.VOICE) is Action.ALLOW and helped.score < alone.score
    assert any("300 of 1,000 people reached called back (30%): weighed ×0.30" in r for r in helped.reasons)


def test_a_few_callbacks_or_few_people_reached_change_nothing(params: ParamsV2) -> None:
    base = score_v2(Evidence(SUBJECT, behaviour={Channel.VOICE: BUSY}), NOW, params).reputation.score
    for reached, back in ((1000, 40), (19, 19)):  # 4 %; or too few people to judge
        b = dataclasses.replace(BUSY, reached=reached, called_back=back)
        assert score_v2(Evidence(SUBJECT, behaviour={Channel.VOICE: b}), NOW, params).reputation.score == base


def test_ring_once_fraud_stays_blocked_however_many_call_back(params: ParamsV2) -> None:
    b = dataclasses.replace(WANGIRI, reached=900, called_back=450)
    assert (
        score_v2(Evidence(SUBJECT, behaviour={Channel.VOICE: b}), NOW, params).reputation.action(Channel.VOICE)
        is Action.BLOCK
    )


@pytest.mark.parametrize("behaviour", [SPAMMER, COURIER, BUSY, WANGIRI])
@pytest.mark.parametrize("share", [0.0, 0.1, 0.2, 0.5, 1.0])
def test_callbacks_never_raise_a_score(params: ParamsV2, behaviour: Behaviour, share: float) -> None:
    without = score_v2(Evidence(SUBJECT, complaints(3), behaviour={Channel.VOICE: behaviour}), NOW, params).reputation
    b = dataclasses.replace(behaviour, reached=500, called_back=int(500 * share))
    with_cb = score_v2(Evidence(SUBJECT, complaints(3), behaviour={Channel.VOICE: b}), NOW, params).reputation
    assert with_cb.score <= without.score
    assert list(Action).index(with_cb.action(Channel.VOICE)) <= list(Action).index(without.action(Channel.VOICE))
