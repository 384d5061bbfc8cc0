"""Local-list mode for operator switches (Safe Browsing's local-list idea).

The switch keeps the published Bloom filter and the signed rule set locally,
in sync from the rules feed, and answers most calls without a network round
trip: a number that is neither in the filter nor in the rules passes at
once; only a local hit asks the service (with a short deadline), and if the
service cannot answer in time the local rules decide — fail safe, never a
block on a filter hit alone. Answers from the service are kept for
``confirm_cache_seconds`` (default 30 s) while the rules version stays the
same, like Safe Browsing's full-hash cache: spam numbers call many people,
so the same hit is asked about again and again.

The feed also carries the allowlist (ALLOW rules): a number allowlisted on
the platform passes here from the next sync, even inside a range rule. The
filter is downloaded only when its version changes, and verified (SHA-256
and the platform's signature) before it is swapped in. If the feed goes
stale (no fresh signed update within ``max_age``: the platform is
unreachable, or someone replays an old feed), the client keeps answering
from the last verified rules and filter and says so: ``client.stale``.

    client = LocalListClient("numrep.example.net:50051", public_key=PINNED_KEY)
    client.sync()                 # or client.start() for a background refresher
    verdict = client.lookup("+86 170 1234 5678", Channel.VOICE)
    if verdict.action is Action.BLOCK: ...

The decision is :func:`numrep.lookup.decide`, the service's own; only the
sources differ where the switch decides differently (``LOCAL_MISS``,
``SERVICE``, ``SERVICE_CACHED``, ``LOCAL_RULES``).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterable
from datetime import timedelta

import grpc

from numrep.cache import MISSING, TTLCache
from numrep.convert import CHANNEL_TO_PB, verdict_from_pb
from numrep.errors import Unconfirmed
from numrep.filter import EmptyFilter, FilterSnapshot
from numrep.lookup import Confirm, Verdict, VerdictSource, decide
from numrep.models import Channel
from numrep.numbers import normalize
from numrep.protected import ProtectedSet
from numrep.sdk.client import open_channel
from numrep.sdk.rules_mirror import DEFAULT_MAX_AGE, RulesIntegrityError, RulesMirror
from numrep.signing import filter_statement
from numrep.v1 import reputation_pb2, reputation_pb2_grpc, rules_pb2, rules_pb2_grpc

log = logging.getLogger(__name__)

LocalVerdict = Verdict  # the local list answers with the service's Verdict (its own sources: VerdictSource)


class LocalListClient:
    """Answers lookups from a local filter and rule set; calls the service only on a local hit."""

    def __init__(
        self,
        target: str,
        public_key: bytes | Iterable[bytes],
        deadline: float = 0.2,
        region: str = "CN",
        api_key: str | None = None,
        channel: grpc.Channel | None = None,
        confirm_cache_seconds: float = 30.0,
        max_age: timedelta = DEFAULT_MAX_AGE,
    ) -> None:
        self.region = region
        self.deadline = deadline
        self.confirm_cache_seconds = confirm_cache_seconds
        # (subject, channel, rules version asked at) -> the service's verdict, as SERVICE_CACHED
        self._confirmed: TTLCache[tuple[str, Channel, int], Verdict] = TTLCache(confirm_cache_seconds)
        self._confirm_hit: Confirm = self._confirm  # bound once: the hot path allocates no bound method
        self.channel = channel or open_channel(target, api_key)
        self.rules = rules_pb2_grpc.RulesServiceStub(self.channel)
        self.reputation = reputation_pb2_grpc.ReputationServiceStub(self.channel)
        self.mirror = RulesMirror(self.rules, public_key, max_age=max_age)
        self.protected = ProtectedSet(region=region)  # built-in, and the feed's allowlist (replaced on each sync)
        self._allowlist_from = self.mirror.index
        self._filter: FilterSnapshot | EmptyFilter = EmptyFilter()
        self._filter_epoch = 0
        self.filter_downloads = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.service_calls = 0

    # ---- keeping in sync ------------------------------------------------------
    @property
    def stale(self) -> bool:
        """True when the feed has not been renewed within ``max_age``: answers come from the last verified state."""
        return self.mirror.stale

    def sync(self) -> int:
        """Bring rules, allowlist and filter to the latest published version; returns the rules version."""
        version = self.mirror.sync()
        index = self.mirror.index
        if index is not self._allowlist_from:
            self.protected.replace_allowlist(index.allowed)
            self._allowlist_from = index
        epoch = self.mirror.epoch
        if self._filter.version < version or self._filter_epoch != epoch:
            self._sync_filter(epoch)
        return version

    def _sync_filter(self, epoch: int) -> None:
        """Download the filter if the server has another version than the one held (it sends nothing otherwise)."""
        request = rules_pb2.GetFilterSnapshotRequest(known_epoch=self._filter_epoch, known_version=self._filter.version)
        try:
            chunks = list(self.rules.GetFilterSnapshot(request, timeout=30))
        except grpc.RpcError as exc:
            if exc.code() is grpc.StatusCode.NOT_FOUND:  # none built yet: the rules alone decide meanwhile
                return
            raise
        if not chunks:
            return
        self.filter_downloads += 1
        first = chunks[0]
        data = b"".join(c.data for c in chunks)
        problem = ""
        if (
            any(
                (c.version, c.epoch, c.sha256, c.signature)
                != (first.version, first.epoch, first.sha256, first.signature)
                for c in chunks
            )
            or not chunks[-1].last
        ):
            problem = "its chunks do not belong together"
        elif len(data) != first.size or hashlib.sha256(data).hexdigest() != first.sha256:
            problem = "its data does not match its size and SHA-256"
        elif not self.mirror.keys.verify(
            first.signature,
            filter_statement(first.epoch, first.version, first.count, first.error_rate, first.size, first.sha256),
            first.key_id,
        ):
            problem = "its signature does not verify with a trusted key"
        elif first.epoch != epoch:
            return  # built in another epoch than the rules held: take it once the rules have moved there too
        elif (first.epoch, first.version) <= (self._filter_epoch, self._filter.version):
            problem = f"it is not newer than the filter held (version {self._filter.version})"
        if problem:
            raise RulesIntegrityError(
                f"filter snapshot at version {first.version} refused: {problem}; keeping version {self._filter.version}"
            )
        self._filter = FilterSnapshot.from_bytes(first.version, first.error_rate, data)
        self._filter_epoch = first.epoch

    def start(self, interval: float = 1.0) -> None:
        """Sync now, then keep syncing in a daemon thread."""
        self.sync()

        def run() -> None:
            while not self._stop.wait(interval):
                try:
                    self.sync()
                except grpc.RpcError as exc:  # keep serving from what we hold; try again next round
                    log.warning("rules sync failed", extra={"code": exc.code().name})
                except RulesIntegrityError as exc:  # refused (tampered, replayed, stale): keep the verified state
                    log.warning("rules sync refused", extra={"error": str(exc), "stale": self.stale})

        self._thread = threading.Thread(target=run, name="numrep-local-list", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.channel.close()

    # ---- the hot path ---------------------------------------------------------
    def lookup(self, raw: str, channel: Channel | None = None) -> Verdict:
        """Decide locally when possible; raises InvalidSubject for malformed input (no call made)."""
        return decide(
            normalize(raw, self.region),
            channel,
            self.protected,
            self.mirror.index,
            self._filter,
            self._confirm_hit,
            VerdictSource.LOCAL_MISS,
            VerdictSource.LOCAL_RULES,
        )

    def _confirm(self, subject: str, ch: Channel, version: int) -> Verdict:
        """A local hit: the service's recent answer at this rules version, else ask the service."""
        key = (subject, ch, version)
        cached = self._confirmed.get(key)
        if cached is not MISSING:
            return cached
        self.service_calls += 1
        try:
            r = self.reputation.Lookup(
                reputation_pb2.LookupRequest(subject=subject, channel=CHANNEL_TO_PB[ch]), timeout=self.deadline
            )
        except grpc.RpcError as exc:  # unreachable or too slow: the verified local rules decide
            log.warning("service lookup failed; answering from local rules", extra={"code": exc.code().name})
            raise Unconfirmed(f"the service cannot confirm {subject}: {exc.code().name}") from exc
        verdict = verdict_from_pb(r, subject, ch, VerdictSource.SERVICE)
        self._confirmed.put(key, verdict._replace(source=VerdictSource.SERVICE_CACHED))
        return verdict
