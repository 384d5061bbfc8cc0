"""AdminService: the allowlist and the serving process's status."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import grpc

from numrep.regulator import port_blacklist, registry, spam_list, timeliness
from numrep.models import CaseStep
from numrep.regulator.periods import Period
from numrep.regulator.imports import MAX_BYTES, ImportRejected, ImportResult
from numrep.store.base import Store
from numrep.auth import Authenticator, api_key_in, holder_binding
from numrep.errors import Forbidden, NotFound, ValidationError
from numrep.lookup import LookupEngine
from numrep.models import AllowlistEntry
from numrep.numbers import normalize
from numrep.v1 import admin_pb2 as pb
from numrep.v1 import admin_pb2_grpc as pb_grpc
from numrep import convert

MAX_REASON_CHARS = 500
Importer = Callable[[Store, Path, "str | None", str], ImportResult]


class AdminServicer(pb_grpc.AdminServiceServicer):
    def __init__(self, store: Store, engine: LookupEngine, signing_key_id: str = "",
                 on_change: Callable[[], None] = lambda: None, auth: Authenticator | None = None) -> None:
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
        entry = self.store.add_allowlist(
            AllowlistEntry(subject, reason, request.added_by.strip() or "unknown", datetime.now(timezone.utc))
        )
        self.engine.refresh()  # effective at once in this process; others follow on their next refresh
        return convert.allowlist_entry(entry)

    def RemoveAllowlist(self, request: pb.RemoveAllowlistRequest, context: grpc.ServicerContext) -> pb.RemoveAllowlistResponse:
        subject = normalize(request.subject, self.engine.settings.region)
        if not self.store.remove_allowlist(subject):
            raise NotFound(f"{subject} is not on the allowlist")
        self.engine.refresh()
        return pb.RemoveAllowlistResponse(subject=subject)

    def ListAllowlist(self, request: pb.ListAllowlistRequest, context: grpc.ServicerContext) -> pb.ListAllowlistResponse:
        return pb.ListAllowlistResponse(entries=[convert.allowlist_entry(e) for e in self.store.list_allowlist()])

    def ImportPortBlacklist(self, request_iterator: Iterator[pb.ImportChunk], context: grpc.ServicerContext) -> pb.ImportResult:
        result = self._import(request_iterator, port_blacklist.import_file)
        if result.applied and result.changed:
            self.on_change()
        return result

    def ImportAllocations(self, request_iterator: Iterator[pb.ImportChunk], context: grpc.ServicerContext) -> pb.ImportResult:
        return self._import(request_iterator, registry.import_file)

    def ResolveHolder(self, request: pb.ResolveHolderRequest, context: grpc.ServicerContext) -> pb.Allocation:
        subject = normalize(request.subject, self.engine.settings.region)
        a = registry.Registry.load(self.store).holder_of(subject)
        if a is None:
            raise NotFound(f"no allocation covers {subject}")
        return pb.Allocation(prefix=a.prefix, holder=a.holder, holder_type=a.holder_type.value, size=a.size)

    def PublishSpamList(self, request: pb.PublishSpamListRequest, context: grpc.ServicerContext) -> pb.SpamListPublication:
        period = Period.parse(request.period)
        files = spam_list.render(spam_list.build(self.store, period, masked=not request.unmasked, sla=self._sla()))
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

    def ListComplaints(self, request: pb.ListComplaintsRequest, context: grpc.ServicerContext) -> pb.ListComplaintsResponse:
        holder = self._holder(request.holder, context)
        found = timeliness.cases(self.store, Period.parse(request.period), self._sla(), holder=holder)
        return pb.ListComplaintsResponse(complaints=[_complaint(c) for c in found])

    def _step(self, request: pb.ComplaintStepRequest, step: CaseStep, context: grpc.ServicerContext) -> pb.Complaint:
        holder = self._holder(request.holder, context)
        case = timeliness.record(self.store, request.report_id.strip().lower(), holder, step,
                                 datetime.now(timezone.utc), self._sla(), request.note.strip()[:MAX_REASON_CHARS])
        return _complaint(case)

    def AcknowledgeComplaint(self, request: pb.ComplaintStepRequest, context: grpc.ServicerContext) -> pb.Complaint:
        return self._step(request, CaseStep.ACKNOWLEDGED, context)

    def ResolveComplaint(self, request: pb.ComplaintStepRequest, context: grpc.ServicerContext) -> pb.Complaint:
        return self._step(request, CaseStep.RESOLVED, context)

    def GetTimeliness(self, request: pb.GetTimelinessRequest, context: grpc.ServicerContext) -> pb.TimelinessResponse:
        period = Period.parse(request.period)
        rows = timeliness.timeliness(self.store, period, self._sla(), now=datetime.now(timezone.utc))
        return pb.TimelinessResponse(period=period.label, holders=[
            pb.HolderTimeliness(holder=t.holder, due=t.due, on_time=t.on_time, share=t.share, failed=t.failed) for t in rows
        ])

    def _import(self, request_iterator: Iterator[pb.ImportChunk], importer: Importer) -> pb.ImportResult:
        """Spool the uploaded chunks to a file, then validate and apply it whole."""
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
            name = Path(filename or "upload").name
            path = spool.rename(Path(tmp) / name) if name != "upload" else spool
            try:
                result = importer(self.store, path, fmt or None, self.engine.settings.region)
            except ImportRejected as exc:
                return pb.ImportResult(
                    applied=False, more_problems=exc.more,
                    problems=[pb.ImportProblem(line=e.line, message=e.message) for e in exc.errors],
                )
        return pb.ImportResult(applied=True, rows=result.rows, changed=result.changed)

    def GetStatus(self, request: pb.GetStatusRequest, context: grpc.ServicerContext) -> pb.StatusResponse:
        e = self.engine
        return pb.StatusResponse(
            rules_version=e.version, filter_version=e.filter_version, filter_count=e.filter_count,
            rules_count=e.rules_count, store=self.store.name, store_healthy=e.store_healthy,
            signing_key_id=self.signing_key_id, server_pid=os.getpid(),
        )


def _complaint(c: timeliness.Case) -> pb.Complaint:
    return pb.Complaint(
        report_id=c.report_id, subject=c.subject, holder=c.holder, received_at=convert.timestamp(c.received_at),
        ack_due=convert.timestamp(c.ack_due), resolve_due=convert.timestamp(c.resolve_due),
        acknowledged_at=convert.timestamp(c.acknowledged_at), resolved_at=convert.timestamp(c.resolved_at),
        state=c.state, resolution=c.resolution,
    )
