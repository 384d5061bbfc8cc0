"""Per-operator API keys with scopes.

A key is a random token shown once at creation (``nrk_…``); the platform
stores only its keyed hash (HMAC with the reporter-hash key, kept apart from
the data). Each gRPC service needs one scope: ReputationService ``lookup``,
ReportService ``report``, RulesService ``rules``, AdminService ``admin``;
health checking and reflection are open. Clients send the key in the
``x-api-key`` metadata.

The ``holder`` scope lets a number holder (a reseller or operator named in
the registry) handle the complaints routed to it — list, acknowledge,
resolve — and nothing else; such a key is bound to the holder named as its
operator, so it cannot act for another holder.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from numrep.cache import MISSING, TTLCache
from numrep.config import Settings
from numrep.errors import Forbidden, NumrepError, RateLimited, ValidationError
from numrep.models import ApiKey, Scope
from numrep.privacy import keyed_hash
from numrep.ratelimit import TokenBuckets
from numrep.store.base import Store

log = logging.getLogger(__name__)
METADATA_KEY = "x-api-key"
KEY_PREFIX = "nrk_"
MAX_KNOWN_KEYS = 100_000  # keys the store knows, least recently used dropped first
MAX_UNKNOWN_KEYS = 100_000  # digests the store does not know, apart so that they cannot evict the known
MAX_BLOCKED_PEERS = 100_000
SCOPE_BY_SERVICE = {
    "numrep.v1.ReputationService": Scope.LOOKUP,
    "numrep.v1.ReportService": Scope.REPORT,
    "numrep.v1.RulesService": Scope.RULES,
    "numrep.v1.AdminService": Scope.ADMIN,
    "numrep.v1.CallRecordService": Scope.RECORDS,
}


COMPLAINT_METHODS = frozenset(
    {
        "/numrep.v1.AdminService/ListComplaints",
        "/numrep.v1.AdminService/AcknowledgeComplaint",
        "/numrep.v1.AdminService/ResolveComplaint",
    }
)
HONEYPOT_METHODS = frozenset(
    {
        "/numrep.v1.AdminService/AddHoneypot",
        "/numrep.v1.AdminService/RemoveHoneypot",
        "/numrep.v1.AdminService/ListHoneypots",
    }
)


class Unauthenticated(NumrepError):
    """No key, or a key that is unknown or revoked."""

    status = "UNAUTHENTICATED"


def api_key_in(metadata: Iterable[tuple[str, str | bytes]] | None) -> str | None:
    """The raw API key a call sent in its metadata, if any."""
    raw = next((v for k, v in (metadata or ()) if k == METADATA_KEY), None)
    return raw if isinstance(raw, str) else None


def peer_label(peer: str | None) -> str:
    """Who sent a call without a key: ``peer:`` and its address without the port (``peer:ipv4:10.0.0.7``)."""
    peer = peer or "unknown"
    return "peer:" + (peer.rsplit(":", 1)[0] if peer.startswith(("ipv4:", "ipv6:")) else peer)


def required_scope(method: str) -> Scope | None:
    """The scope a full method name (``/pkg.Service/Method``) needs; None when open."""
    service = method.lstrip("/").split("/", 1)[0]
    return SCOPE_BY_SERVICE.get(service)


def allowed_scopes(method: str) -> frozenset[Scope]:
    """Scopes any one of which lets a key call ``method`` (empty when open)."""
    scope = required_scope(method)
    if scope is None:
        return frozenset()
    if method in COMPLAINT_METHODS:
        return frozenset({Scope.ADMIN, Scope.HOLDER})
    if method in HONEYPOT_METHODS:
        return frozenset({Scope.ADMIN, Scope.HONEYPOT})
    return frozenset({scope})


def holder_binding(key: ApiKey | None) -> str | None:
    """The only holder a key may act for; None when it may act for any (admin, or no auth)."""
    if key is None or Scope.ADMIN in key.scopes:
        return None
    return key.operator if Scope.HOLDER in key.scopes else ""


def key_hash(settings: Settings, raw: str) -> str:
    return keyed_hash(settings.hmac_key, raw)


def create_key(store: Store, settings: Settings, operator: str, scopes: Iterable[Scope]) -> tuple[str, ApiKey]:
    """Make a key; returns the raw token (show it once) and what is stored."""
    operator = operator.strip()
    if not operator:
        raise ValidationError("operator: required")
    wanted = frozenset(scopes)
    if not wanted:
        raise ValidationError("scopes: at least one of " + ", ".join(s.value for s in Scope))
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(key_hash(settings, raw), operator, wanted, datetime.now(UTC))
    store.put_api_key(key)
    return raw, key


def revoke(store: Store, hash_prefix: str) -> ApiKey:
    """Revoke the one key whose stored hash starts with ``hash_prefix`` (as `numrep keys list` shows it)."""
    matches = [k for k in store.list_api_keys() if k.key_hash.startswith(hash_prefix) and len(hash_prefix) >= 8]
    if len(matches) != 1:
        raise ValidationError(
            f"key {hash_prefix!r}: matches {len(matches)} keys; give at least 8 characters of one hash"
        )
    key = matches[0]
    revoked = ApiKey(key.key_hash, key.operator, key.scopes, key.created_at, revoked=True)
    store.put_api_key(revoked)
    return revoked


class FailedAuthentications:
    """A limit on failed authentications per peer (token buckets): beyond it, calls are refused unread.

    Each unknown key costs a store read; a peer guessing keys gets ``burst``
    failures at once and ``per_minute`` after that, then RESOURCE_EXHAUSTED
    until its bucket refills — without a store read.
    """

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._buckets = TokenBuckets(per_minute / 60.0, burst, "failed authentications", clock)
        self._blocked: TTLCache[str, float] = TTLCache(3600.0, max_size=MAX_BLOCKED_PEERS, clock=clock)
        self._clock = clock
        self.per_minute = per_minute
        self.burst = burst

    def check(self, peer: str) -> None:
        """Raise RateLimited if ``peer`` is still refused."""
        until = self._blocked.get(peer)
        if until is not MISSING and until > self._clock():
            raise self._refusal(until - self._clock())

    def failed(self, peer: str) -> None:
        """Count a failure of ``peer``; raise RateLimited when it has used up its allowance."""
        try:
            self._buckets.take(peer)
        except RateLimited as exc:
            self._blocked.put(peer, self._clock() + exc.retry_after)
            raise self._refusal(exc.retry_after) from None

    def _refusal(self, wait: float) -> RateLimited:
        return RateLimited(
            f"too many failed authentications from this address (at most {self.burst} at once and "
            f"{self.per_minute:g} a minute); retry in {wait:.1f} s",
            retry_after=wait,
        )


class Authenticator:
    """Checks keys against the store, caching what it learns.

    - A key the store knows (valid or revoked) is re-read after
      ``auth_cache_seconds``; while the store cannot be read, the last known
      answer stands — keys keep working and revocations keep holding through
      an outage, so the fail-safe lookup path stays open to operators. Up to
      ``MAX_KNOWN_KEYS`` are held, least recently used dropped first.
    - A digest the store does not know is remembered as unknown for as long,
      in a bounded cache of its own, so repeated or random keys cannot evict
      the known ones and cost one store read each at most once per period.
    - With ``peer`` given (the auth interceptor), failures are limited per
      peer (``FailedAuthentications``).
    """

    def __init__(self, store: Store, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.settings = settings
        self._clock = clock
        self._known: OrderedDict[str, tuple[float, ApiKey]] = OrderedDict()  # digest -> (read at, key); LRU order
        self._lock = threading.Lock()
        self._unknown: TTLCache[str, bool] = TTLCache(
            settings.auth_cache_seconds, max_size=MAX_UNKNOWN_KEYS, clock=clock
        )
        self.failures = FailedAuthentications(settings.auth_failures_per_minute, settings.auth_failure_burst, clock)

    def _remember(self, digest: str, key: ApiKey) -> None:
        with self._lock:
            self._known[digest] = (self._clock(), key)
            self._known.move_to_end(digest)
            while len(self._known) > MAX_KNOWN_KEYS:
                self._known.popitem(last=False)

    def _lookup(self, digest: str) -> ApiKey | None:
        known = self._known.get(digest)
        if known is not None and self._clock() - known[0] < self.settings.auth_cache_seconds:
            with self._lock:
                if digest in self._known:
                    self._known.move_to_end(digest)
            return known[1]
        if known is None and self._unknown.get(digest) is not MISSING:
            return None
        try:
            key = self.store.get_api_key(digest)
        except Exception as exc:  # any backend failure: the last known answer stands
            if known is None:
                raise
            log.warning("store unreachable: serving the last known API key", extra={"error": type(exc).__name__})
            return known[1]
        if key is None:
            with self._lock:
                self._known.pop(digest, None)
            self._unknown.put(digest, True)
        else:
            self._remember(digest, key)
        return key

    def _known_valid(self, digest: str | None) -> bool:
        known = self._known.get(digest) if digest else None
        return known is not None and not known[1].revoked

    def _valid(self, digest: str | None) -> ApiKey | None:
        key = self._lookup(digest) if digest else None
        return None if key is None or key.revoked else key

    def key_of(self, raw: str | None) -> ApiKey | None:
        """The valid, unrevoked key for ``raw``, or None."""
        return self._valid(key_hash(self.settings, raw.strip()) if raw else None)

    def operator_of(self, raw: str | None) -> str | None:
        """The operator of a valid, unrevoked key, or None."""
        key = self.key_of(raw)
        return None if key is None else key.operator

    def check(self, raw: str | None, method: str, peer: str | None = None) -> ApiKey | None:
        """The caller's key if it may call ``method``; raises Unauthenticated or Forbidden.

        With ``peer`` (``peer_label`` of the caller), a peer beyond its failed
        authentications is refused with RateLimited before its key is read.
        """
        allowed = allowed_scopes(method)
        if not allowed:
            return None
        digest = key_hash(self.settings, raw.strip()) if raw else None
        if peer is not None and not self._known_valid(digest):
            self.failures.check(peer)  # a refused peer costs no store read; its known keys still work
        key = self._valid(digest)
        if key is None:
            if peer is not None:
                self.failures.failed(peer)
            if not raw:
                raise Unauthenticated(f"missing API key: send it in the {METADATA_KEY} metadata")
            raise Unauthenticated("unknown or revoked API key")
        if not allowed & key.scopes:
            needed = " or ".join(repr(s.value) for s in sorted(allowed, key=lambda s: s.value))
            raise Forbidden(f"the key of {key.operator} lacks the {needed} scope needed for {method}")
        return key
