"""Reason codes: every LABEL and BLOCK names the strongest evidence that decided; ALLOW names none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from numrep.config import Settings
from numrep.evidence.records import Behaviour
from numrep.models import Action, Category, Channel, Complaint, ReasonCode, Rule, RuleKind
from numrep.rules import diff, rules_for
from numrep.scoring_v2 import Evidence, ParamsV2, score_v2

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
SUBJECT = "tel:+8613800138000"
SPAMMER = Behaviour(
    calls=3000, answered=450, short_calls=360, ring_once_calls=300, distinct_callees=2800, distinct_prefixes=120
)


def complaints(n: int, attested: str = "") -> list[Complaint]:
    return [
        Complaint(
            f"r{i}", f"h1:rep{i}", Channel.VOICE, Category.LOANS_FINANCE, NOW - timedelta(hours=2), attested_by=attested
        )
        for i in range(n)
    ]


@pytest.fixture
def params(settings: Settings) -> ParamsV2:
    return ParamsV2.from_settings(settings)


@pytest.mark.parametrize(
    "evidence, action, code",
    [
        (Evidence(SUBJECT, complaints(8)), Action.LABEL, ReasonCode.COMPLAINTS),
        (Evidence(SUBJECT, complaints(3, attested="China Mobile")), Action.BLOCK, ReasonCode.CORROBORATED_COMPLAINTS),
        (
            Evidence(SUBJECT, complaints(3), corroborated=frozenset({"r0", "r1", "r2"})),
            Action.BLOCK,
            ReasonCode.CORROBORATED_COMPLAINTS,
        ),
        (Evidence(SUBJECT, complaints(4), behaviour={Channel.VOICE: SPAMMER}), Action.BLOCK, ReasonCode.BEHAVIOUR),
        (
            Evidence(SUBJECT, behaviour={Channel.VOICE: Behaviour(honeypots=frozenset({"h1:a", "h1:b"}))}),
            Action.BLOCK,
            ReasonCode.HONEYPOT,
        ),
        (
            Evidence(
                SUBJECT,
                complaints(3),
                authoritative=("confirmed fraud: case police-1",),
                authoritative_code=ReasonCode.CONFIRMED_FRAUD,
                case_id="police-1",
            ),
            Action.BLOCK,
            ReasonCode.CONFIRMED_FRAUD,
        ),
        (
            Evidence(
                "sms:106575551234", authoritative=("SMS port shut down",), authoritative_code=ReasonCode.PORT_BLACKLIST
            ),
            Action.BLOCK,
            ReasonCode.PORT_BLACKLIST,
        ),
    ],
)
def test_a_flagged_verdict_carries_the_code_of_its_strongest_evidence(
    params: ParamsV2, evidence: Evidence, action: Action, code: ReasonCode
) -> None:
    rep = score_v2(evidence, NOW, params).reputation
    channel = Channel.SMS if evidence.subject.startswith("sms:") else Channel.VOICE
    assert rep.action(channel) is action
    assert rep.codes[channel] is code
    assert rep.case_id == evidence.case_id


def test_allow_and_protected_carry_no_code(params: ParamsV2) -> None:
    assert score_v2(Evidence(SUBJECT, complaints(2)), NOW, params).reputation.codes == {}
    protected = score_v2(Evidence(SUBJECT, complaints(3, attested="X"), authoritative=("x",)), NOW, params, "bank")
    assert protected.reputation.codes == {} and protected.reputation.case_id == ""


def test_a_report_surge_names_its_review_case(params: ParamsV2) -> None:
    bombing = [
        Complaint(f"r{i}", f"h1:bot{i}", Channel.VOICE, Category.FRAUD, NOW - timedelta(minutes=i)) for i in range(40)
    ]
    rep = score_v2(Evidence(SUBJECT, bombing), NOW, params).reputation
    assert rep.action(Channel.VOICE) is Action.LABEL and rep.codes[Channel.VOICE] is ReasonCode.COMPLAINTS
    assert rep.case_id == f"report_bombing:{SUBJECT}"


def test_rules_carry_the_code_and_a_changed_code_is_republished(params: ParamsV2) -> None:
    weak = score_v2(Evidence(SUBJECT, complaints(8)), NOW, params).reputation
    [rule] = rules_for(weak, NOW).values()
    assert rule.code is ReasonCode.COMPLAINTS
    fraud = score_v2(
        Evidence(SUBJECT, complaints(8), authoritative=("fraud",), authoritative_code=ReasonCode.CONFIRMED_FRAUD),
        NOW,
        params,
    ).reputation
    blocked = rules_for(fraud, NOW)
    upserts, removed = diff({rule.rule_id: rule}, blocked)
    assert [r.code for r in upserts] == [ReasonCode.CONFIRMED_FRAUD, ReasonCode.CONFIRMED_FRAUD] and removed == []
    # the same action with another code is published again (clients show the code); the checksum line is unchanged
    recoded = Rule(
        rule.rule_id,
        RuleKind.EXACT,
        rule.subject,
        rule.channel,
        rule.action,
        rule.category,
        rule.reason,
        rule.issued_at,
        code=ReasonCode.BEHAVIOUR,
    )
    assert recoded.canonical() == rule.canonical()
    assert diff({rule.rule_id: rule}, {rule.rule_id: recoded}) == ([recoded], [])
    assert diff({rule.rule_id: rule}, {rule.rule_id: rule}) == ([], [])


def test_range_rules_answer_range_rule_and_published_rules_keep_their_code() -> None:
    from numrep.errors import Unconfirmed
    from numrep.lookup import VerdictSource, decide
    from numrep.protected import ProtectedSet
    from numrep.rules import RuleIndex

    def unreachable(subject: str, channel: Channel, version: int):  # type: ignore[no-untyped-def]
        raise Unconfirmed("the store is down")

    uncoded = Rule(
        "tel:+86170#voice", RuleKind.RANGE, "tel:+86170", Channel.VOICE, Action.LABEL, Category.OTHER, "range", NOW
    )  # published before rules carried codes
    exact = Rule(
        "tel:+8613800138000#voice",
        RuleKind.EXACT,
        SUBJECT,
        Channel.VOICE,
        Action.BLOCK,
        Category.FRAUD,
        "why",
        NOW,
        code=ReasonCode.BEHAVIOUR,
    )
    index = RuleIndex.build(3, "", {r.rule_id: r for r in (uncoded, exact)})
    ranged = decide("tel:+8617000000001", Channel.VOICE, ProtectedSet(), index, frozenset(), unreachable)
    assert (ranged.action, ranged.source, ranged.code) == (
        Action.LABEL,
        VerdictSource.RANGE_RULE,
        ReasonCode.RANGE_RULE,
    )
    fallback = decide(SUBJECT, Channel.VOICE, ProtectedSet(), index, frozenset({SUBJECT}), unreachable)
    assert (fallback.action, fallback.source, fallback.code) == (
        Action.BLOCK,
        VerdictSource.PUBLISHED_RULES,
        ReasonCode.BEHAVIOUR,
    )
