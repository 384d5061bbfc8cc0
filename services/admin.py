"""AdminService: the allowlist, imports, trust and review, deletion on request, and the serving process's status."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import grpc

from numrep import convert, pipeline, privacy
from numrep.auth import Authenticator, api_key_in, holder_binding
from numrep.errors import Forbidden, NotFound, ValidationError
from numrep.evidence import decisions
from numrep.intake import MAX_REPORTER_CHARS
from numrep.lookup import LookupEngine
from numrep.models import AllowlistEntry, CaseStep, Scope
from numrep.numbers import normalize
from numrep.regulator import cards, port_blacklist, registry, spam_list, timeliness
from numrep.regulator.imports import MAX_BYTES, ImportRejected, ImportResult, Progress
from numrep.regulator.periods import Period
from numrep.store.base import Store
from numrep.v1 import admin_pb2 as pb
from numrep.v1 import admin_pb2_grpc as pb_grpc
from numrep.v1 import cards_pb2

MAX_REASON_CHARS = 500
MAX_SUBJECTS_LISTED = 1000  # subjects a DeleteReporterResponse names; subjects_affected counts all
Importer = Callable[[Store, Path, "str | None", str, "Progress | None", "str | None"], ImportResult]


class AdminServicer(pb_grpc.AdminServiceServicer):
    def __init__(
        self,
        store: Store,
        engine: LookupEngine,
        signing_key_id: str = "",
        on_change: Callable[[], None] = lambda: None,
        auth: Authenticator | None = None,
    ) -> None:
        self.engine = engine
        self.store = store
        self.auth = auth or Authenticator(store, engine.settings)
        self.signing_key_id = signing_key_id
        self.on_change = on_change  # nudges the worker: changed ports are dirty

    def AddAllowlist(self, request: pb.AddAllowlistRequest, context: grpc.ServicerContext) -> pb.AllowlistEntry:
        subject = normalize(request.subject, self.engine.settings.region)
        reason = request.reason.strip()
        if not reason:
            raise ValidationError("reason: required")
        if len(reason) > MAX_REASON_CHARS:
            raise ValidationError(f"reason: at most {MAX_REASON_CHARS} characters")
        now = datetime.now(UTC)
        entry = self.store.add_allowlist(AllowlistEntry(subject, reason, request.added_by.strip() or "unknown", now))
        decisions.allowlisted(self.store, self.engine.settings, subject, now)  # its reporters were wrong
        pipeline.publish_allowlist(self.store, [subject])  # in the feed at once: switches' local lists pass it
        self.engine.refresh()  # effective at once in this process; others follow on their next refresh
        return convert.allowlist_entry(entry)

    def RemoveAllowlist(
        self, request: pb.RemoveAllowlistRequest, context: grpc.ServicerContext
    ) -> pb.RemoveAllowlistResponse:
        subject = normalize(request.subject, self.engine.settings.region)
        if not self.store.remove_allowlist(subject):
            raise NotFound(f"{subject} is not on the allowlist")
        pipeline.publish_allowlist(self.store, [subject])
        self.engine.refresh()
        return pb.RemoveAllowlistResponse(subject=subject)

    def ListAllowlist(
        self, request: pb.ListAllowlistRequest, context: grpc.ServicerContext
    ) -> pb.ListAllowlistResponse:
        return pb.ListAllowlistResponse(entries=[convert.allowlist_entry(e) for e in self.store.list_allowlist()])

    def ImportPortBlacklist(
        self, request_iterator: Iterator[pb.ImportChunk], context: grpc.ServicerContext
    ) -> pb.ImportResult:
        result = self._import(request_iterator, port_blacklist.import_file)
        if result.applied and result.changed:
            self.on_change()
        return result

    def ImportAllocations(
        self, request_iterator: Iterator[pb.ImportChunk], context: grpc.ServicerContext
    ) -> pb.ImportResult:
        return self._import(request_iterator, registry.import_file)

    # ---- real-name cards (numrep.regulator.cards) ------------------------------
    def ImportCardRegistrations(
        self, request_iterator: Iterator[pb.ImportChunk], context: grpc.ServicerContext
    ) -> pb.ImportResult:
        return self._import(request_iterator, cards.registration_importer(self.engine.settings.id_number_key))

    def ImportCardStatuses(
        self, request_iterator: Iterator[pb.ImportChunk], context: grpc.ServicerContext
    ) -> pb.ImportResult:
        return self._import(request_iterator, cards.import_statuses)

    def GetReverificationList(
        self, request: cards_pb2.ReverificationListRequest, context: grpc.ServicerContext
    ) -> Iterator[cards_pb2.ReverificationEntry]:
        operator = request.operator.strip()
        if not operator:
            raise ValidationError("operator: required")
        if len(operator) > MAX_REASON_CHARS:
            raise ValidationError(f"operator: at most {MAX_REASON_CHARS} characters")
        s = self.engine.settings
        for e in cards.reverification_list(self.store, operator, s.card_limit_per_operator, s.card_concentration):
            c, f = e.card, e.finding
            yield cards_pb2.ReverificationEntry(
                number=c.number,
                id_ref=f.ref,
                registered_on=c.registered_on.isoformat(),
                seller=c.seller,
                cards_at_operator=f.per_operator.get(c.operator, 0),
                cards_total=f.cards,
                reasons=list(e.reasons),
            )

    def ResolveHolder(self, request: pb.ResolveHolderRequest, context: grpc.ServicerContext) -> pb.Allocation:
        subject = normalize(request.subject, self.engine.settings.region)
        a = registry.Registry.load(self.store).holder_of(subject)
        if a is None:
            raise NotFound(f"no allocation covers {subject}")
        return pb.Allocation(prefix=a.prefix, holder=a.holder, holder_type=a.holder_type.value, size=a.size)

    def PublishSpamList(
        self, request: pb.PublishSpamListRequest, context: grpc.ServicerContext
    ) -> pb.SpamListPublication:
        period = Period.parse(request.period)
        files = spam_list.publish(self.store, self.engine.settings, period, masked=not request.unmasked)
        return pb.SpamListPublication(period=period.label, json=files["json"], csv=files["csv"], html=files["html"])

    def _sla(self) -> timeliness.SLA:
        return timeliness.SLA.from_settings(self.engine.settings)

    def _holder(self, asked: str, context: grpc.ServicerContext) -> str:
        """The holder a complaint call acts for: as asked, within what the caller's key allows."""
        asked = asked.strip()
        key = None
        if self.engine.settings.auth_required:
            key = self.auth.key_of(api_key_in(context.invocation_metadata()))
        bound = holder_binding(key)
        if bound is None:  # an admin key, or no authentication configured
            if not asked:
                raise ValidationError("holder: required")
            return asked
        if asked and asked != bound:
            raise Forbidden(f"the key of {bound} handles only {bound}'s complaints, not {asked}'s")
        return bound

    def ListComplaints(
        self, request: pb.ListComplaintsRequest, context: grpc.ServicerContext
    ) -> pb.ListComplaintsResponse:
        holder = self._holder(request.holder, context)
        found = timeliness.cases(self.store, Period.parse(request.period), self._sla(), holder=holder)
        return pb.ListComplaintsResponse(complaints=[_complaint(c) for c in found])

    def _step(self, request: pb.ComplaintStepRequest, step: CaseStep, context: grpc.ServicerContext) -> pb.Complaint:
        holder = self._holder(request.holder, context)
        case = timeliness.record(
            self.store,
            request.report_id.strip().lower(),
            holder,
            step,
            datetime.now(UTC),
            self._sla(),
            request.note.strip()[:MAX_REASON_CHARS],
        )
        return _complaint(case)

    def AcknowledgeComplaint(self, request: pb.ComplaintStepRequest, context: grpc.ServicerContext) -> pb.Complaint:
        return self._step(request, CaseStep.ACKNOWLEDGED, context)

    def ResolveComplaint(self, request: pb.ComplaintStepRequest, context: grpc.ServicerContext) -> pb.Complaint:
        return self._step(request, CaseStep.RESOLVED, context)

    def GetTimeliness(self, request: pb.GetTimelinessRequest, context: grpc.ServicerContext) -> pb.TimelinessResponse:
        period = Period.parse(request.period)
        rows = timeliness.timeliness(self.store, period, self._sla(), now=datetime.now(UTC))
        return pb.TimelinessResponse(
            period=period.label,
            holders=[
                pb.HolderTimeliness(holder=t.holder, due=t.due, on_time=t.on_time, share=t.share, failed=t.failed)
                for t in rows
            ],
        )

    def _import(self, request_iterator: Iterator[pb.ImportChunk], importer: Importer) -> pb.ImportResult:
        """Spool the uploaded chunks to a file, then validate and apply it whole.

        The upload's filename names the file in messages and gives its format; it is
        never used as a path (``..`` or ``a/b`` name nothing on this server's disk).
        """
        filename, fmt, size = "", "", 0
        with tempfile.TemporaryDirectory(prefix="numrep-import-") as tmp:
            spool = Path(tmp) / "upload"
            with open(spool, "wb") as fh:
                for chunk in request_iterator:
                    filename = filename or chunk.filename
                    fmt = fmt or chunk.format
                    size += len(chunk.data)
                    if size > MAX_BYTES:
                        raise ValidationError(f"file larger than {MAX_BYTES} bytes")
                    fh.write(chunk.data)
            name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()[:200] or "upload"
            try:
                result = importer(self.store, spool, fmt or None, self.engine.settings.region, None, name)
            except ImportRejected as exc:
                return pb.ImportResult(
                    applied=False,
                    more_problems=exc.more,
                    problems=[pb.ImportProblem(line=e.line, message=e.message) for e in exc.errors],
                )
        return pb.ImportResult(applied=True, rows=result.rows, changed=result.changed)

    # ---- trust: honeypots, confirmed fraud, review, the safety switch ---------
    def _operator_scope(self, asked: str, context: grpc.ServicerContext) -> str | None:
        """The operator a honeypot call acts for: a honeypot key's own; any named one for admin or without auth."""
        key = (
            self.auth.key_of(api_key_in(context.invocation_metadata())) if self.engine.settings.auth_required else None
        )
        if key is None or Scope.ADMIN in key.scopes:
            return asked.strip() or None
        if asked.strip() and asked.strip() != key.operator:
            raise Forbidden(f"the key of {key.operator} manages only {key.operator}'s honeypots, not {asked.strip()}'s")
        return key.operator

    def AddHoneypot(self, request: pb.AddHoneypotRequest, context: grpc.ServicerContext) -> pb.Honeypot:
        operator = self._operator_scope(request.operator, context)
        if operator is None:
            raise ValidationError("operator: required")
        pot = decisions.add_honeypot(
            self.store, self.engine.settings, request.number, operator, request.note, datetime.now(UTC)
        )
        return convert.honeypot(pot)

    def RemoveHoneypot(self, request: pb.RemoveHoneypotRequest, context: grpc.ServicerContext) -> pb.Honeypot:
        operator = self._operator_scope("", context)
        return convert.honeypot(decisions.remove_honeypot(self.store, self.engine.settings, request.number, operator))

    def ListHoneypots(
        self, request: pb.ListHoneypotsRequest, context: grpc.ServicerContext
    ) -> pb.ListHoneypotsResponse:
        operator = self._operator_scope(request.operator, context)
        pots = [h for h in self.store.honeypots() if operator is None or h.operator == operator]
        return pb.ListHoneypotsResponse(honeypots=[convert.honeypot(h) for h in pots])

    def ConfirmFraud(self, request: pb.ConfirmFraudRequest, context: grpc.ServicerContext) -> pb.ConfirmedFraud:
        entry = decisions.confirm_fraud(
            self.store,
            self.engine.settings,
            request.subject,
            request.case_id,
            convert.from_timestamp(request.expires_at, "expires_at") if request.HasField("expires_at") else None,
            request.actor,
            request.reason,
            datetime.now(UTC),
        )
        self.on_change()
        return convert.confirmed_fraud(entry)

    def ListReviewCases(
        self, request: pb.ListReviewCasesRequest, context: grpc.ServicerContext
    ) -> pb.ListReviewCasesResponse:
        state = request.state.strip().lower() or "open"
        if state not in ("open", "decided", "all"):
            raise ValidationError("state: open, decided or all")
        limit = request.limit or 100
        if limit > 1000:
            raise ValidationError("limit: at most 1000")
        return pb.ListReviewCasesResponse(cases=[convert.review_case(c) for c in self.store.review_cases(state, limit)])

    def DecideReviewCase(self, request: pb.DecideReviewCaseRequest, context: grpc.ServicerContext) -> pb.ReviewCase:
        case = decisions.decide_case(
            self.store,
            self.engine.settings,
            request.case_id,
            request.decision,
            request.actor,
            request.reason,
            datetime.now(UTC),
            convert.from_timestamp(request.expires_at, "expires_at") if request.HasField("expires_at") else None,
        )
        self.on_change()
        return convert.review_case(case)

    def SetBlockSwitch(self, request: pb.SetBlockSwitchRequest, context: grpc.ServicerContext) -> pb.BlockSwitch:
        switch = decisions.set_block_switch(
            self.store, request.block_to_label, request.actor, request.reason, datetime.now(UTC)
        )
        self.on_change()
        return convert.block_switch(switch)

    def DeleteReporter(
        self, request: pb.DeleteReporterRequest, context: grpc.ServicerContext
    ) -> pb.DeleteReporterResponse:
        reporter = request.reporter_id.strip()
        if not reporter:
            raise ValidationError("reporter_id: required")
        if len(reporter) > MAX_REPORTER_CHARS:  # the error never echoes the id
            raise ValidationError(f"reporter_id: at most {MAX_REPORTER_CHARS} characters")
        removal = privacy.delete_reporter(self.store, self.engine.settings.hmac_key, reporter)
        if removal.subjects:
            self.on_change()  # the worker rescores the subjects they fed
        subjects = sorted(removal.subjects)
        return pb.DeleteReporterResponse(
            reports=removal.reports,
            case_events=removal.case_events,
            outcomes=removal.outcomes,
            subjects_affected=len(subjects),
            subjects=subjects[:MAX_SUBJECTS_LISTED],
        )

    def GetStatus(self, request: pb.GetStatusRequest, context: grpc.ServicerContext) -> pb.StatusResponse:
        e = self.engine
        return pb.StatusResponse(
            rules_version=e.version,
            filter_version=e.filter_version,
            filter_count=e.filter_count,
            rules_count=e.rules_count,
            store=self.store.name,
            store_healthy=e.store_healthy,
            signing_key_id=self.signing_key_id,
            server_pid=os.getpid(),
        )


def _complaint(c: timeliness.Case) -> pb.Complaint:
    return pb.Complaint(
        report_id=c.report_id,
        subject=c.subject,
        holder=c.holder,
        received_at=convert.timestamp(c.received_at),
        ack_due=convert.timestamp(c.ack_due),
        resolve_due=convert.timestamp(c.resolve_due),
        acknowledged_at=convert.timestamp(c.acknowledged_at),
        resolved_at=convert.timestamp(c.resolved_at),
        state=c.state,
        resolution=c.resolution,
    )
