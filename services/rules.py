"""RulesService: the versioned blocking-rules feed and filter snapshots."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc

from numrep.config import Settings
from numrep.errors import NotFound, ValidationError
from numrep.signing import Signer, raw_public
from numrep.store.base import Store
from numrep.v1 import rules_pb2 as pb
from numrep.v1 import rules_pb2_grpc as pb_grpc
from numrep import convert

FILTER_CHUNK_BYTES = 1 << 20


class RulesServicer(pb_grpc.RulesServiceServicer):
    def __init__(self, store: Store, settings: Settings, signer: Signer, stopping: threading.Event | None = None) -> None:
        self.store = store
        self.settings = settings
        self.signer = signer
        self.stopping = stopping or threading.Event()

    def _update(self, since: int) -> pb.RulesUpdate:
        if since < 0:
            raise ValidationError("since_version: must be 0 or a version held")
        return convert.rules_update(self.store.rules_since(since), self.settings.rules_min_wait_seconds, self.signer)

    def GetRules(self, request: pb.GetRulesRequest, context: grpc.ServicerContext) -> pb.RulesUpdate:
        return self._update(request.since_version)

    def WatchRules(self, request: pb.GetRulesRequest, context: grpc.ServicerContext) -> Iterator[pb.RulesUpdate]:
        update = self._update(request.since_version)
        yield update
        held = update.version
        while context.is_active() and not self.stopping.wait(self.settings.refresh_interval_seconds):
            if self.store.rules_version() == held:
                continue
            update = self._update(held)
            held = update.version
            yield update

    def GetSigningKey(self, request: pb.GetSigningKeyRequest, context: grpc.ServicerContext) -> pb.SigningKey:
        return pb.SigningKey(key_id=self.signer.key_id, algorithm="Ed25519", public_key=raw_public(self.signer.public))

    def GetFilterSnapshot(self, request: pb.GetFilterSnapshotRequest, context: grpc.ServicerContext) -> Iterator[pb.FilterChunk]:
        meta = self.store.latest_filter_snapshot()
        if meta is None:
            raise NotFound("no filter snapshot has been built yet")
        data = self.store.filter_snapshot_data(meta.snapshot_id)
        offsets = list(range(0, len(data), FILTER_CHUNK_BYTES)) or [0]
        for i, off in enumerate(offsets):
            yield pb.FilterChunk(
                version=meta.version, count=meta.count, error_rate=meta.error_rate,
                data=data[off : off + FILTER_CHUNK_BYTES], last=i == len(offsets) - 1,
            )
