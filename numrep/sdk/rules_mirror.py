"""An operator's local copy of the blocking rules, kept in sync and verified.

    mirror = RulesMirror(RulesServiceStub(channel), public_key=PINNED_KEY)
    mirror.sync()                      # poll: GetRules(since=held version)
    mirror.watch(stop_event)           # or stream: WatchRules
    mirror.match("tel:+8617012345678", Channel.VOICE)   # -> Rule | None

Every update is checked before it replaces what the mirror holds: a delta
must start at the held version, the rule set after applying it must hash to
the update's SHA-256 checksum, and the checksum must carry the platform's
Ed25519 signature. On a gap or a mismatch the mirror resynchronises from a
full snapshot; if the snapshot fails verification too, it raises
RulesIntegrityError and keeps serving the last verified set.
"""

from __future__ import annotations

import logging
import threading

import grpc

from numrep.convert import rule_from_pb
from numrep.models import Channel, Rule
from numrep.rules import EMPTY_CHECKSUM, RuleIndex, apply_delta, canonical_checksum
from numrep.signing import verify
from numrep.v1 import rules_pb2, rules_pb2_grpc

log = logging.getLogger(__name__)


class RulesIntegrityError(Exception):
    """A full snapshot failed its checksum or signature: the feed cannot be trusted."""


class RulesMirror:
    """A verified local rule set. Reads (``match``) are lock-free; updates swap atomically."""

    def __init__(self, stub: rules_pb2_grpc.RulesServiceStub, public_key: bytes, timeout: float = 10.0,
                 page_size: int = 0) -> None:
        self.stub = stub
        self.page_size = page_size  # rules per page of a large snapshot (0: the server's default)
        self.public_key = public_key
        self.timeout = timeout
        self._held = RuleIndex.build(0, EMPTY_CHECKSUM, {})
        self._lock = threading.Lock()
        self.resyncs = 0
        self.rejected = 0

    # ---- state ----------------------------------------------------------
    @property
    def version(self) -> int:
        return self._held.version

    @property
    def checksum(self) -> str:
        return self._held.checksum

    @property
    def index(self) -> RuleIndex:
        """The verified rule set currently held (immutable; replaced whole on each update)."""
        return self._held

    @property
    def rules(self) -> dict[str, Rule]:
        return dict(self._held.rules)

    def match(self, subject: str, channel: Channel) -> Rule | None:
        """The rule for a normalised subject: exact (or port) first, then the longest range."""
        held = self._held
        return held.exact(subject, channel) or held.range_match(subject, channel)

    # ---- updates ----------------------------------------------------------
    def sync(self) -> int:
        """Poll once; returns the version held afterwards."""
        with self._lock:
            self._apply(self._get(self._held.version))
        return self._held.version

    def _get(self, since: int, attempts: int = 3) -> rules_pb2.RulesUpdate:
        """GetRules, with the pages of a large snapshot fetched and joined into one update."""
        for attempt in range(attempts):
            update = self.stub.GetRules(rules_pb2.GetRulesRequest(since_version=since, page_size=self.page_size),
                                        timeout=self.timeout)
            try:
                while update.next_page_token:
                    page = self.stub.GetRules(
                        rules_pb2.GetRulesRequest(page_token=update.next_page_token, page_size=self.page_size),
                        timeout=self.timeout,
                    )
                    update = _joined(update, page)
                return update
            except grpc.RpcError as exc:  # the rules moved on while paging: start again
                if exc.code() is not grpc.StatusCode.ABORTED or attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def watch(self, stop: threading.Event) -> None:
        """Follow WatchRules until ``stop`` is set; returns quietly then.

        A stream that ends or fails for another reason raises, so the caller
        can reconnect (and resume from the held version).
        """
        stream = self.stub.WatchRules(rules_pb2.GetRulesRequest(since_version=self._held.version, page_size=self.page_size))
        canceller = threading.Thread(target=lambda: (stop.wait(), stream.cancel()), daemon=True)
        canceller.start()
        try:
            pending: rules_pb2.RulesUpdate | None = None
            for update in stream:
                if pending is not None:
                    update = _joined(pending, update)
                if update.next_page_token:  # more pages follow on the stream
                    pending = update
                    continue
                pending = None
                with self._lock:
                    self._apply(update)
        except grpc.RpcError as exc:
            if not (stop.is_set() and exc.code() is grpc.StatusCode.CANCELLED):
                raise
        finally:
            stop.set()  # releases the canceller if the stream ended first

    def _verified(self, update: rules_pb2.RulesUpdate, base: RuleIndex) -> RuleIndex | None:
        """The state after ``update`` if it verifies against ``base``, else None."""
        if update.full_snapshot:
            rules = {r.rule_id: r for r in (rule_from_pb(m) for m in update.added)}
        elif update.from_version != base.version:
            log.warning("rules gap", extra={"held": base.version, "from_version": update.from_version})
            return None
        else:
            rules = dict(base.rules)
            apply_delta(rules, (rule_from_pb(m) for m in update.added), update.removed)
        if canonical_checksum(rules.values()) != update.checksum:
            log.warning("rules checksum mismatch", extra={"version": update.version})
            return None
        if not verify(self.public_key, update.version, update.checksum, update.signature):
            log.warning("rules signature invalid", extra={"version": update.version, "key_id": update.key_id})
            return None
        return RuleIndex.build(update.version, update.checksum, rules)

    def _apply(self, update: rules_pb2.RulesUpdate) -> None:
        new = self._verified(update, self._held)
        if new is None:
            self.rejected += 1
            new = self._resync()
        self._held = new

    def _resync(self) -> RuleIndex:
        self.resyncs += 1
        snapshot = self._get(0)
        new = self._verified(snapshot, self._held)
        if new is None or not snapshot.full_snapshot:
            raise RulesIntegrityError(
                f"full snapshot at version {snapshot.version} failed verification; keeping version {self._held.version}"
            )
        return new


def _joined(first: rules_pb2.RulesUpdate, page: rules_pb2.RulesUpdate) -> rules_pb2.RulesUpdate:
    """``first`` with the next page of the same snapshot appended (verification comes after the last page)."""
    if not (first.full_snapshot and page.full_snapshot and page.version == first.version
            and page.checksum == first.checksum):
        raise RulesIntegrityError(f"a page of version {page.version} does not continue the snapshot of {first.version}")
    first.added.extend(page.added)
    first.next_page_token = page.next_page_token
    return first
