"""The servicers, in-process over a real gRPC channel (worker steps run as functions)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from numrep import convert, pipeline
from numrep.config import Settings
from numrep.rules import canonical_checksum
from numrep.sdk.client import Client
from numrep.store.base import Store
from numrep.v1 import admin_pb2, common_pb2, report_pb2, reputation_pb2, rules_pb2
from services.server import SERVICE_NAMES, Server
from tests.unit.services.helpers import SPAM, block, nudged


def test_lookup_unknown_number_allows(client: Client) -> None:
    r = client.lookup("+86 138 0013 8000")
    assert r.subject == "tel:+8613800138000" and r.action == common_pb2.ACTION_ALLOW
    assert r.source == reputation_pb2.VERDICT_SOURCE_FILTER and r.channel == common_pb2.CHANNEL_VOICE


@pytest.mark.parametrize(
    "bad, reason", [("", "empty"), ("abc", "contains letters"), ("1380013800012345", "too many digits: 16")]
)
def test_malformed_number_is_invalid_argument_with_reason(client: Client, bad: str, reason: str) -> None:
    with pytest.raises(grpc.RpcError) as exc:
        client.lookup(bad)
    assert exc.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert reason in exc.value.details()


def test_unknown_enum_value_is_invalid_argument(client: Client) -> None:
    with pytest.raises(grpc.RpcError) as exc:
        client.reputation.Lookup(reputation_pb2.LookupRequest(subject=SPAM, channel=42), timeout=5)
    assert exc.value.code() is grpc.StatusCode.INVALID_ARGUMENT and "channel: unknown value 42" in exc.value.details()


def test_reports_then_rescore_then_block_with_reasons(client: Client, server: Server, nudges: list[int]) -> None:
    block(client, server)
    assert nudged(nudges), "intake should nudge the worker"
    r = client.lookup(SPAM)
    assert r.action == common_pb2.ACTION_BLOCK and r.source == reputation_pb2.VERDICT_SOURCE_STORE
    assert r.top_category == common_pb2.CATEGORY_LOANS_FINANCE and r.score >= 80
    assert r.reasons[0].startswith("10 corroborated reporters in 30 days")
    assert r.version == 1


def test_duplicate_report_ids_count_once(client: Client, server: Server) -> None:
    rid = str(uuid.uuid4())
    results = [client.report(SPAM, "alice", "fraud", report_id=rid) for _ in range(3)]
    assert [r.duplicate for r in results] == [False, True, True]
    assert server.store.count_reports() == 1


def test_bad_report_names_the_field(client: Client) -> None:
    with pytest.raises(grpc.RpcError) as exc:
        client.report(SPAM, "alice", report_id="nope")
    assert exc.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert exc.value.details() == "invalid report: report_id: must be a UUID"
    with pytest.raises(grpc.RpcError) as exc:
        client.reports.SubmitReport(report_pb2.SubmitReportRequest(), timeout=5)
    assert exc.value.details() == "report: required"


def test_bulk_submit_accepts_each_on_its_own(client: Client, server: Server) -> None:
    rid = str(uuid.uuid4())
    reports = [
        report_pb2.Report(report_id=rid, reporter_id="a", subject=SPAM),
        report_pb2.Report(report_id=rid, reporter_id="a", subject=SPAM),
        report_pb2.Report(report_id=str(uuid.uuid4()), reporter_id="b", subject="12"),
        report_pb2.Report(report_id=str(uuid.uuid4()), reporter_id="c", subject="10657000123456"),
    ]
    res = client.submit_reports(reports)
    assert [(r.accepted, r.duplicate) for r in res] == [(True, False), (True, True), (False, False), (True, False)]
    assert "subject" in res[2].error and res[3].subject == "sms:10657000123456"
    assert server.store.count_reports() == 2
    with pytest.raises(grpc.RpcError) as exc:
        client.submit_reports(reports * 13)
    assert exc.value.code() is grpc.StatusCode.INVALID_ARGUMENT and "at most 50" in exc.value.details()


def test_batch_and_stream_lookup_report_item_errors(client: Client, server: Server) -> None:
    block(client, server)
    batch = client.batch_lookup([SPAM, "abc", "95588"])
    assert [r.action for r in batch] == [
        common_pb2.ACTION_BLOCK,
        common_pb2.ACTION_UNSPECIFIED,
        common_pb2.ACTION_ALLOW,
    ]
    assert batch[1].error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0] and "letters" in batch[1].error.message
    assert batch[2].protected
    reqs = [
        reputation_pb2.LookupRequest(subject=s, request_id=str(i)) for i, s in enumerate([SPAM, "+", "13800138000"])
    ]
    streamed = list(client.stream_lookup(reqs, timeout=5))
    assert [r.request_id for r in streamed] == ["0", "1", "2"]
    assert streamed[0].action == common_pb2.ACTION_BLOCK and streamed[1].error.message == "invalid subject: no digits"
    with pytest.raises(grpc.RpcError) as exc:
        client.batch_lookup(["13800138000"] * 51)
    assert exc.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_protected_number_stays_allow_under_hundreds_of_reports(client: Client, server: Server) -> None:
    block(client, server, subject="95588", n=200)
    r = client.lookup("95588")
    assert r.action == common_pb2.ACTION_ALLOW and r.protected and r.reasons == ["protected: ICBC"]


def test_allowlist_round_trip_unblocks(client: Client, server: Server) -> None:
    block(client, server)
    e = client.allowlist_add(SPAM, "verified courier", "analyst")
    assert e.subject == "tel:+8617012345678"
    assert client.lookup(SPAM).action == common_pb2.ACTION_ALLOW
    assert [x.subject for x in client.allowlist()] == ["tel:+8617012345678"]
    client.allowlist_remove(SPAM)
    with pytest.raises(grpc.RpcError) as exc:
        client.allowlist_remove(SPAM)
    assert exc.value.code() is grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as exc:
        client.allowlist_add(SPAM, " ")
    assert exc.value.code() is grpc.StatusCode.INVALID_ARGUMENT and exc.value.details() == "reason: required"


def test_rules_feed_delta_checksum_and_filter(client: Client, server: Server) -> None:
    assert client.get_rules().version == 0
    block(client, server)
    full = client.get_rules(0)
    assert full.full_snapshot and full.version == 1 and [r.rule_id for r in full.added] == ["tel:+8617012345678#voice"]
    assert full.checksum == canonical_checksum(convert.rule_from_pb(r) for r in full.added)
    assert full.min_wait.ToTimedelta().total_seconds() == server.settings.rules_min_wait_seconds
    block(client, server, subject="17198765432")
    delta = client.get_rules(1)
    assert not delta.full_snapshot and delta.from_version == 1 and len(delta.added) == 1
    chunks = list(client.rules.GetFilterSnapshot(rules_pb2.GetFilterSnapshotRequest(), timeout=5))
    assert chunks[-1].last and chunks[0].version == 2 and chunks[0].count == 2


def test_watch_rules_streams_new_versions(client: Client, server: Server) -> None:
    stream = client.rules.WatchRules(rules_pb2.GetRulesRequest(since_version=0), timeout=20)
    first = next(stream)
    assert first.version == 0 and first.full_snapshot
    block(client, server)
    update = next(stream)
    assert update.version == 1 and [r.rule_id for r in update.added] == ["tel:+8617012345678#voice"]
    stream.cancel()


def test_health_and_reflection(server: Server, client: Client) -> None:
    health = health_pb2_grpc.HealthStub(client.channel)
    for name in ("", *SERVICE_NAMES):
        assert (
            health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5).status
            == health_pb2.HealthCheckResponse.SERVING
        )
    refl = reflection_pb2_grpc.ServerReflectionStub(client.channel)
    [resp] = list(
        refl.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
    )
    names = {s.name for s in resp.list_services_response.service}
    assert set(SERVICE_NAMES) <= names and "grpc.health.v1.Health" in names
    assert {"grpc.reflection.v1alpha.ServerReflection", "grpc.reflection.v1.ServerReflection"} <= names
    # the v1 protocol (what grpcurl asks for first): the same messages under grpc.reflection.v1
    v1 = client.channel.stream_stream(
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    asks = [
        reflection_pb2.ServerReflectionRequest(list_services=""),
        reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICE_NAMES[0]),
    ]
    listed, described = list(v1(iter(asks), timeout=5))
    assert {s.name for s in listed.list_services_response.service} == names
    assert described.file_descriptor_response.file_descriptor_proto


def test_status(client: Client, server: Server) -> None:
    block(client, server)
    s = client.status()
    assert (s.rules_version, s.filter_version, s.rules_count, s.store, s.store_healthy) == (
        1,
        1,
        1,
        server.store.name,
        True,
    )


def test_oversized_message_is_rejected(settings: Settings, store: Store) -> None:
    srv = Server(settings.model_copy(update={"grpc_max_message_bytes": 2048}), store=store, nudge=lambda: None).start()
    try:
        with Client(srv.address, timeout=5) as c:
            with pytest.raises(grpc.RpcError) as exc:
                c.report(SPAM, "alice", text="x" * 4000)
            assert exc.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    finally:
        srv.stop(grace=1)


def test_graceful_stop_sets_not_serving(settings: Settings, store: Store) -> None:
    srv = Server(settings, store=store, nudge=lambda: None).start()
    srv.stop(grace=1)
    resp = srv.health.Check(health_pb2.HealthCheckRequest(service=""), None)
    assert resp.status == health_pb2.HealthCheckResponse.NOT_SERVING


def _chunks(name: str, data: bytes, size: int = 64) -> Iterator[admin_pb2.ImportChunk]:
    for i in range(0, len(data), size):
        yield admin_pb2.ImportChunk(filename=name if i == 0 else "", data=data[i : i + size])


def test_port_blacklist_import_over_grpc(client: Client, server: Server, nudges: list[int]) -> None:
    good = b"port,enterprise,reason,source,date\n10657000123456,Acme,illegal loan ads,MIIT,2026-09-30\n"
    bad = good + b"13800138000,X,y,z,2026-01-01\n"
    r = client.admin.ImportPortBlacklist(_chunks("ports.csv", bad), timeout=10)
    assert not r.applied and [(p.line, p.message) for p in r.problems] == [
        (3, "port '13800138000': SMS ports start with 106")
    ]
    assert server.store.count_port_blacklist() == 0
    r = client.admin.ImportPortBlacklist(_chunks("ports.csv", good), timeout=10)
    assert (r.applied, r.rows, r.changed) == (True, 1, 1) and nudged(nudges)
    assert client.admin.ImportPortBlacklist(_chunks("ports.csv", good), timeout=10).changed == 0
    pipeline.rescore_dirty(server.store, server.settings)
    server.engine.refresh()
    v = client.lookup("10657000123456")
    assert v.action == common_pb2.ACTION_BLOCK and v.channel == common_pb2.CHANNEL_SMS
    assert v.reasons[0].startswith("SMS port shut down: illegal loan ads")
    assert client.status().signing_key_id == server.signer.key_id


def test_registry_import_and_holder_resolution_over_grpc(client: Client) -> None:
    data = b"prefix,holder,holder_type,size\n+86 170,China Telecom,operator,100000000\n1700,Virtual Mobile Co,reseller,1000000\n"
    r = client.admin.ImportAllocations(_chunks("ranges.csv", data), timeout=10)
    assert (r.applied, r.rows, r.changed) == (True, 2, 2)
    a = client.admin.ResolveHolder(admin_pb2.ResolveHolderRequest(subject="+86 170 0123 4567"), timeout=5)
    assert (a.holder, a.holder_type, a.prefix) == ("Virtual Mobile Co", "reseller", "tel:+861700")
    with pytest.raises(grpc.RpcError) as exc:
        client.admin.ResolveHolder(admin_pb2.ResolveHolderRequest(subject="13800138000"), timeout=5)
    assert exc.value.code() is grpc.StatusCode.NOT_FOUND


def test_publish_spam_list_over_grpc(client: Client, server: Server) -> None:
    block(client, server)
    from datetime import datetime

    from numrep.regulator.periods import Period

    period = Period.containing(datetime.now(UTC).date(), "month").label
    r = client.admin.PublishSpamList(admin_pb2.PublishSpamListRequest(period=period), timeout=30)
    again = client.admin.PublishSpamList(admin_pb2.PublishSpamListRequest(period=period), timeout=30)
    assert r.period == period and (r.json, r.csv, r.html) == (again.json, again.csv, again.html)
    assert b'"complaints": 10' in r.json and b"tel:+86170****5678" in r.json
    with pytest.raises(grpc.RpcError) as exc:
        client.admin.PublishSpamList(admin_pb2.PublishSpamListRequest(period="last week"), timeout=5)
    assert (
        exc.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        and "expected YYYY-Www, YYYY-MM or YYYY-Qn" in exc.value.details()
    )


def test_complaint_handling_over_grpc(client: Client, server: Server) -> None:
    data = b"prefix,holder,holder_type,size\n+86 170,China Telecom,operator,100000000\n"
    client.admin.ImportAllocations(_chunks("ranges.csv", data), timeout=10)
    rid = str(uuid.uuid4())
    client.report(SPAM, "alice", "fraud", report_id=rid)
    from datetime import datetime

    from numrep.regulator.periods import Period

    period = Period.containing(datetime.now(UTC).date(), "month").label
    [c] = client.admin.ListComplaints(
        admin_pb2.ListComplaintsRequest(holder="China Telecom", period=period), timeout=5
    ).complaints
    assert (c.report_id, c.state, c.subject) == (rid, "open", "tel:+8617012345678")
    with pytest.raises(grpc.RpcError) as exc:
        client.admin.AcknowledgeComplaint(
            admin_pb2.ComplaintStepRequest(report_id=rid, holder="Someone Else"), timeout=5
        )
    assert exc.value.code() is grpc.StatusCode.PERMISSION_DENIED
    done = client.admin.ResolveComplaint(
        admin_pb2.ComplaintStepRequest(report_id=rid, holder="China Telecom", note="number suspended"), timeout=5
    )
    assert done.state == "resolved" and done.resolution == "number suspended" and done.HasField("acknowledged_at")
    [t] = client.admin.GetTimeliness(admin_pb2.GetTimelinessRequest(period=period), timeout=5).holders
    assert (t.holder, t.due, t.on_time, t.failed) == ("China Telecom", 1, 1, False)
