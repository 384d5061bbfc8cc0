"""A small Python client for the numrep gRPC API (used by the CLI and tests).

Every call has a deadline; UNAVAILABLE is retried by gRPC itself through the
service config (never INVALID_ARGUMENT and friends: retrying cannot help).
"""

from __future__ import annotations

import collections
import json
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import grpc

from numrep.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    callrecords_pb2,
    callrecords_pb2_grpc,
    common_pb2,
    disputes_pb2_grpc,
    report_pb2,
    report_pb2_grpc,
    reputation_pb2,
    reputation_pb2_grpc,
    rules_pb2,
    rules_pb2_grpc,
)

SERVICE_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [
                    {"service": "numrep.v1.ReputationService"},
                    {"service": "numrep.v1.RulesService"},
                    {"service": "numrep.v1.AdminService"},
                    {"service": "numrep.v1.ReportService"},
                ],
                "retryPolicy": {
                    "maxAttempts": 4,
                    "initialBackoff": "0.05s",
                    "maxBackoff": "1s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)


class _CallDetails(
    collections.namedtuple(
        "_CallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")
    ),
    grpc.ClientCallDetails,
):
    pass


class ApiKeyInterceptor(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds the operator's API key (x-api-key metadata) to every call."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key

    def _details(self, d: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        metadata = [*(d.metadata or ()), ("x-api-key", self.api_key)]
        return _CallDetails(
            d.method,
            d.timeout,
            metadata,
            d.credentials,
            getattr(d, "wait_for_ready", None),
            getattr(d, "compression", None),
        )

    def intercept_unary_unary(self, continuation: Any, details: grpc.ClientCallDetails, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation: Any, details: grpc.ClientCallDetails, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation: Any, details: grpc.ClientCallDetails, request_iterator: Any) -> Any:
        return continuation(self._details(details), request_iterator)

    def intercept_stream_stream(self, continuation: Any, details: grpc.ClientCallDetails, request_iterator: Any) -> Any:
        return continuation(self._details(details), request_iterator)


def open_channel(
    target: str,
    api_key: str | None = None,
    root_ca: bytes | None = None,
    client_cert: bytes | None = None,
    client_key: bytes | None = None,
) -> grpc.Channel:
    """A channel with retries (UNAVAILABLE), keepalive and, if given, the API key on every call.

    ``root_ca`` switches to TLS (verifying the server against that CA);
    ``client_cert``/``client_key`` add the operator's certificate for mutual TLS.
    """
    options = [("grpc.service_config", SERVICE_CONFIG), ("grpc.enable_retries", 1), ("grpc.keepalive_time_ms", 30_000)]
    if root_ca is None:
        channel = grpc.insecure_channel(target, options=options)
    else:
        creds = grpc.ssl_channel_credentials(
            root_certificates=root_ca, private_key=client_key, certificate_chain=client_cert
        )
        channel = grpc.secure_channel(target, creds, options=options)
    return grpc.intercept_channel(channel, ApiKeyInterceptor(api_key)) if api_key else channel


def channel_enum(name: str | None) -> common_pb2.Channel:
    return common_pb2.Channel.Value(f"CHANNEL_{name.upper()}") if name else common_pb2.CHANNEL_UNSPECIFIED


class Client:
    """Blocking client; use as a context manager or call ``close()``."""

    def __init__(
        self,
        target: str,
        timeout: float = 2.0,
        api_key: str | None = None,
        root_ca: bytes | None = None,
        client_cert: bytes | None = None,
        client_key: bytes | None = None,
    ) -> None:
        self.timeout = timeout
        self.channel = open_channel(target, api_key, root_ca, client_cert, client_key)
        self.reputation = reputation_pb2_grpc.ReputationServiceStub(self.channel)
        self.reports = report_pb2_grpc.ReportServiceStub(self.channel)
        self.rules = rules_pb2_grpc.RulesServiceStub(self.channel)
        self.admin = admin_pb2_grpc.AdminServiceStub(self.channel)
        self.records = callrecords_pb2_grpc.CallRecordServiceStub(self.channel)
        self.disputes = disputes_pb2_grpc.DisputeServiceStub(self.channel)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.channel.close()

    def wait_ready(self, timeout: float = 10.0) -> None:
        grpc.channel_ready_future(self.channel).result(timeout=timeout)

    def lookup(self, subject: str, channel: str | None = None) -> reputation_pb2.LookupResponse:
        req = reputation_pb2.LookupRequest(subject=subject, channel=channel_enum(channel))
        return self.reputation.Lookup(req, timeout=self.timeout)

    def batch_lookup(self, subjects: Iterable[str], channel: str | None = None) -> list[reputation_pb2.LookupResponse]:
        reqs = [
            reputation_pb2.LookupRequest(subject=s, channel=channel_enum(channel), request_id=str(i))
            for i, s in enumerate(subjects)
        ]
        return list(
            self.reputation.BatchLookup(reputation_pb2.BatchLookupRequest(requests=reqs), timeout=self.timeout).results
        )

    def stream_lookup(
        self, requests: Iterable[reputation_pb2.LookupRequest], timeout: float | None = None
    ) -> Iterator[reputation_pb2.LookupResponse]:
        return self.reputation.StreamLookup(iter(requests), timeout=timeout)

    def report(
        self,
        subject: str,
        reporter_id: str,
        category: str = "other",
        channel: str | None = None,
        report_id: str | None = None,
        source: str = "app",
        text: str = "",
        occurred_at: datetime | None = None,
        reporter_number: str = "",
    ) -> report_pb2.SubmitReportResponse:
        msg = report_pb2.Report(
            report_id=report_id or str(uuid.uuid4()),
            reporter_id=reporter_id,
            subject=subject,
            channel=channel_enum(channel),
            category=common_pb2.Category.Value(f"CATEGORY_{category.upper()}"),
            source=report_pb2.ReportSource.Value(f"REPORT_SOURCE_{source.upper()}"),
            text=text,
            reporter_number=reporter_number,
        )
        if occurred_at is not None:
            msg.occurred_at.FromDatetime(occurred_at)
        return self.reports.SubmitReport(report_pb2.SubmitReportRequest(report=msg), timeout=self.timeout)

    def submit_reports(self, reports: Iterable[report_pb2.Report]) -> list[report_pb2.ReportResult]:
        resp = self.reports.SubmitReports(report_pb2.SubmitReportsRequest(reports=list(reports)), timeout=self.timeout)
        return list(resp.results)

    def call_record(
        self,
        record_id: str,
        caller: str,
        callee: str,
        start: datetime,
        ring_ms: int = 3000,
        talk_seconds: int = 0,
        channel: str | None = None,
        international: bool = False,
    ) -> callrecords_pb2.CallRecord:
        """One call record message (send a list of them with ``submit_call_records``)."""
        msg = callrecords_pb2.CallRecord(
            record_id=record_id,
            caller=caller,
            callee=callee,
            channel=channel_enum(channel),
            ring_ms=ring_ms,
            talk_seconds=talk_seconds,
            international=international,
        )
        msg.start_time.FromDatetime(start)
        return msg

    def submit_call_records(
        self, records: Iterable[callrecords_pb2.CallRecord]
    ) -> callrecords_pb2.SubmitCallRecordsResponse:
        return self.records.SubmitCallRecords(
            callrecords_pb2.SubmitCallRecordsRequest(records=list(records)), timeout=self.timeout
        )

    def get_rules(self, since_version: int = 0) -> rules_pb2.RulesUpdate:
        return self.rules.GetRules(rules_pb2.GetRulesRequest(since_version=since_version), timeout=self.timeout)

    def allowlist_add(self, subject: str, reason: str, added_by: str = "") -> admin_pb2.AllowlistEntry:
        req = admin_pb2.AddAllowlistRequest(subject=subject, reason=reason, added_by=added_by)
        return self.admin.AddAllowlist(req, timeout=self.timeout)

    def allowlist_remove(self, subject: str) -> admin_pb2.RemoveAllowlistResponse:
        return self.admin.RemoveAllowlist(admin_pb2.RemoveAllowlistRequest(subject=subject), timeout=self.timeout)

    def allowlist(self) -> list[admin_pb2.AllowlistEntry]:
        return list(self.admin.ListAllowlist(admin_pb2.ListAllowlistRequest(), timeout=self.timeout).entries)

    def status(self) -> admin_pb2.StatusResponse:
        return self.admin.GetStatus(admin_pb2.GetStatusRequest(), timeout=self.timeout)
