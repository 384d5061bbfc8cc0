"""RulesService: the versioned blocking-rules feed and filter snapshots."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc

from numrep.config import Settings
from numrep.errors import Aborted, NotFound, Overloaded, ValidationError
from numrep.models import RulesDelta
from numrep.signing import Signer, raw_public
from numrep.store.base import Store
from numrep.v1 import rules_pb2 as pb
from numrep.v1 import rules_pb2_grpc as pb_grpc
from numrep import convert

FILTER_CHUNK_BYTES = 1 << 20
DEFAULT_PAGE_SIZE = 10_000  # ~1.2 MB of rules: well under the 4 MB message limit
MAX_PAGE_SIZE = 50_000


class RulesServicer(pb_grpc.RulesServiceServicer):
    def __init__(self, store: Store, settings: Settings, signer: Signer, stopping: threading.Event | None = None) -> None:
        self.store = store
        self.settings = settings
        self.signer = signer
        self.stopping = stopping or threading.Event()
        self._snapshot_lock = threading.Lock()
        # A sync gRPC server gives every call a thread for its whole life: cap the watchers so lookups keep theirs.
        self._watchers = threading.BoundedSemaphore(settings.watch_streams_limit)
        self._snapshot: RulesDelta | None = None  # the last full snapshot, rules sorted, for paging

    # ---- paging -----------------------------------------------------------
    @staticmethod
    def _page_size(request: pb.GetRulesRequest) -> int:
        if request.page_size > MAX_PAGE_SIZE:
            raise ValidationError(f"page_size: at most {MAX_PAGE_SIZE}")
        return request.page_size or DEFAULT_PAGE_SIZE

    def _keep(self, full: RulesDelta) -> RulesDelta:
        """Keep a full snapshot, rules sorted, for the pages that follow. Call with the lock held."""
        self._snapshot = RulesDelta(full.version, 0, True, tuple(sorted(full.added, key=lambda r: r.rule_id)), (),
                                    full.checksum)
        return self._snapshot

    def _full(self, version: int | None = None) -> RulesDelta:
        """The full snapshot (at ``version`` if given, or raise Aborted), kept for the following pages."""
        with self._snapshot_lock:
            snap = self._snapshot
            wanted = self.store.rules_version() if version is None else version
            if snap is None or snap.version != wanted:
                snap = self._keep(self.store.rules_since(0))
            if version is not None and snap.version != version:
                raise Aborted(f"the rules moved on from version {version} to {snap.version} while paging; start again")
            return snap

    def _page(self, snap: RulesDelta, offset: int, size: int) -> pb.RulesUpdate:
        part = RulesDelta(snap.version, 0, True, snap.added[offset : offset + size], (), snap.checksum)
        msg = convert.rules_update(part, self.settings.rules_min_wait_seconds, self.signer)
        if offset + size < len(snap.added):
            msg.next_page_token = f"{snap.version}.{offset + size}"
        return msg

    def _first_page(self, since: int, size: int) -> pb.RulesUpdate:
        """A delta from ``since`` if it fits a page, else page one of a full snapshot."""
        if since < 0:
            raise ValidationError("since_version: must be 0 or a version held")
        if since > 0:
            delta = self.store.rules_since(since)
            if delta.full_snapshot:  # the delta log no longer reaches `since`: that read is the snapshot
                with self._snapshot_lock:
                    return self._page(self._keep(delta), 0, size)
            if len(delta.added) + len(delta.removed) <= size:
                return convert.rules_update(delta, self.settings.rules_min_wait_seconds, self.signer)
        return self._page(self._full(), 0, size)

    def _next_page(self, token: str, size: int) -> pb.RulesUpdate:
        try:
            version, offset = (int(x) for x in token.split("."))
        except ValueError:
            raise ValidationError("page_token: not a token this service issued") from None
        if version < 1 or offset < 1:
            raise ValidationError("page_token: not a token this service issued")
        return self._page(self._full(version), offset, size)

    def _all_pages(self, since: int, size: int) -> Iterator[pb.RulesUpdate]:
        page = self._first_page(since, size)
        yield page
        while page.next_page_token:
            page = self._next_page(page.next_page_token, size)
            yield page

    # ---- RPCs -------------------------------------------------------------
    def GetRules(self, request: pb.GetRulesRequest, context: grpc.ServicerContext) -> pb.RulesUpdate:
        size = self._page_size(request)
        if request.page_token:
            return self._next_page(request.page_token, size)
        return self._first_page(request.since_version, size)

    def WatchRules(self, request: pb.GetRulesRequest, context: grpc.ServicerContext) -> Iterator[pb.RulesUpdate]:
        size = self._page_size(request)
        if not self._watchers.acquire(blocking=False):
            raise Overloaded(f"this server already has {self.settings.watch_streams_limit} rules-feed watchers; "
                             "poll GetRules (honouring min_wait) or watch on another server")
        try:
            yield from self._watch(request.since_version, size, context)
        finally:
            self._watchers.release()

    def _watch(self, since: int, size: int, context: grpc.ServicerContext) -> Iterator[pb.RulesUpdate]:
        held = since
        for page in self._all_pages(held, size):
            held = page.version
            yield page
        while context.is_active() and not self.stopping.wait(self.settings.refresh_interval_seconds):
            if self.store.rules_version() == held:
                continue
            for page in self._all_pages(held, size):
                held = page.version
                yield page

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
