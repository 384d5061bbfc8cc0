"""An operator's local copy of the blocking rules, kept in sync and verified.

    mirror = RulesMirror(RulesServiceStub(channel), public_key=PINNED_KEY)   # or [CURRENT_KEY, NEXT_KEY]
    mirror.sync()                      # poll: GetRules(since=held version)
    mirror.watch(stop_event)           # or stream: WatchRules
    mirror.match("tel:+8617012345678", Channel.VOICE)   # -> Rule | None
    mirror.stale                       # True once the feed is older than max_age

Every update is checked before it replaces what the mirror holds:

* its Ed25519 signature, by one of the trusted keys (several while the
  platform rotates its key), over (epoch, version, checksum, issued_at);
* the rule set after applying it must hash to the update's SHA-256 checksum
  (which covers kind, subject, channel, action, category and expiry of every
  rule; reasons are unsigned display text);
* it must not go back: within an epoch the version may not fall, an older
  epoch is refused, and a newer epoch (a platform restored from a backup) is
  taken only as a full snapshot, which then replaces everything held;
* it must be fresh: an update issued more than ``max_age`` ago is refused
  (a replayed or frozen feed).

On a gap or a mismatch the mirror resynchronises from a full snapshot; if the
snapshot fails too, it raises (RulesIntegrityError, or its kinds
RulesRollbackError and RulesStaleError) and keeps serving the last verified
set. When no fresh update has verified for ``max_age`` the mirror keeps
answering from that last good set and reports ``stale`` — what a switch does
then (alarm, fall back to the service) is the operator's policy.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import grpc

from numrep.convert import rule_from_pb
from numrep.models import Channel, Rule
from numrep.rules import EMPTY_CHECKSUM, RuleIndex, apply_delta, canonical_checksum
from numrep.signing import TrustedKeys, statement
from numrep.v1 import rules_pb2, rules_pb2_grpc

log = logging.getLogger(__name__)

DEFAULT_MAX_AGE = timedelta(hours=1)


class RulesIntegrityError(Exception):
    """A full snapshot failed verification: the feed cannot be trusted (the verified set is kept)."""


class RulesRollbackError(RulesIntegrityError):
    """The feed offered only an older (epoch, version) than the one held: refused."""


class RulesStaleError(RulesIntegrityError):
    """The feed offered only updates issued longer ago than the maximum age: refused."""


class RulesMirror:
    """A verified local rule set. Reads (``match``) are lock-free; updates swap atomically."""

    def __init__(
        self,
        stub: rules_pb2_grpc.RulesServiceStub,
        public_key: bytes | Iterable[bytes],
        timeout: float = 10.0,
        page_size: int = 0,
        max_age: timedelta = DEFAULT_MAX_AGE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.stub = stub
        self.page_size = page_size  # rules per page of a large snapshot (0: the server's default)
        self.keys = TrustedKeys(public_key)
        self.timeout = timeout
        self.max_age = max_age
        self.clock = clock
        self._held = RuleIndex.build(0, EMPTY_CHECKSUM, {})
        self._epoch = 0
        self._issued_at: datetime | None = None  # of the newest verified update
        self._lock = threading.Lock()
        self.resyncs = 0
        self.rejected = 0

    # ---- state ----------------------------------------------------------
    @property
    def version(self) -> int:
        return self._held.version

    @property
    def epoch(self) -> int:
        return self._epoch

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

    @property
    def issued_at(self) -> datetime | None:
        """When the newest verified update was issued (None before the first)."""
        return self._issued_at

    @property
    def stale(self) -> bool:
        """True when no update issued within ``max_age`` has verified: answers come from the last good set."""
        return self._issued_at is None or self.clock() - self._issued_at > self.max_age

    def match(self, subject: str, channel: Channel) -> Rule | None:
        """The live rule for a normalised subject: exact (or port) first, then the longest range."""
        held = self._held
        now = self.clock()
        return held.exact(subject, channel, now) or held.range_match(subject, channel, now)

    # ---- updates ----------------------------------------------------------
    def sync(self) -> int:
        """Poll once; returns the version held afterwards."""
        with self._lock:
            self._apply(self._get(self._held.version))
        return self._held.version

    def _get(self, since: int, attempts: int = 3) -> rules_pb2.RulesUpdate:
        """GetRules, with the pages of a large snapshot fetched and joined into one update."""
        for attempt in range(attempts):
            update = self.stub.GetRules(
                rules_pb2.GetRulesRequest(since_version=since, page_size=self.page_size), timeout=self.timeout
            )
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
        stream = self.stub.WatchRules(
            rules_pb2.GetRulesRequest(since_version=self._held.version, page_size=self.page_size)
        )
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

    def _refusal(self, update: rules_pb2.RulesUpdate) -> RulesIntegrityError | None:
        """Why ``update`` may not replace what is held, if it may not: signature, order, freshness."""
        issued = update.issued_at
        message = statement(update.epoch, update.version, update.checksum, issued.seconds, issued.nanos)
        if not self.keys.verify(update.signature, message, update.key_id):
            return RulesIntegrityError(
                f"the signature of version {update.version} (key {update.key_id or '?'}) "
                "does not verify with a trusted key"
            )
        if (update.epoch, update.version) < (self._epoch, self._held.version):
            return RulesRollbackError(
                f"refused epoch {update.epoch} version {update.version}: older than the "
                f"epoch {self._epoch} version {self._held.version} held"
            )
        issued_at = datetime.fromtimestamp(issued.seconds, UTC) + timedelta(microseconds=issued.nanos // 1000)
        if self.clock() - issued_at > self.max_age:
            return RulesStaleError(
                f"refused version {update.version}: issued at {issued_at:%Y-%m-%d %H:%M:%S}Z, "
                f"older than the maximum age of {self.max_age}"
            )
        return None

    def _verified(self, update: rules_pb2.RulesUpdate, base: RuleIndex) -> RuleIndex | RulesIntegrityError:
        """The state after ``update`` if it verifies against ``base``, else why not."""
        refusal = self._refusal(update)
        if refusal is not None:
            log.warning(
                "rules update refused",
                extra={"version": update.version, "epoch": update.epoch, "reason": type(refusal).__name__},
            )
            return refusal
        new_epoch = update.epoch != self._epoch
        if update.full_snapshot:
            rules = {r.rule_id: r for r in (rule_from_pb(m) for m in update.added)}
        elif new_epoch or update.from_version != base.version:
            log.warning("rules gap", extra={"held": base.version, "from_version": update.from_version})
            return RulesIntegrityError(
                f"a delta from version {update.from_version} does not apply to "
                f"epoch {self._epoch} version {base.version}"
            )
        elif update.version == base.version and not update.added and not update.removed:
            if update.checksum != base.checksum:
                return RulesIntegrityError(f"version {update.version} carries another checksum than the one held")
            return base  # nothing new: the signed issue time renews freshness
        else:
            rules = dict(base.rules)
            apply_delta(rules, (rule_from_pb(m) for m in update.added), update.removed)
        if canonical_checksum(rules.values()) != update.checksum:
            log.warning("rules checksum mismatch", extra={"version": update.version})
            return RulesIntegrityError(f"the rule set at version {update.version} does not match its checksum")
        return RuleIndex.build(update.version, update.checksum, rules)

    def _accept(self, update: rules_pb2.RulesUpdate, new: RuleIndex) -> None:
        issued = datetime.fromtimestamp(update.issued_at.seconds, UTC) + timedelta(
            microseconds=update.issued_at.nanos // 1000
        )
        if update.epoch != self._epoch:
            if self._epoch:
                log.warning(
                    "rules feed epoch changed: took the full snapshot",
                    extra={"epoch": update.epoch, "previous_epoch": self._epoch, "version": update.version},
                )
            self._issued_at = issued
        elif self._issued_at is None or issued > self._issued_at:
            self._issued_at = issued
        self._held, self._epoch = new, update.epoch

    def _apply(self, update: rules_pb2.RulesUpdate) -> None:
        new = self._verified(update, self._held)
        if isinstance(new, RulesIntegrityError):
            self.rejected += 1
            update, new = self._resync()
        self._accept(update, new)

    def _resync(self) -> tuple[rules_pb2.RulesUpdate, RuleIndex]:
        self.resyncs += 1
        snapshot = self._get(0)
        new = self._verified(snapshot, self._held)
        if isinstance(new, RulesIntegrityError) or not snapshot.full_snapshot:
            why = new if isinstance(new, RulesIntegrityError) else RulesIntegrityError("not a full snapshot")
            raise type(why)(
                f"full snapshot at version {snapshot.version} failed verification; "
                f"keeping version {self._held.version}: {why}"
            )
        return snapshot, new


def _joined(first: rules_pb2.RulesUpdate, page: rules_pb2.RulesUpdate) -> rules_pb2.RulesUpdate:
    """``first`` with the next page of the same snapshot appended (verification comes after the last page)."""
    if not (
        first.full_snapshot
        and page.full_snapshot
        and page.version == first.version
        and page.checksum == first.checksum
        and page.epoch == first.epoch
    ):
        raise RulesIntegrityError(f"a page of version {page.version} does not continue the snapshot of {first.version}")
    first.added.extend(page.added)
    first.next_page_token = page.next_page_token
    # each page is signed with its own issue time: the assembled update carries the last page's
    first.issued_at.CopyFrom(page.issued_at)
    first.signature = page.signature
    first.key_id = page.key_id
    return first
