"""Inputs that used to give INTERNAL: INVALID_ARGUMENT naming the field (issue 11, item 10)."""

from __future__ import annotations

import uuid

import grpc
import pytest

from numrep.sdk.client import Client
from numrep.v1 import admin_pb2, common_pb2, report_pb2, reputation_pb2
from services.interceptors.decode import bad_utf8_field


@pytest.mark.parametrize("period", ["9999-12", "9999-W52", "9999-Q4", "0001-01", "0001-W01"])
def test_periods_at_the_edge_of_the_calendar_are_invalid_argument(client: Client, period: str) -> None:
    for call, request in [
        (client.admin.ListComplaints, admin_pb2.ListComplaintsRequest(holder="China Mobile", period=period)),
        (client.admin.PublishSpamList, admin_pb2.PublishSpamListRequest(period=period)),
        (client.admin.GetTimeliness, admin_pb2.GetTimelinessRequest(period=period)),
    ]:
        with pytest.raises(grpc.RpcError) as exc:
            call(request, timeout=10)
        assert exc.value.code() is grpc.StatusCode.INVALID_ARGUMENT, (call, exc.value.details())
        assert "period" in exc.value.details() and "year" in exc.value.details()


def _report(subject: str) -> report_pb2.Report:
    return report_pb2.Report(
        report_id=str(uuid.uuid4()),
        reporter_id="reporter-1",
        subject=subject,
        category=common_pb2.CATEGORY_FRAUD,
        source=report_pb2.REPORT_SOURCE_APP,
    )


@pytest.mark.parametrize("seconds, nanos", [(2**40, 0), (-(2**40), 0), (0, -1), (0, 10**9)])
def test_occurred_at_out_of_range_fails_only_its_report(client: Client, seconds: int, nanos: int) -> None:
    bad, good = _report("+86 170 1234 5678"), _report("+86 170 1234 5679")
    bad.occurred_at.seconds, bad.occurred_at.nanos = seconds, nanos
    results = client.submit_reports([bad, good])
    assert not results[0].accepted and "occurred_at" in results[0].error
    assert results[1].accepted


def test_invalid_utf8_is_invalid_argument_naming_the_field(client: Client) -> None:
    good = reputation_pb2.LookupRequest(subject="+86 170 1234 5678").SerializeToString()
    bad = good + b"\x0a\x03\xff\xfe\xfd"  # field 1 (subject) again, with bytes that are not UTF-8
    call = client.channel.unary_unary("/numrep.v1.ReputationService/Lookup")
    with pytest.raises(grpc.RpcError) as exc:
        call(bad, timeout=10)
    assert exc.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert exc.value.details() == "subject: not valid UTF-8"
    assert reputation_pb2.LookupResponse.FromString(call(good, timeout=10)).subject == "tel:+8617012345678"


def test_invalid_utf8_in_a_nested_message_of_a_stream(client: Client) -> None:
    inner = report_pb2.Report(report_id="x").SerializeToString() + b"\x1a\x02\xc3\x28"  # subject (3), bad UTF-8
    bad = b"\x0a" + bytes([len(inner)]) + inner  # SubmitReportRequest.report (1)
    call = client.channel.unary_unary("/numrep.v1.ReportService/SubmitReport")
    with pytest.raises(grpc.RpcError) as exc:
        call(bad, timeout=10)
    assert exc.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert exc.value.details() == "report.subject: not valid UTF-8"
    stream = client.channel.stream_stream("/numrep.v1.ReputationService/StreamLookup")
    lookup = reputation_pb2.LookupRequest(subject="+86 170 1234 5678").SerializeToString()
    with pytest.raises(grpc.RpcError) as exc:
        list(stream(iter([lookup, lookup + b"\x0a\x01\x80"]), timeout=10))
    assert exc.value.code() is grpc.StatusCode.INVALID_ARGUMENT and "subject" in exc.value.details()


def test_malformed_bytes_are_invalid_argument(client: Client) -> None:
    call = client.channel.unary_unary("/numrep.v1.ReputationService/Lookup")
    with pytest.raises(grpc.RpcError) as exc:
        call(b"\x0a\xff\xff\xff\xff\x0f", timeout=10)  # a length far past the end
    assert exc.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "malformed numrep.v1.LookupRequest" in exc.value.details()


def test_bad_utf8_field_walks_the_wire_format() -> None:
    ok = reputation_pb2.LookupRequest(subject="ü", request_id="r").SerializeToString()
    assert bad_utf8_field(ok, reputation_pb2.LookupRequest.DESCRIPTOR) is None
    assert bad_utf8_field(ok + b"\x0a\x01\xff", reputation_pb2.LookupRequest.DESCRIPTOR) == "subject"
    assert (
        bad_utf8_field(b"\x0a\x05ab", reputation_pb2.LookupRequest.DESCRIPTOR) is None
    )  # truncated: not UTF-8's fault
