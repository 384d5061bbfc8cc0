"""What an upheld dispute does to scoring's evidence: complaints and behaviour from before it stop counting,
honeypot hits (authoritative) stay, and evidence after it counts as usual."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from numrep.config import Settings
from numrep.evidence.records import merge
from numrep.evidence.sketch import HyperLogLog
from numrep.models import CallAggregate, Channel, Dispute, DisputeState, Proof, Transition
from numrep.redress import disputes
from numrep.scoring_v2 import Evidence
from numrep.store.base import Store

SUBJECT = "tel:+8617012345678"
FILED = datetime(2026, 11, 10, 8, tzinfo=UTC)
UPHELD = FILED + timedelta(hours=30)


def hour(at: datetime, calls: int, honeypots: tuple[str, ...] = ()) -> CallAggregate:
    callees = HyperLogLog()
    for i in range(calls):
        callees.add(f"tel:+86139{i:08d}")
    return CallAggregate(
        SUBJECT,
        Channel.VOICE,
        at.replace(minute=0, second=0, microsecond=0),
        "records",
        calls,
        calls // 10,
        calls // 20,
        calls // 2,
        0,
        callees.to_bytes(),
        callees.to_bytes(),
        honeypots,
    )


def uphold(store: Store) -> None:
    d = Dispute(
        "dsp_1",
        SUBJECT,
        Proof.ATTESTATION,
        "Virtual Mobile Co",
        "mine",
        "h1:o",
        FILED,
        (Transition(DisputeState.FILED, FILED, "operator:Virtual Mobile Co"),),
    )
    store.file_dispute(d)
    store.transition_dispute("dsp_1", DisputeState.FILED, Transition(DisputeState.UNDER_REVIEW, FILED, "ana"))
    store.transition_dispute("dsp_1", DisputeState.UNDER_REVIEW, Transition(DisputeState.UPHELD, UPHELD, "ana", "ok"))


def test_an_upheld_dispute_clears_complaints_and_behaviour_before_it_but_keeps_honeypot_hits(
    sqlite_store: Store, settings: Settings
) -> None:
    uphold(sqlite_store)
    before = [hour(UPHELD - timedelta(hours=5), 400, honeypots=("h2:pot",)), hour(UPHELD - timedelta(hours=2), 300)]
    after = [hour(UPHELD + timedelta(hours=1), 50)]
    rows = {SUBJECT: before + after}
    as_of = UPHELD + timedelta(hours=3)
    ev = Evidence(SUBJECT, behaviour={Channel.VOICE: merge(before + after, Channel.VOICE)})
    [got] = disputes.apply(sqlite_store, settings, {SUBJECT: ev}, rows, as_of).values()
    assert got.cleared_before == UPHELD
    voice = got.behaviour[Channel.VOICE]
    assert voice.calls == 50 and voice.honeypots == frozenset({"h2:pot"})
    assert voice == dataclasses.replace(merge(after, Channel.VOICE), honeypots=frozenset({"h2:pot"}))
    assert got.dispute_hold == "" and got.case_id == ""  # decided: no hold, and no open dispute to name


def test_before_the_decision_the_evidence_is_untouched_and_review_holds(
    sqlite_store: Store, settings: Settings
) -> None:
    d = Dispute(
        "dsp_2",
        SUBJECT,
        Proof.CODE,
        "Virtual Mobile Co",
        "mine",
        "h1:o",
        FILED,
        (Transition(DisputeState.FILED, FILED, "owner"),),
    )
    sqlite_store.file_dispute(d)
    ev = Evidence(SUBJECT, behaviour={Channel.VOICE: merge([hour(FILED, 400)], Channel.VOICE)})
    [filed] = disputes.apply(sqlite_store, settings, {SUBJECT: ev}, {}, FILED + timedelta(hours=1)).values()
    assert (filed.cleared_before, filed.dispute_hold, filed.case_id) == (None, "", "dsp_2")
    assert filed.behaviour == ev.behaviour
    sqlite_store.transition_dispute("dsp_2", DisputeState.FILED, Transition(DisputeState.UNDER_REVIEW, FILED, "ana"))
    [held] = disputes.apply(sqlite_store, settings, {SUBJECT: ev}, {}, FILED + timedelta(hours=1)).values()
    assert held.dispute_hold == "dsp_2"
    off = settings.model_copy(update={"dispute_review_label": False})
    [free] = disputes.apply(sqlite_store, off, {SUBJECT: ev}, {}, FILED + timedelta(hours=1)).values()
    assert free.dispute_hold == ""
