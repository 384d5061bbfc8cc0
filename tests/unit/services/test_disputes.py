"""DisputeService over a real channel: proof of control, the states, what a decision changes, and every refusal."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import pytest

from numrep import auth, pipeline
from numrep.models import Allocation, DisputeState, HolderType, Scope
from numrep.sdk.client import Client
from numrep.v1 import admin_pb2, common_pb2
from numrep.v1 import disputes_pb2 as pb
from services.server import Server
from tests.unit.services.helpers import SPAM, block, victim

HOLDER = "Virtual Mobile Co"  # holds 170..., where SPAM lives
OTHER = "China Mobile"  # holds 139..., where the victims live


def rescore(server: Server) -> None:
    pipeline.rescore_dirty(server.store, server.settings)
    server.engine.refresh()


def registry(server: Server) -> None:
    server.store.put_allocations(
        [
            Allocation("tel:+86139", OTHER, HolderType.OPERATOR, 100_000_000),
            Allocation("tel:+86170", HOLDER, HolderType.RESELLER, 10_000_000),
        ]
    )


def key(server: Server, operator: str, *scopes: Scope) -> str:
    raw, _ = auth.create_key(server.store, server.settings, operator, scopes or (Scope.HOLDER,))
    return raw


def refused(call, *args, **kwargs) -> grpc.RpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as exc:
        call(*args, **kwargs)
    return exc.value


@pytest.fixture
def holder(server: Server) -> Iterator[Client]:
    """The holder operator of SPAM, with its key (holder scope)."""
    registry(server)
    with Client(server.address, api_key=key(server, HOLDER), timeout=10) as c:
        yield c


def file(
    holder: Client, statement: str = "my shop's delivery line; the reports are mistaken"
) -> pb.FileDisputeResponse:
    return holder.disputes.FileDispute(pb.FileDisputeRequest(subject=SPAM, statement=statement))


def test_an_attested_dispute_upheld_clears_the_number_and_costs_its_reporters_trust(
    client: Client, server: Server, holder: Client
) -> None:
    # given: the number is blocked on corroborated complaints; two of its reporters also reported another number
    block(client, server)
    for i in range(3):
        client.report("13800138000", f"reporter-{i}", "fraud")
    rescore(server)
    assert client.lookup(SPAM).action == common_pb2.ACTION_BLOCK
    assert client.lookup("13800138000").action == common_pb2.ACTION_LABEL
    # when: the holder operator files a dispute, and an analyst takes it through review
    filed = file(holder)
    d = filed.dispute
    assert (d.state, d.proof, d.holder, d.subject) == (
        pb.DISPUTE_STATE_FILED,
        "attestation",
        HOLDER,
        "tel:+8617012345678",
    )
    assert filed.owner_token.startswith("nro_") and d.dispute_id.startswith("dsp_")
    assert d.decide_due.ToDatetime() - d.filed_at.ToDatetime() == timedelta(hours=72)
    [queued] = client.disputes.ListDisputes(pb.ListDisputesRequest()).disputes
    assert queued.dispute_id == d.dispute_id
    client.disputes.AcknowledgeDispute(pb.DisputeStepRequest(dispute_id=d.dispute_id, actor="analyst 7"))
    client.disputes.StartReview(pb.DisputeStepRequest(dispute_id=d.dispute_id, actor="analyst 7"))
    rescore(server)
    held = client.lookup(SPAM)  # under review: LABEL at most
    assert (
        held.action == common_pb2.ACTION_LABEL
        and f"held at LABEL while dispute {d.dispute_id} is under review" in held.reasons
    )
    assert held.redress.case_id == d.dispute_id  # and lookups name the open dispute as the case
    decided = client.disputes.DecideDispute(
        pb.DecideDisputeRequest(
            dispute_id=d.dispute_id, decision=pb.DISPUTE_DECISION_UPHOLD, actor="analyst 7", reason="a courier's line"
        )
    )
    rescore(server)
    # then: the number is clear, the rules feed drops it, and its reporters' other report weighs less
    assert [t.state for t in decided.transitions] == [
        pb.DISPUTE_STATE_FILED,
        pb.DISPUTE_STATE_ACKNOWLEDGED,
        pb.DISPUTE_STATE_UNDER_REVIEW,
        pb.DISPUTE_STATE_UPHELD,
    ]
    assert decided.reason == "a courier's line"
    assert client.lookup(SPAM).action == common_pb2.ACTION_ALLOW
    assert "tel:+8617012345678" not in {r.subject for r in client.get_rules(0).added}
    assert client.lookup("13800138000").action == common_pb2.ACTION_ALLOW
    # and new evidence after the clearance counts as usual
    called = datetime.now(UTC) + timedelta(seconds=1)
    client.submit_call_records(client.call_record(f"new-{i}", SPAM, victim(100 + i), called) for i in range(5))
    for i in range(5):
        client.report(SPAM, f"new-reporter-{i}", "loans_finance", reporter_number=victim(100 + i))
    rescore(server)
    assert client.lookup(SPAM).action == common_pb2.ACTION_BLOCK


def test_a_one_time_code_through_the_holders_channel_proves_control(client: Client, server: Server) -> None:
    registry(server)
    received: list[dict[str, str]] = []

    class Receiver(BaseHTTPRequestHandler):  # the holder operator's side: it would text the code to its subscriber
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    tuned = server.settings.model_copy(
        update={"dispute_code_callbacks": {HOLDER: f"http://127.0.0.1:{http.server_port}/codes"}}
    )
    srv = Server(tuned, store=server.store, nudge=lambda: None).start()
    try:
        with Client(srv.address, timeout=10) as owner:
            block(owner, srv)
            challenge = owner.disputes.RequestCode(pb.RequestCodeRequest(subject="+86 170 1234 5678"))
            [sent] = received
            assert sent["subject"] == "tel:+8617012345678" and len(sent["code"]) == 8 and challenge.holder == HOLDER
            again = refused(owner.disputes.RequestCode, pb.RequestCodeRequest(subject=SPAM))
            assert again.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
            wrong = str((int(sent["code"]) + 1) % 10**8).zfill(8)
            bad = refused(
                owner.disputes.FileDispute,
                pb.FileDisputeRequest(subject=SPAM, statement="mine", challenge_id=challenge.challenge_id, code=wrong),
            )
            assert bad.code() is grpc.StatusCode.PERMISSION_DENIED and "4 attempts left" in bad.details()
            filed = owner.disputes.FileDispute(
                pb.FileDisputeRequest(
                    subject=SPAM, statement="mine", challenge_id=challenge.challenge_id, code=sent["code"]
                )
            )
            assert filed.dispute.proof == "code" and filed.dispute.holder == HOLDER
            # the owner follows it with its token; withdrawing frees the number for another dispute
            got = owner.disputes.GetDispute(
                pb.GetDisputeRequest(dispute_id=filed.dispute.dispute_id, owner_token=filed.owner_token)
            )
            assert got.state == pb.DISPUTE_STATE_FILED
            reused = refused(
                owner.disputes.FileDispute,
                pb.FileDisputeRequest(
                    subject=SPAM, statement="again", challenge_id=challenge.challenge_id, code=sent["code"]
                ),
            )
            assert reused.code() is grpc.StatusCode.PERMISSION_DENIED and "used" in reused.details()
            gone = owner.disputes.WithdrawDispute(
                pb.WithdrawDisputeRequest(dispute_id=filed.dispute.dispute_id, owner_token=filed.owner_token)
            )
            assert gone.state == pb.DISPUTE_STATE_WITHDRAWN and gone.transitions[-1].actor == "owner"
    finally:
        srv.stop(grace=0)
        http.shutdown()
        http.server_close()


def test_a_failing_code_channel_is_unavailable_and_leaves_nothing(client: Client, server: Server) -> None:
    registry(server)

    class Broken(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(500)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Broken)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    tuned = server.settings.model_copy(
        update={"dispute_code_callbacks": {HOLDER: f"http://127.0.0.1:{http.server_port}/"}}
    )
    srv = Server(tuned, store=server.store, nudge=lambda: None).start()
    try:
        with Client(srv.address, timeout=10) as owner:
            err = refused(owner.disputes.RequestCode, pb.RequestCodeRequest(subject=SPAM))
            assert err.code() is grpc.StatusCode.UNAVAILABLE and "HTTP 500" in err.details()
            no_channel = refused(owner.disputes.RequestCode, pb.RequestCodeRequest(subject="13900001234"))
            assert no_channel.code() is grpc.StatusCode.PERMISSION_DENIED and OTHER in no_channel.details()
    finally:
        srv.stop(grace=0)
        http.shutdown()
        http.server_close()
    assert server.store.disputes_for_subjects(["tel:+8617012345678"]) == {}


def test_every_refusal_says_why_and_leaves_nothing_behind(client: Client, server: Server, holder: Client) -> None:
    block(client, server)
    # no proof of control at all, and another operator's key
    none = refused(client.disputes.FileDispute, pb.FileDisputeRequest(subject=SPAM, statement="mine"))
    assert none.code() is grpc.StatusCode.PERMISSION_DENIED and "no proof of control" in none.details()
    with Client(server.address, api_key=key(server, OTHER)) as stranger:
        err = refused(stranger.disputes.FileDispute, pb.FileDisputeRequest(subject=SPAM, statement="mine"))
        assert err.code() is grpc.StatusCode.PERMISSION_DENIED and f"not held by {OTHER}" in err.details()
    with Client(server.address, api_key=key(server, HOLDER, Scope.REPORT)) as reporter_key:
        err = refused(reporter_key.disputes.FileDispute, pb.FileDisputeRequest(subject=SPAM, statement="mine"))
        assert err.code() is grpc.StatusCode.PERMISSION_DENIED and "'holder' scope" in err.details()
    # bad input
    big = refused(file, holder, "x" * (server.settings.dispute_max_statement + 1))
    assert big.code() is grpc.StatusCode.INVALID_ARGUMENT and "statement: at most 2,000 characters" in big.details()
    assert refused(file, holder, "   ").code() is grpc.StatusCode.INVALID_ARGUMENT
    bad_number = refused(holder.disputes.FileDispute, pb.FileDisputeRequest(subject="12", statement="mine"))
    assert bad_number.code() is grpc.StatusCode.INVALID_ARGUMENT
    clean = refused(holder.disputes.FileDispute, pb.FileDisputeRequest(subject="17000000001", statement="mine"))
    assert clean.code() is grpc.StatusCode.FAILED_PRECONDITION and "neither labelled nor blocked" in clean.details()
    assert server.store.disputes_for_subjects(["tel:+8617012345678", "tel:+8617000000001"]) == {}
    # a duplicate is refused, naming the open one's state
    first = file(holder)
    dup = refused(file, holder)
    assert dup.code() is grpc.StatusCode.ALREADY_EXISTS and "open dispute" in dup.details()
    # another owner's dispute is neither readable nor writable; an unknown id is not found
    dispute_id = first.dispute.dispute_id
    for call, req in (
        (client.disputes.GetDispute, pb.GetDisputeRequest(dispute_id=dispute_id, owner_token="nro_forged")),
        (client.disputes.WithdrawDispute, pb.WithdrawDisputeRequest(dispute_id=dispute_id, owner_token="nro_forged")),
    ):
        err = refused(call, req)
        assert err.code() is grpc.StatusCode.PERMISSION_DENIED and "not yours" in err.details()
    with Client(server.address, api_key=key(server, OTHER)) as stranger:
        err = refused(stranger.disputes.GetDispute, pb.GetDisputeRequest(dispute_id=dispute_id))
        assert err.code() is grpc.StatusCode.PERMISSION_DENIED
    assert (
        refused(holder.disputes.GetDispute, pb.GetDisputeRequest(dispute_id="dsp_0")).code()
        is grpc.StatusCode.NOT_FOUND
    )
    assert server.store.get_dispute(dispute_id).state is DisputeState.FILED  # type: ignore[union-attr]
    # a decision needs a decision, an actor and a reason; a decided dispute cannot change
    assert (
        refused(
            client.disputes.DecideDispute, pb.DecideDisputeRequest(dispute_id=dispute_id, actor="a", reason="b")
        ).code()
        is grpc.StatusCode.INVALID_ARGUMENT
    )
    assert (
        refused(
            client.disputes.DecideDispute,
            pb.DecideDisputeRequest(dispute_id=dispute_id, decision=pb.DISPUTE_DECISION_REJECT, actor="a"),
        ).code()
        is grpc.StatusCode.INVALID_ARGUMENT
    )
    assert server.store.get_dispute(dispute_id).state is DisputeState.FILED  # type: ignore[union-attr]
    rejected = client.disputes.DecideDispute(
        pb.DecideDisputeRequest(
            dispute_id=dispute_id,
            decision=pb.DISPUTE_DECISION_REJECT,
            actor="analyst 7",
            reason="the operator's records show 10 corroborated victims",
        )
    )
    # the owner reads the reason
    seen = client.disputes.GetDispute(pb.GetDisputeRequest(dispute_id=dispute_id, owner_token=first.owner_token))
    assert seen.state == pb.DISPUTE_STATE_REJECTED and seen.reason == rejected.reason
    late = refused(holder.disputes.WithdrawDispute, pb.WithdrawDisputeRequest(dispute_id=dispute_id))
    assert late.code() is grpc.StatusCode.FAILED_PRECONDITION and "rejected since" in late.details()
    rescore(server)
    assert client.lookup(SPAM).action == common_pb2.ACTION_BLOCK


def test_a_dispute_cannot_clear_authoritative_evidence(client: Client, server: Server, holder: Client) -> None:
    req = admin_pb2.ConfirmFraudRequest(subject=SPAM, case_id="police-2026-117", actor="analyst 7", reason="bank scam")
    req.expires_at.FromDatetime(datetime.now(UTC) + timedelta(days=30))
    client.admin.ConfirmFraud(req)
    block(client, server)
    d = file(holder).dispute
    assert d.authoritative and d.authoritative[0].startswith("confirmed fraud: case police-2026-117")
    client.disputes.StartReview(pb.DisputeStepRequest(dispute_id=d.dispute_id, actor="analyst 7"))
    rescore(server)
    assert client.lookup(SPAM).action == common_pb2.ACTION_BLOCK  # no review hold over authoritative evidence
    client.disputes.DecideDispute(
        pb.DecideDisputeRequest(
            dispute_id=d.dispute_id,
            decision=pb.DISPUTE_DECISION_UPHOLD,
            actor="analyst 7",
            reason="complaints were mistaken",
        )
    )
    rescore(server)
    r = client.lookup(SPAM)
    assert (r.action, r.reason_code, r.redress.case_id) == (
        common_pb2.ACTION_BLOCK,
        common_pb2.REASON_CODE_CONFIRMED_FRAUD,
        "police-2026-117",
    )


def test_analysts_calls_need_the_admin_scope_when_keys_are_required(server: Server) -> None:
    registry(server)
    tuned = server.settings.model_copy(update={"auth_required": True})
    srv = Server(tuned, store=server.store, nudge=lambda: None).start()
    try:
        with Client(srv.address, api_key=key(server, HOLDER), timeout=10) as operator:
            err = refused(operator.disputes.ListDisputes, pb.ListDisputesRequest())
            assert err.code() is grpc.StatusCode.PERMISSION_DENIED and "'admin' scope" in err.details()
        with Client(srv.address, api_key=key(server, "numrep ops", Scope.ADMIN), timeout=10) as analyst:
            assert list(analyst.disputes.ListDisputes(pb.ListDisputesRequest()).disputes) == []
        with Client(srv.address, timeout=10) as owner:  # owners have no key: their calls are open
            err = refused(owner.disputes.FileDispute, pb.FileDisputeRequest(subject=SPAM, statement="mine"))
            assert err.code() is grpc.StatusCode.PERMISSION_DENIED and "no proof of control" in err.details()
    finally:
        srv.stop(grace=0)
