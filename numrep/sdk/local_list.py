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

    client = LocalListClient("numrep.example.net:50051", public_key=PINNED_KEY)
    client.sync()                 # or client.start() for a background refresher
    verdict = client.lookup("+86 170 1234 5678", Channel.VOICE)
    if verdict.action is Action.BLOCK: ...
"""

from __future__ import annotations

import logging
import threading
import time
from typing import NamedTuple

import grpc

from numrep.sdk.client import open_channel
from numrep.convert import ACTION_FROM_PB, CHANNEL_TO_PB
from numrep.filter import EmptyFilter, FilterSnapshot
from numrep.models import Action, Channel
from numrep.numbers import SMS, normalize
from numrep.protected import ProtectedSet
from numrep.sdk.rules_mirror import RulesMirror
from numrep.v1 import reputation_pb2, reputation_pb2_grpc, rules_pb2, rules_pb2_grpc

log = logging.getLogger(__name__)


class LocalVerdict(NamedTuple):
    """A local-list answer and where it came from."""

    subject: str
    channel: Channel
    action: Action
    source: str  # "local-miss", "protected", "range-rule", "service", "service-cached", "local-rules"
    reasons: tuple[str, ...] = ()


class LocalListClient:
    """Answers lookups from a local filter and rule set; calls the service only on a local hit."""

    def __init__(self, target: str, public_key: bytes, deadline: float = 0.2, region: str = "CN",
                 api_key: str | None = None, channel: grpc.Channel | None = None,
                 confirm_cache_seconds: float = 30.0) -> None:
        self.region = region
        self.deadline = deadline
        self.confirm_cache_seconds = confirm_cache_seconds
        # (subject, channel) -> (expires at, rules version asked at, the service's verdict)
        self._confirmed: dict[tuple[str, Channel], tuple[float, int, LocalVerdict]] = {}
        self.channel = channel or open_channel(target, api_key)
        self.rules = rules_pb2_grpc.RulesServiceStub(self.channel)
        self.reputation = reputation_pb2_grpc.ReputationServiceStub(self.channel)
        self.mirror = RulesMirror(self.rules, public_key)
        self.protected = ProtectedSet(region=region)
        self._filter: FilterSnapshot | EmptyFilter = EmptyFilter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.service_calls = 0

    # ---- keeping in sync ------------------------------------------------------
    def sync(self) -> int:
        """Bring rules and filter to the latest published version; returns it."""
        version = self.mirror.sync()
        if self._filter.version < version:
            chunks = list(self.rules.GetFilterSnapshot(rules_pb2.GetFilterSnapshotRequest(), timeout=30))
            if chunks:
                data = b"".join(c.data for c in chunks)
                self._filter = FilterSnapshot.from_bytes(chunks[0].version, chunks[0].error_rate, data)
        return version

    def start(self, interval: float = 1.0) -> None:
        """Sync now, then keep syncing in a daemon thread."""
        self.sync()

        def run() -> None:
            while not self._stop.wait(interval):
                try:
                    self.sync()
                except grpc.RpcError as exc:  # keep serving from what we hold; try again next round
                    log.warning("rules sync failed", extra={"code": exc.code().name})

        self._thread = threading.Thread(target=run, name="numrep-local-list", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.channel.close()

    # ---- the hot path ---------------------------------------------------------
    def lookup(self, raw: str, channel: Channel | None = None) -> LocalVerdict:
        """Decide locally when possible; raises InvalidSubject for malformed input (no call made)."""
        subject = normalize(raw, self.region)
        ch = channel or (Channel.SMS if subject.startswith(SMS) else Channel.VOICE)
        if subject in self.protected:
            return LocalVerdict(subject, ch, Action.ALLOW, "protected")
        index = self.mirror.index
        ranged = index.range_match(subject, ch) if index.range_lengths else None
        if ranged is not None:
            return LocalVerdict(subject, ch, ranged.action, "range-rule", (ranged.reason,))
        if subject not in self._filter and subject not in index.subjects:  # the common case: no allocation
            return LocalVerdict(subject, ch, Action.ALLOW, "local-miss")
        exact = index.exact(subject, ch)
        now = time.monotonic()
        cached = self._confirmed.get((subject, ch))
        if cached is not None and cached[0] > now and cached[1] == index.version:
            return cached[2]
        self.service_calls += 1
        try:
            r = self.reputation.Lookup(reputation_pb2.LookupRequest(subject=subject, channel=CHANNEL_TO_PB[ch]),
                                       timeout=self.deadline)
            verdict = LocalVerdict(subject, ch, ACTION_FROM_PB[r.action], "service", tuple(r.reasons))
            if self.confirm_cache_seconds > 0:
                if len(self._confirmed) >= 100_000:
                    self._confirmed = {}
                self._confirmed[(subject, ch)] = (now + self.confirm_cache_seconds, index.version,
                                                  LocalVerdict(subject, ch, verdict.action, "service-cached",
                                                               verdict.reasons))
            return verdict
        except grpc.RpcError as exc:  # unreachable or too slow: the verified local rules decide
            log.warning("service lookup failed; answering from local rules", extra={"code": exc.code().name})
            if exact is None:
                return LocalVerdict(subject, ch, Action.ALLOW, "local-rules")
            return LocalVerdict(subject, ch, exact.action, "local-rules", (exact.reason,))
