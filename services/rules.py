"""RulesService: the versioned blocking-rules feed and filter snapshots.

What a call may cost is bounded (issue 11, item 8): a poll at the latest
version reads one small row; a delta reads at most ``max_delta_versions`` of
the log; everything else — a first sync, a client far behind, the pages of a
snapshot — is served from one shared full snapshot per version, read once
(one reader at a time; a page token of a superseded version is refused
without reading anything). Pages stop short of the message limit. The filter
is held serialized once per snapshot and streamed in chunks from that copy.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import grpc

from numrep import convert
from numrep.config import Settings
from numrep.errors import Aborted, NotFound, Overloaded, ValidationError
from numrep.models import FilterSnapshotMeta, RulesDelta
from numrep.signing import Signer, raw_public
from numrep.store.base import Store
from numrep.v1 import rules_pb2 as pb
from numrep.v1 import rules_pb2_grpc as pb_grpc

FILTER_CHUNK_BYTES = 1 << 20
DEFAULT_PAGE_SIZE = 10_000
#: Room a page leaves under the message limit for the update's own fields and gRPC framing.
PAGE_HEADROOM_BYTES = 64 * 1024
#: The page_size cap assumes rules of this many bytes (a rule with a long reason is larger;
#: pages are cut by bytes as well, so every page fits whatever its rules).
RULE_BYTES = 128


def max_page_size(max_message_bytes: int) -> int:
    """The largest page_size accepted: 32,256 at the default 4 MiB message limit."""
    return max(1, (max_message_bytes - PAGE_HEADROOM_BYTES) // RULE_BYTES)


@dataclass(frozen=True, slots=True)
class SharedFilter:
    """One serialized filter snapshot, held once and streamed to every caller, with its signature."""

    meta: FilterSnapshotMeta
    epoch: int
    data: bytes
    sha256: str
    signature: bytes


class RulesServicer(pb_grpc.RulesServiceServicer):
    def __init__(
        self, store: Store, settings: Settings, signer: Signer, stopping: threading.Event | None = None
    ) -> None:
        self.store = store
        self.settings = settings
        self.signer = signer
        self.stopping = stopping or threading.Event()
        self.max_page_size = max_page_size(settings.grpc_max_message_bytes)
        self._page_bytes = max(1024, settings.grpc_max_message_bytes - PAGE_HEADROOM_BYTES)
        self._snapshot_lock = threading.Lock()  # one full read at a time; callers of that version share it
        # A sync gRPC server gives every call a thread for its whole life: cap the watchers so lookups keep theirs.
        self._watchers = threading.BoundedSemaphore(settings.watch_streams_limit)
        self._snapshot: RulesDelta | None = None  # the last full snapshot, rules sorted, for paging
        self._filter_lock = threading.Lock()
        self._filter: SharedFilter | None = None
        self._epoch_at: tuple[int, float] | None = None  # (epoch, when read)
        # What calls cost, for the tests and the status page.
        self.full_reads = 0
        self.filter_loads = 0
        self.filter_downloads = 0
        self.filter_chunks = 0

    # ---- the epoch ----------------------------------------------------------
    def _epoch(self) -> int:
        """The feed epoch, read again at most once per refresh interval."""
        held = self._epoch_at
        now = time.monotonic()
        if held is None or now - held[1] >= self.settings.refresh_interval_seconds:
            held = self._epoch_at = (self.store.feed_epoch(), now)
        return held[0]

    # ---- paging -----------------------------------------------------------
    def _page_size(self, request: pb.GetRulesRequest) -> int:
        if request.page_size > self.max_page_size:
            raise ValidationError(
                f"page_size: at most {self.max_page_size} (a page must fit "
                f"{self.settings.grpc_max_message_bytes} bytes)"
            )
        return request.page_size or min(DEFAULT_PAGE_SIZE, self.max_page_size)

    def _full(self) -> RulesDelta:
        """The full snapshot at the latest version: read once per version, shared by every caller."""
        latest = self.store.rules_version()
        snap = self._snapshot
        if snap is not None and snap.version >= latest:
            return snap
        with self._snapshot_lock:
            snap = self._snapshot
            if snap is not None and snap.version >= latest:
                return snap  # another caller read it meanwhile
            return self._keep(self.store.rules_since(0))

    def _keep(self, full: RulesDelta) -> RulesDelta:
        """Keep a full snapshot, rules sorted, for the pages that follow (unless a newer one is kept)."""
        snap = RulesDelta(full.version, 0, True, tuple(sorted(full.added, key=lambda r: r.rule_id)), (), full.checksum)
        self.full_reads += 1
        current = self._snapshot
        if current is None or current.version <= snap.version:
            self._snapshot = snap
        return snap

    def _page(self, snap: RulesDelta, offset: int, size: int, epoch: int) -> pb.RulesUpdate:
        """Rules ``offset`` onwards: at most ``size`` of them and at most the page's bytes (at least one)."""
        budget = self._page_bytes
        added: list[pb.Rule] = []
        end = offset
        for r in snap.added[offset : offset + size]:
            m = convert.rule(r)
            cost = m.ByteSize() + 8  # the field's tag and length
            if added and cost > budget:
                break
            budget -= cost
            added.append(m)
            end += 1
        part = RulesDelta(snap.version, 0, True, (), (), snap.checksum)
        msg = convert.rules_update(part, self.settings.rules_min_wait_seconds, self.signer, epoch, added)
        if end < len(snap.added):
            msg.next_page_token = f"{snap.version}.{end}"
        return msg

    def _first_page(self, since: int, size: int) -> pb.RulesUpdate:
        """A delta from ``since`` if it is near enough and fits a page, else page one of the shared snapshot."""
        if since < 0:
            raise ValidationError("since_version: must be 0 or a version held")
        epoch = self._epoch()
        if since > 0:
            version, checksum = self.store.rules_head()
            if since == version:  # the common poll: nothing new, one small read
                delta = RulesDelta(version, since, False, (), (), checksum)
                return convert.rules_update(delta, self.settings.rules_min_wait_seconds, self.signer, epoch)
            if since < version and self.store.delta_reaches(since, version):
                delta = self.store.rules_since(since)
                if delta.full_snapshot:  # the log no longer reaches `since`: that read is the snapshot
                    with self._snapshot_lock:
                        return self._page(self._keep(delta), 0, size, epoch)
                if len(delta.added) + len(delta.removed) <= size:
                    msg = convert.rules_update(delta, self.settings.rules_min_wait_seconds, self.signer, epoch)
                    if msg.ByteSize() <= self._page_bytes:
                        return msg
        return self._page(self._full(), 0, size, epoch)

    def _next_page(self, token: str, size: int) -> pb.RulesUpdate:
        try:
            version, offset = (int(x) for x in token.split("."))
        except ValueError:
            raise ValidationError("page_token: not a token this service issued") from None
        if version < 1 or offset < 1:
            raise ValidationError("page_token: not a token this service issued")
        snap = self._snapshot
        if snap is None or snap.version != version:
            # Not the snapshot held: unless it is the latest version (one small read), the token is stale, and
            # is refused without reading the rule set.
            if (snap is not None and snap.version > version) or self.store.rules_version() != version:
                raise Aborted(f"the rules moved on from version {version} while paging; start again")
            snap = self._full()
            if snap.version != version:
                raise Aborted(f"the rules moved on from version {version} to {snap.version} while paging; start again")
        if offset >= len(snap.added):
            raise ValidationError("page_token: not a token this service issued")
        return self._page(snap, offset, size, self._epoch())

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
            raise Overloaded(
                f"this server already has {self.settings.watch_streams_limit} rules-feed watchers; "
                "poll GetRules (honouring min_wait) or watch on another server"
            )
        try:
            yield from self._watch(request.since_version, size, context)
        finally:
            self._watchers.release()

    def _watch(self, since: int, size: int, context: grpc.ServicerContext) -> Iterator[pb.RulesUpdate]:
        held = since
        for page in self._all_pages(held, size):
            held = page.version
            yield page
        sent = time.monotonic()
        while context.is_active() and not self.stopping.wait(self.settings.refresh_interval_seconds):
            heartbeat = time.monotonic() - sent >= self.settings.rules_heartbeat_seconds
            if not heartbeat and self.store.rules_version() == held:
                continue
            for page in self._all_pages(held, size):  # a new version, or a signed "nothing new" that renews freshness
                held = page.version
                yield page
            sent = time.monotonic()

    def GetSigningKey(self, request: pb.GetSigningKeyRequest, context: grpc.ServicerContext) -> pb.SigningKey:
        return pb.SigningKey(key_id=self.signer.key_id, algorithm="Ed25519", public_key=raw_public(self.signer.public))

    # ---- the filter ---------------------------------------------------------
    def _shared_filter(self) -> SharedFilter:
        """The latest snapshot, serialized and signed once (one metadata read per call)."""
        meta = self.store.latest_filter_snapshot()
        if meta is None:
            raise NotFound("no filter snapshot has been built yet")
        epoch = self._epoch()
        held = self._filter
        if held is not None and held.meta.snapshot_id == meta.snapshot_id and held.epoch == epoch:
            return held
        with self._filter_lock:
            held = self._filter
            if held is not None and held.meta.snapshot_id == meta.snapshot_id and held.epoch == epoch:
                return held
            data = self.store.filter_snapshot_data(meta.snapshot_id)
            sha = hashlib.sha256(data).hexdigest()
            signature = self.signer.sign_filter(epoch, meta.version, meta.count, meta.error_rate, len(data), sha)
            held = self._filter = SharedFilter(meta, epoch, data, sha, signature)
            self.filter_loads += 1
            return held

    def GetFilterSnapshot(
        self, request: pb.GetFilterSnapshotRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.FilterChunk]:
        shared = self._shared_filter()
        meta = shared.meta
        if request.known_epoch == shared.epoch and request.known_version == meta.version:
            return  # the client holds it: no chunks
        self.filter_downloads += 1
        data = shared.data
        offsets = range(0, len(data), FILTER_CHUNK_BYTES) if data else range(1)
        last = len(offsets) - 1
        for i, off in enumerate(offsets):
            self.filter_chunks += 1
            yield pb.FilterChunk(
                version=meta.version,
                count=meta.count,
                error_rate=meta.error_rate,
                data=data[off : off + FILTER_CHUNK_BYTES],
                last=i == last,
                epoch=shared.epoch,
                size=len(data),
                sha256=shared.sha256,
                signature=shared.signature,
                key_id=self.signer.key_id,
            )
