"""The redress part of the store contract: reason codes on reputations and rules, and disputes."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta

from numrep.models import (
    Action,
    Category,
    Channel,
    Dispute,
    DisputeState,
    Proof,
    ReasonCode,
    Reputation,
    Rule,
    RuleKind,
    Transition,
)
from numrep.store.base import Store
from tests.conftest import NOW

SUBJECT = "tel:+8617012345678"


def reputation(codes: dict[Channel, ReasonCode], case_id: str = "") -> Reputation:
    return Reputation(
        subject=SUBJECT,
        score=90,
        actions={Channel.VOICE: Action.BLOCK, Channel.SMS: Action.LABEL},
        categories={Category.FRAUD: 3},
        reporters=3,
        weighted_reporters=2.0,
        first_seen=NOW,
        last_seen=NOW,
        reasons=("3 attested reporters",),
        protected=False,
        updated_at=NOW,
        codes=codes,
        case_id=case_id,
    )


def dispute(n: int, subject: str = SUBJECT, at=NOW) -> Dispute:  # type: ignore[no-untyped-def]
    return Dispute(
        f"dsp_{n:04d}",
        subject,
        Proof.ATTESTATION,
        "China Mobile",
        "this is my shop's line, 我的",
        "h1:own",
        at,
        (Transition(DisputeState.FILED, at, "operator:China Mobile", "filed"),),
        ("analyst block",),
    )


class TestReasonCodes:
    def test_reputations_keep_their_codes_and_case(self, store: Store) -> None:
        rep = reputation({Channel.VOICE: ReasonCode.CONFIRMED_FRAUD, Channel.SMS: ReasonCode.COMPLAINTS}, "police-1")
        store.put_reputations([rep])
        assert store.get_reputation(SUBJECT) == rep
        assert store.get_reputations([SUBJECT]) == {SUBJECT: rep}

    def test_rules_keep_their_code_in_the_feed_and_the_active_set(self, store: Store) -> None:
        coded = Rule(
            f"{SUBJECT}#voice",
            RuleKind.EXACT,
            SUBJECT,
            Channel.VOICE,
            Action.BLOCK,
            Category.FRAUD,
            "why",
            NOW,
            code=ReasonCode.HONEYPOT,
        )
        plain = Rule(
            "tel:+86170#voice", RuleKind.RANGE, "tel:+86170", Channel.VOICE, Action.LABEL, Category.OTHER, "range", NOW
        )
        assert store.publish_rules([coded, plain], [], NOW) == 1
        assert store.active_rules() == {coded.rule_id: coded, plain.rule_id: plain}
        assert set(store.rules_since(0).added) == {coded, plain}
        # a changed code alone is a change: published as a new version, and the delta carries it
        recoded = dataclasses.replace(coded, code=ReasonCode.BEHAVIOUR)
        assert store.publish_rules([recoded], [], NOW) == 2
        assert store.rules_since(1).added == (recoded,)
        assert store.publish_rules([recoded], [], NOW) is None


class TestDisputes:
    def test_filed_disputes_round_trip(self, store: Store) -> None:
        d = dispute(1)
        assert store.file_dispute(d) is None
        assert store.get_dispute(d.dispute_id) == d
        assert store.get_dispute("dsp_none") is None
        assert store.disputes_for_subjects([SUBJECT, "tel:+8613900000000"]) == {SUBJECT: [d]}
        assert store.open_disputes(10) == [d]

    def test_a_second_open_dispute_of_a_subject_is_not_stored(self, store: Store) -> None:
        first = dispute(1)
        store.file_dispute(first)
        assert store.file_dispute(dispute(2, at=NOW + timedelta(minutes=1))) == first
        assert store.disputes_for_subjects([SUBJECT]) == {SUBJECT: [first]}

    def test_concurrent_filings_store_one(self, store: Store) -> None:
        results: list[Dispute | None] = []
        lock = threading.Lock()

        def file(n: int) -> None:
            got = store.file_dispute(dispute(n))
            with lock:
                results.append(got)

        threads = [threading.Thread(target=file, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results.count(None) == 1
        [kept] = store.disputes_for_subjects([SUBJECT])[SUBJECT]
        assert all(r == kept for r in results if r is not None)

    def test_transitions_are_compare_and_set_and_a_closed_dispute_frees_its_subject(self, store: Store) -> None:
        d = dispute(1)
        store.file_dispute(d)
        ack = Transition(DisputeState.ACKNOWLEDGED, NOW + timedelta(hours=1), "analyst 7")
        moved = store.transition_dispute(d.dispute_id, DisputeState.FILED, ack)
        assert moved is not None and moved.state is DisputeState.ACKNOWLEDGED and moved.transitions[-1] == ack
        assert store.transition_dispute(d.dispute_id, DisputeState.FILED, ack) is None  # it moved on: refused
        assert store.transition_dispute("dsp_none", DisputeState.FILED, ack) is None
        upheld = Transition(DisputeState.UPHELD, NOW + timedelta(hours=2), "analyst 7", "shop line, mistaken reports")
        done = store.transition_dispute(d.dispute_id, DisputeState.ACKNOWLEDGED, upheld)
        assert done is not None and store.get_dispute(d.dispute_id) == done
        assert done.decided_at == upheld.at and done.reason == "shop line, mistaken reports"
        assert store.open_disputes(10) == []
        # the subject can be disputed again
        again = dispute(2, at=NOW + timedelta(days=3))
        assert store.file_dispute(again) is None
        assert store.disputes_for_subjects([SUBJECT]) == {SUBJECT: [done, again]}

    def test_disputes_filed_in_a_period_across_months(self, store: Store) -> None:
        late_oct = dispute(1, "tel:+8613900000001", NOW.replace(month=10, day=31, hour=23))
        nov = dispute(2, "tel:+8613900000002", NOW.replace(month=11, day=1, hour=0))
        dec = dispute(3, "tel:+8613900000003", NOW.replace(month=12, day=1, hour=0))
        for d in (dec, nov, late_oct):
            store.file_dispute(d)
        assert store.disputes_filed(late_oct.filed_at, dec.filed_at) == [late_oct, nov]
        assert store.disputes_filed(nov.filed_at, dec.filed_at + timedelta(microseconds=1)) == [nov, dec]
        assert store.open_disputes(2) == [late_oct, nov]
