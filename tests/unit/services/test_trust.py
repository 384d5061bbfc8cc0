"""Trustworthy verdicts over gRPC: forged ids cannot block, vouched-for evidence can, and analysts decide holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest

from numrep import auth, pipeline
from numrep.evidence import collect
from numrep.evidence.sketch import HyperLogLog
from numrep.models import Allocation, Channel, HolderType, Scope
from numrep.scoring_v2 import ParamsV2, score_v2
from numrep.sdk.client import Client
from numrep.v1 import admin_pb2, callrecords_pb2, common_pb2
from services.server import Server
from tests.unit.services.helpers import SPAM, block, victim

NOW = datetime.now(UTC)


def rescore(server: Server) -> None:
    pipeline.rescore_dirty(server.store, server.settings)
    server.engine.refresh()


def registry(server: Server) -> None:
    server.store.put_allocations(
        [
            Allocation("tel:+86139", "China Mobile", HolderType.OPERATOR, 100_000_000),
            Allocation("tel:+86170", "Virtual Mobile Co", HolderType.RESELLER, 10_000_000),
        ]
    )


def test_eight_invented_reporter_ids_no_longer_block(client: Client, server: Server) -> None:
    # given the attack from the issue: eight made-up ids report one number
    for i in range(8):
        client.report("13800138000", f"x{i}", "fraud")
    rescore(server)
    # then it is labelled at most, and says why it is not blocked
    r = client.lookup("13800138000")
    assert r.action == common_pb2.ACTION_LABEL
    assert r.reasons[0].startswith("8 unverified reporters")
    assert any("BLOCK withheld" in x for x in r.reasons)


def test_an_operator_attests_its_own_subscribers_with_its_key(client: Client, server: Server) -> None:
    registry(server)
    raw, _ = auth.create_key(server.store, server.settings, "China Mobile", [Scope.REPORT])
    other, _ = auth.create_key(server.store, server.settings, "Virtual Mobile Co", [Scope.REPORT])
    with Client(server.address, api_key=other) as stranger:  # not the holder of 139 numbers: not attested
        for i in range(3):
            stranger.report(SPAM, f"hotline-{i}", "loans_finance", reporter_number=victim(i), source="operator")
    rescore(server)
    assert client.lookup(SPAM).action == common_pb2.ACTION_LABEL
    with Client(server.address, api_key=raw) as mobile:
        for i in range(3, 6):
            mobile.report(SPAM, f"hotline-{i}", "loans_finance", reporter_number=victim(i))
    rescore(server)
    r = client.lookup(SPAM)
    assert r.action == common_pb2.ACTION_BLOCK
    assert r.reasons[0].startswith("3 attested, 3 unverified reporters")


def test_honeypots_one_hit_labels_two_block(client: Client, server: Server) -> None:
    registry(server)
    for n in ("13900000001", "13900000002"):
        pot = client.admin.AddHoneypot(
            admin_pb2.AddHoneypotRequest(number=n, operator="China Mobile", note="unassigned")
        )
        assert pot.number == f"tel:+86{n}"
    with pytest.raises(grpc.RpcError) as exc:  # not its number
        client.admin.AddHoneypot(admin_pb2.AddHoneypotRequest(number="17000000001", operator="China Mobile"))
    assert exc.value.code() is grpc.StatusCode.PERMISSION_DENIED
    at = NOW - timedelta(hours=2)
    client.submit_call_records([client.call_record("pot-1", SPAM, "13900000001", at)])
    rescore(server)
    assert client.lookup(SPAM).action == common_pb2.ACTION_LABEL
    client.submit_call_records([client.call_record("pot-2", SPAM, "13900000002", at)])
    rescore(server)
    r = client.lookup(SPAM)
    assert r.action == common_pb2.ACTION_BLOCK and "voice: reached 2 honeypot numbers" in r.reasons
    listed = client.admin.ListHoneypots(admin_pb2.ListHoneypotsRequest(operator="China Mobile")).honeypots
    assert [p.number for p in listed] == ["tel:+8613900000001", "tel:+8613900000002"]


def test_a_bombing_surge_is_held_and_an_analyst_clears_it(client: Client, server: Server) -> None:
    for start in range(0, 40, 20):
        client.submit_reports([_report(client, "13812345678", f"bot-{i}") for i in range(start, start + 20)])
    client.submit_reports([_report(client, "13987654321", f"bot-{i}") for i in range(4)])  # another target of theirs
    rescore(server)
    assert client.lookup("13812345678").action == common_pb2.ACTION_LABEL
    assert client.lookup("13987654321").action == common_pb2.ACTION_LABEL
    [case] = client.admin.ListReviewCases(admin_pb2.ListReviewCasesRequest()).cases
    assert case.kind == "report_bombing" and case.subject == "tel:+8613812345678" and "40 of 40" in case.summary
    decided = client.admin.DecideReviewCase(
        admin_pb2.DecideReviewCaseRequest(
            case_id=case.case_id, decision="clear", actor="analyst 7", reason="accounts created in one burst"
        )
    )
    assert decided.state == "decided" and decided.decision == "clear"
    rescore(server)
    assert client.lookup("13812345678").action == common_pb2.ACTION_ALLOW
    # and the accounts of the cleared surge lose trust: their other target is rescored and no longer labelled
    assert client.lookup("13987654321").action == common_pb2.ACTION_ALLOW
    with pytest.raises(grpc.RpcError) as exc:
        client.admin.DecideReviewCase(
            admin_pb2.DecideReviewCaseRequest(case_id=case.case_id, decision="maybe", actor="a", reason="b")
        )
    assert exc.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def _report(client: Client, subject: str, reporter: str):  # type: ignore[no-untyped-def]
    import uuid

    from numrep.v1 import report_pb2

    return report_pb2.Report(
        report_id=str(uuid.uuid4()), reporter_id=reporter, subject=subject, category=common_pb2.CATEGORY_FRAUD
    )


def test_confirmed_fraud_blocks_and_the_safety_switch_turns_every_block_into_label(
    client: Client, server: Server
) -> None:
    expires = NOW + timedelta(days=30)
    req = admin_pb2.ConfirmFraudRequest(
        subject="13900001111", case_id="police-2026-117", actor="analyst 7", reason="impersonating a bank"
    )
    req.expires_at.FromDatetime(expires)
    client.admin.ConfirmFraud(req)
    block(client, server)
    rescore(server)
    r = client.lookup("13900001111")
    assert r.action == common_pb2.ACTION_BLOCK and r.reasons[0].startswith("confirmed fraud: case police-2026-117")
    client.admin.SetBlockSwitch(admin_pb2.SetBlockSwitchRequest(block_to_label=True, actor="ops", reason="incident 42"))
    rescore(server)
    for subject in ("13900001111", SPAM):
        r = client.lookup(subject)
        assert r.action == common_pb2.ACTION_LABEL and any("safety switch" in x for x in r.reasons)
    assert all(rule.action == common_pb2.ACTION_LABEL for rule in client.get_rules().added)
    client.admin.SetBlockSwitch(admin_pb2.SetBlockSwitchRequest(block_to_label=False, actor="ops", reason="over"))
    rescore(server)
    assert client.lookup(SPAM).action == common_pb2.ACTION_BLOCK


def test_call_records_bad_input_gets_per_item_errors_and_resends_count_once(client: Client, server: Server) -> None:
    at = NOW - timedelta(hours=1)
    good = client.call_record("r-1", SPAM, "13900139000", at, talk_seconds=30)
    unknown = client.call_record("r-5", SPAM, "13900139000", at)
    unknown.MergeFromString(bytes([0xF8, 0x01, 0x05]))  # field 31, a varint this server does not know
    resp = client.submit_call_records(
        [
            good,
            client.call_record("r-2", SPAM, "1390013900abc", at),
            client.call_record("r-3", SPAM, "13900139000", NOW + timedelta(hours=1)),
            client.call_record("r-4", SPAM, "13900139000", NOW - timedelta(days=8)),
            unknown,
            good,
        ]
    )
    errors = [r.error for r in resp.results]
    assert [r.accepted for r in resp.results] == [True, False, False, False, False, True]
    assert errors[1].startswith("invalid record: callee: contains letters")
    assert errors[2] == "invalid record: start_time: lies in the future"
    assert "older than the allowed lateness" in errors[3]
    assert errors[4] == "invalid record: unknown field(s) 31"
    assert not any("13900139000" in e for e in errors)  # a raw callee never reaches an error
    assert (resp.accepted, resp.duplicates, resp.rejected) == (1, 1, 4)
    again = client.submit_call_records([good])
    assert again.results[0].duplicate and again.accepted == 0
    [stored] = server.store.call_records_in_hour("tel:+8617012345678", at.replace(minute=0, second=0, microsecond=0))
    assert stored.callee_hash.startswith("h2:") and "13900139000" not in repr(stored)


def test_errors_only_lists_just_the_records_not_taken_with_their_index(client: Client, server: Server) -> None:
    # given a bulk batch with a good record, a malformed one, one with an unknown field and a repeat
    at = NOW - timedelta(hours=1)
    good = client.call_record("b-1", SPAM, "13900139000", at, talk_seconds=30)
    unknown = client.call_record("b-3", SPAM, "13900139001", at)
    unknown.MergeFromString(bytes([0xF8, 0x01, 0x05]))
    batch = [
        good,
        client.call_record("b-2", SPAM, "139abc", at),
        unknown,
        good,
        client.call_record("b-4", SPAM, "13900139002", at),
    ]
    # when it is sent asking for errors only
    resp = client.records.SubmitCallRecords(callrecords_pb2.SubmitCallRecordsRequest(records=batch, errors_only=True))
    # then only those not taken as new come back, each with its index, and the counts cover all five
    assert [(r.index, r.record_id, r.accepted, r.duplicate) for r in resp.results] == [
        (1, "b-2", False, False),
        (2, "b-3", False, False),
        (3, "b-1", True, True),
    ]
    assert resp.results[1].error == "invalid record: unknown field(s) 31"
    assert (resp.accepted, resp.duplicates, resp.rejected) == (2, 1, 2)
    # and a full resend reports every record a duplicate
    again = client.records.SubmitCallRecords(
        callrecords_pb2.SubmitCallRecordsRequest(records=[good, batch[4]], errors_only=True)
    )
    assert [(r.index, r.duplicate) for r in again.results] == [(0, True), (1, True)] and again.accepted == 0


def test_callbacks_and_the_early_warning_list_come_from_the_records(client: Client, server: Server) -> None:
    # given a line calling 40 people (few answer, briefly), 12 of whom call it back afterwards
    line, at = "+8617012340000", NOW - timedelta(hours=3)
    people = [f"+86139{i:08d}" for i in range(0, 4000, 100)]  # one per 10-number block: no sequential dialling
    out = [
        client.call_record(
            f"o-{i}", line, p, at + timedelta(minutes=i), talk_seconds=5 if i % 5 == 0 else 0, ring_ms=20_000
        )
        for i, p in enumerate(people)
    ]
    back = [
        client.call_record(f"b-{i}", p, line, at + timedelta(minutes=60 + i), talk_seconds=60)
        for i, p in enumerate(people[:12])
    ]
    assert client.submit_call_records(out).accepted + client.submit_call_records(back).accepted == 52
    rescore(server)
    # then its evidence counts who called back, and its reasons say so
    [ev] = collect.gather(server.store, ["tel:" + line], server.settings, NOW).values()
    voice = ev.behaviour[Channel.VOICE]
    assert (voice.distinct_callees > 35, voice.reached, voice.called_back) == (True, 40, 12)
    scored = score_v2(ev, NOW, ParamsV2.from_settings(server.settings)).reputation
    assert any("12 of 40 people reached called back (30%): weighed ×0.30" in x for x in scored.reasons), scored.reasons
    # and the subscribers it reached are listed for early warning, as keyed hashes only
    since = NOW - timedelta(days=30)
    reached = server.store.contacts("tel:" + line, since, limit=25)
    reached += server.store.contacts("tel:" + line, since, after=(reached[-1].callee_hash, reached[-1].operator))
    assert len({c.callee_hash for c in reached}) == 40 and all(c.callee_hash.startswith("h2:") for c in reached)


def test_hourly_aggregates_from_an_operator(client: Client, server: Server) -> None:
    hour = (NOW - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    callees = [f"tel:+86139{i:08d}" for i in range(0, 3000)]
    agg = callrecords_pb2.CallAggregate(
        caller=SPAM,
        calls=3000,
        answered=400,
        short_calls=330,
        ring_once_calls=900,
        callee_sketch=HyperLogLog.of(callees).to_bytes(),
        callee_prefix_sketch=HyperLogLog.of(c[:-1] for c in callees).to_bytes(),
    )
    agg.hour.FromDatetime(hour)
    bad = callrecords_pb2.CallAggregate(caller=SPAM, calls=1, answered=2, callee_sketch=b"\x02\x00\x01\x01")
    bad.hour.FromDatetime(hour)
    resp = client.records.SubmitCallAggregates(callrecords_pb2.SubmitCallAggregatesRequest(aggregates=[agg, bad]))
    assert [r.accepted for r in resp.results] == [True, False]
    assert resp.results[1].error == "invalid record: answered: cannot exceed calls"
    rescore(server)
    r = client.lookup(SPAM)
    assert r.action == common_pb2.ACTION_BLOCK
    assert any(x.startswith("behaviour (voice, 7 days): 3,000 calls") and "sequential dialling" in x for x in r.reasons)
