"""Scoring v1."""

from __future__ import annotations

from datetime import timedelta

import pytest

from numrep.config import Settings
from numrep.models import Action, Category, Channel, Source
from numrep.scoring import ScoringParams, score_subject
from tests.conftest import NOW, make_report

SUBJECT = "tel:+8617012345678"


@pytest.fixture
def params(settings: Settings) -> ScoringParams:
    return ScoringParams.from_settings(settings)


def test_no_reports_scores_zero_and_allows(params: ScoringParams) -> None:
    rep = score_subject(SUBJECT, [], NOW, params)
    assert rep.score == 0 and not rep.flagged and rep.reporters == 0 and rep.reasons == ()


def test_distinct_reporters_count_once(params: ScoringParams) -> None:
    same = [make_report(i, reporter="h1:same", at=NOW - timedelta(minutes=i)) for i in range(50)]
    rep = score_subject(SUBJECT, same, NOW, params)
    assert rep.reporters == 1 and rep.actions[Channel.VOICE] is Action.ALLOW


@pytest.mark.parametrize("n, action", [(2, Action.ALLOW), (4, Action.LABEL), (9, Action.BLOCK)])
def test_thresholds(params: ScoringParams, n: int, action: Action) -> None:
    rep = score_subject(SUBJECT, [make_report(i) for i in range(n)], NOW, params)
    assert rep.actions[Channel.VOICE] is action
    assert rep.actions[Channel.SMS] is Action.ALLOW  # nobody reported an SMS


def test_reasons_explain_the_verdict(params: ScoringParams) -> None:
    reports = [make_report(i, category=Category.LOANS_FINANCE) for i in range(9)] + [
        make_report(100 + i, category=Category.RETAIL) for i in range(3)
    ]
    rep = score_subject(SUBJECT, reports, NOW, params)
    assert rep.reasons[0] == "12 reporters in 30 days (weighted 12.0), mostly loans_finance"
    assert rep.reasons[1].startswith("voice: score 91 >= block threshold 80")
    assert rep.categories == {Category.LOANS_FINANCE: 9, Category.RETAIL: 3}
    assert rep.top_category is Category.LOANS_FINANCE


def test_decay_delists_over_time(params: ScoringParams) -> None:
    reports = [make_report(i) for i in range(9)]
    assert score_subject(SUBJECT, reports, NOW, params).actions[Channel.VOICE] is Action.BLOCK
    later = score_subject(SUBJECT, reports, NOW + timedelta(days=7), params)  # one half-life: 4.5 weighted
    assert later.actions[Channel.VOICE] is Action.LABEL
    gone = score_subject(SUBJECT, reports, NOW + timedelta(days=31), params)  # out of the window
    assert gone.score == 0 and not gone.flagged


def test_future_reports_beyond_skew_do_not_count(params: ScoringParams) -> None:
    reports = [make_report(i, at=NOW + timedelta(hours=1)) for i in range(20)]
    assert score_subject(SUBJECT, reports, NOW, params).score == 0


def test_source_weights(settings: Settings) -> None:
    params = ScoringParams.from_settings(settings.model_copy(update={"source_weights": {"web": 0.0}}))
    reports = [make_report(i, source=Source.WEB) for i in range(20)]
    assert score_subject(SUBJECT, reports, NOW, params).score == 0


def test_channels_are_scored_apart(params: ScoringParams) -> None:
    reports = [make_report(i, channel=Channel.SMS) for i in range(10)]
    rep = score_subject(SUBJECT, reports, NOW, params)
    assert rep.actions == {Channel.VOICE: Action.ALLOW, Channel.SMS: Action.BLOCK}


def test_sms_ports_have_only_the_sms_channel(params: ScoringParams) -> None:
    port = "sms:10657000123456"
    rep = score_subject(port, [make_report(i, subject=port, channel=Channel.SMS) for i in range(10)], NOW, params)
    assert rep.actions == {Channel.SMS: Action.BLOCK}


def test_protected_subjects_always_allow(params: ScoringParams) -> None:
    reports = [make_report(i, subject="tel:+8695588") for i in range(500)]
    rep = score_subject("tel:+8695588", reports, NOW, params, protected_reason="ICBC")
    assert rep.protected and not rep.flagged
    assert rep.reasons[0] == "protected: ICBC"


def test_authoritative_evidence_blocks_directly(params: ScoringParams) -> None:
    rep = score_subject(SUBJECT, [], NOW, params, authoritative=["port shut down by the regulator"])
    assert rep.actions[Channel.VOICE] is Action.BLOCK and rep.score == 100
    assert score_subject(SUBJECT, [], NOW, params, "bank", ["x"]).flagged is False


def test_scoring_is_deterministic(params: ScoringParams) -> None:
    reports = [make_report(i, at=NOW - timedelta(hours=i)) for i in range(7)]
    assert score_subject(SUBJECT, reports, NOW, params) == score_subject(SUBJECT, list(reversed(reports)), NOW, params)
