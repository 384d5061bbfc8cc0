"""End to end: a number blocked on complaints, its owner disputes through the holder operator, an analyst upholds,
and Lookup and the rules feed change — over gRPC, with the real Celery worker rescoring.

The time from the decision to the change on Lookup and in the rules feed is
printed and written to artifacts/e2e-latency.txt (target ≤ 5 s on the
embedded default); it is measured, not asserted.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from numrep import auth
from numrep.models import Allocation, HolderType, Scope
from numrep.sdk.client import Client
from numrep.v1 import common_pb2
from numrep.v1 import disputes_pb2 as pb
from tests.e2e.conftest import ROOT, Platform, wait_for

pytestmark = [pytest.mark.e2e]

NUMBER = "17055501234"
SUBJECT = "tel:+8617055501234"
HOLDER = "Virtual Mobile Co"


def victim(i: int) -> str:
    return f"1390077{i:04d}"


def feed_has(c: Client, subject: str) -> bool:
    return subject in {r.subject for r in c.get_rules(0).added}


def test_an_upheld_dispute_reaches_lookup_and_the_rules_feed(platform: Platform) -> None:
    store = platform.store()
    store.put_allocations([Allocation("tel:+86170555", HOLDER, HolderType.RESELLER, 10_000)])
    holder_key, _ = auth.create_key(store, platform.settings, HOLDER, [Scope.HOLDER])
    with platform.client() as c:
        # given: the operator's records show the number called 8 people, who report it: blocked on complaints
        at = datetime.now(UTC) - timedelta(hours=1)
        assert (
            c.submit_call_records([c.call_record(f"dsp-e2e-{i}", NUMBER, victim(i), at) for i in range(8)]).accepted
            == 8
        )
        for i in range(8):
            c.report(NUMBER, f"dsp-reporter-{i}", "retail", reporter_number=victim(i))
        blocked = wait_for(lambda: (r := c.lookup(NUMBER)).action == common_pb2.ACTION_BLOCK and r)
        assert blocked.reason_code == common_pb2.REASON_CODE_CORROBORATED_COMPLAINTS
        assert blocked.redress.url == platform.settings.redress_url
        wait_for(lambda: feed_has(c, SUBJECT))
        # when: the owner files a dispute through its operator's attestation, and an analyst upholds it
        with Client(platform.address, api_key=holder_key, timeout=5) as operator:
            filed = operator.disputes.FileDispute(
                pb.FileDisputeRequest(
                    subject=NUMBER, statement="our delivery line: customers mistook the courier's calls for spam"
                )
            )
        dispute_id = filed.dispute.dispute_id
        c.disputes.AcknowledgeDispute(pb.DisputeStepRequest(dispute_id=dispute_id, actor="analyst 7"))
        c.disputes.StartReview(pb.DisputeStepRequest(dispute_id=dispute_id, actor="analyst 7"))
        held = wait_for(lambda: (r := c.lookup(NUMBER)).action == common_pb2.ACTION_LABEL and r)
        assert held.redress.case_id == dispute_id
        start = time.monotonic()
        decided = c.disputes.DecideDispute(
            pb.DecideDisputeRequest(
                dispute_id=dispute_id, decision=pb.DISPUTE_DECISION_UPHOLD, actor="analyst 7", reason="a courier's line"
            )
        )
        # then: Lookup answers ALLOW and the rules feed drops the number
        wait_for(lambda: c.lookup(NUMBER).action == common_pb2.ACTION_ALLOW)
        to_lookup = time.monotonic() - start
        wait_for(lambda: not feed_has(c, SUBJECT))
        to_feed = time.monotonic() - start
        assert decided.state == pb.DISPUTE_STATE_UPHELD
        seen = c.disputes.GetDispute(pb.GetDisputeRequest(dispute_id=dispute_id, owner_token=filed.owner_token))
        assert seen.state == pb.DISPUTE_STATE_UPHELD and seen.reason == "a courier's line"
    mode = platform.settings.store
    line = (
        f"dispute upheld -> ALLOW on Lookup ({mode}): {to_lookup:.3f} s; "
        f"-> gone from the rules feed: {to_feed:.3f} s (target <= 5 s)"
    )
    (ROOT / "artifacts").mkdir(exist_ok=True)
    with open(ROOT / "artifacts" / "e2e-latency.txt", "a") as fh:
        fh.write(line + "\n")
    print("\n" + line)
