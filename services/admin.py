"""AdminService: the allowlist and the serving process's status."""

from __future__ import annotations

from datetime import datetime, timezone

import grpc

from numrep.errors import NotFound, ValidationError
from numrep.lookup import LookupEngine
from numrep.models import AllowlistEntry
from numrep.numbers import normalize
from numrep.v1 import admin_pb2 as pb
from numrep.v1 import admin_pb2_grpc as pb_grpc
from numrep import convert

MAX_REASON_CHARS = 500


class AdminServicer(pb_grpc.AdminServiceServicer):
    def __init__(self, engine: LookupEngine) -> None:
        self.engine = engine
        self.store = engine.store

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

    def GetStatus(self, request: pb.GetStatusRequest, context: grpc.ServicerContext) -> pb.StatusResponse:
        e = self.engine
        return pb.StatusResponse(
            rules_version=e.version, filter_version=e.filter_version, filter_count=e.filter_count,
            rules_count=e.rules_count, store=self.store.name, store_healthy=e.store_healthy,
        )
