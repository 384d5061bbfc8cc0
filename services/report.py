"""ReportService: accept complaints, idempotently, and nudge the rescoring worker."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import grpc

from numrep import convert, intake
from numrep.auth import Authenticator, api_key_in, peer_label
from numrep.config import Settings
from numrep.errors import RateLimited, ValidationError
from numrep.evidence.trust import Attestor
from numrep.models import Category, Channel, Source
from numrep.ratelimit import ReportLimits
from numrep.store.base import Store
from numrep.v1 import report_pb2 as pb
from numrep.v1 import report_pb2_grpc as pb_grpc


def _input(m: pb.Report) -> intake.ReportInput:
    channel: Channel | None = convert.enum_or_none(convert.CHANNEL_FROM_PB, m.channel, "channel")
    category: Category | None = convert.enum_or_none(convert.CATEGORY_FROM_PB, m.category, "category")
    source: Source | None = convert.enum_or_none(convert.SOURCE_FROM_PB, m.source, "source")
    return intake.ReportInput(
        report_id=m.report_id,
        reporter_id=m.reporter_id,
        subject=m.subject,
        channel=channel,
        category=category,
        source=source,
        text=m.text,
        occurred_at=convert.from_timestamp(m.occurred_at, "occurred_at") if m.HasField("occurred_at") else None,
        reporter_number=m.reporter_number,
    )


class ReportServicer(pb_grpc.ReportServiceServicer):
    def __init__(
        self,
        store: Store,
        settings: Settings,
        on_new: Callable[[], None] = lambda: None,
        limits: ReportLimits | None = None,
        auth: Authenticator | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.on_new = on_new
        self.auth = auth or Authenticator(store, settings)
        self.attestor = Attestor(store)
        self.limits = limits or ReportLimits(
            settings.reporter_reports_per_minute,
            settings.reporter_report_burst,
            settings.operator_reports_per_second,
            settings.operator_report_burst,
        )

    def _validate(self, m: pb.Report, now: datetime, attest: Callable[[str], str] | None) -> intake.Report:
        return intake.validate(
            _input(m),
            self.settings.hmac_key,
            self.settings.region,
            now,
            self.settings.subscriber_key,
            attest,
            self.settings.keep_report_text,
        )

    def _sender(self, context: grpc.ServicerContext) -> tuple[str, Callable[[str], str] | None]:
        """Who sends (the API key's operator, else the peer's address without the port), and its attest function."""
        operator = self.auth.operator_of(api_key_in(context.invocation_metadata()))
        if operator is not None:
            return f"key:{operator}", self.attestor.for_operator(operator)
        return peer_label(context.peer()), None

    def SubmitReport(self, request: pb.SubmitReportRequest, context: grpc.ServicerContext) -> pb.SubmitReportResponse:
        if not request.HasField("report"):
            raise ValidationError("report: required")
        sender, attest = self._sender(context)
        report = self._validate(request.report, datetime.now(UTC), attest)
        self.limits.operator(sender, 1)
        self.limits.reporter(report.reporter_hash)
        [res] = intake.accept(self.store, [report])
        if not res.duplicate:
            self.on_new()
        return pb.SubmitReportResponse(report_id=res.report_id, duplicate=res.duplicate, subject=res.subject)

    def SubmitReports(
        self, request: pb.SubmitReportsRequest, context: grpc.ServicerContext
    ) -> pb.SubmitReportsResponse:
        if len(request.reports) > self.settings.max_batch:
            raise ValidationError(f"reports: at most {self.settings.max_batch} per call, got {len(request.reports)}")
        now = datetime.now(UTC)
        sender, attest = self._sender(context)
        results: list[pb.ReportResult | None] = [None] * len(request.reports)
        valid: list[tuple[int, intake.Report]] = []
        seen: dict[str, int] = {}
        for i, m in enumerate(request.reports):
            try:
                report = self._validate(m, now, attest)
            except ValidationError as exc:
                results[i] = pb.ReportResult(report_id=m.report_id, accepted=False, error=exc.message)
                continue
            if report.report_id in seen:  # the same id twice in one call counts once
                results[i] = pb.ReportResult(
                    report_id=m.report_id, accepted=True, duplicate=True, subject=report.subject
                )
                continue
            seen[report.report_id] = i
            valid.append((i, report))
        if valid:
            self.limits.operator(sender, len(valid))  # the whole call, or none of it
        within: list[tuple[int, intake.Report]] = []
        for i, report in valid:
            try:
                self.limits.reporter(report.reporter_hash)
            except RateLimited as exc:
                results[i] = pb.ReportResult(
                    report_id=report.report_id, accepted=False, error=exc.message, retryable=True
                )
                continue
            within.append((i, report))
        valid = within
        accepted = intake.accept(self.store, [r for _, r in valid]) if valid else []
        for (i, _), res in zip(valid, accepted):
            results[i] = pb.ReportResult(
                report_id=res.report_id, accepted=True, duplicate=res.duplicate, subject=res.subject
            )
        if any(not a.duplicate for a in accepted):
            self.on_new()
        return pb.SubmitReportsResponse(results=[r for r in results if r is not None])
