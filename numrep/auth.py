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

import secrets
from collections.abc import Iterable
from datetime import datetime, timezone

from numrep.cache import MISSING, TTLCache
from numrep.config import Settings
from numrep.errors import Forbidden, NumrepError, ValidationError
from numrep.models import ApiKey, Scope
from numrep.privacy import keyed_hash
from numrep.store.base import Store

METADATA_KEY = "x-api-key"
KEY_PREFIX = "nrk_"
SCOPE_BY_SERVICE = {
    "numrep.v1.ReputationService": Scope.LOOKUP,
    "numrep.v1.ReportService": Scope.REPORT,
    "numrep.v1.RulesService": Scope.RULES,
    "numrep.v1.AdminService": Scope.ADMIN,
    "numrep.v1.CallRecordService": Scope.RECORDS,
}


COMPLAINT_METHODS = frozenset({
    "/numrep.v1.AdminService/ListComplaints",
    "/numrep.v1.AdminService/AcknowledgeComplaint",
    "/numrep.v1.AdminService/ResolveComplaint",
})
HONEYPOT_METHODS = frozenset({
    "/numrep.v1.AdminService/AddHoneypot",
    "/numrep.v1.AdminService/RemoveHoneypot",
    "/numrep.v1.AdminService/ListHoneypots",
})


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
    key = ApiKey(key_hash(settings, raw), operator, wanted, datetime.now(timezone.utc))
    store.put_api_key(key)
    return raw, key


def revoke(store: Store, hash_prefix: str) -> ApiKey:
    """Revoke the one key whose stored hash starts with ``hash_prefix`` (as `numrep keys list` shows it)."""
    matches = [k for k in store.list_api_keys() if k.key_hash.startswith(hash_prefix) and len(hash_prefix) >= 8]
    if len(matches) != 1:
        raise ValidationError(f"key {hash_prefix!r}: matches {len(matches)} keys; give at least 8 characters of one hash")
    key = matches[0]
    revoked = ApiKey(key.key_hash, key.operator, key.scopes, key.created_at, revoked=True)
    store.put_api_key(revoked)
    return revoked


class Authenticator:
    """Checks keys against the store, caching answers (and revocations) for ``auth_cache_seconds``."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._cache: TTLCache[str, ApiKey | None] = TTLCache(settings.auth_cache_seconds)

    def _lookup(self, digest: str) -> ApiKey | None:
        key = self._cache.get(digest)
        if key is MISSING:
            key = self.store.get_api_key(digest)
            self._cache.put(digest, key)
        return key

    def key_of(self, raw: str | None) -> ApiKey | None:
        """The valid, unrevoked key for ``raw``, or None."""
        if not raw:
            return None
        key = self._lookup(key_hash(self.settings, raw.strip()))
        return None if key is None or key.revoked else key

    def operator_of(self, raw: str | None) -> str | None:
        """The operator of a valid, unrevoked key, or None."""
        key = self.key_of(raw)
        return None if key is None else key.operator

    def check(self, raw: str | None, method: str) -> ApiKey | None:
        """The caller's key if it may call ``method``; raises Unauthenticated or Forbidden."""
        allowed = allowed_scopes(method)
        if not allowed:
            return None
        if not raw:
            raise Unauthenticated(f"missing API key: send it in the {METADATA_KEY} metadata")
        key = self.key_of(raw)
        if key is None:
            raise Unauthenticated("unknown or revoked API key")
        if not allowed & key.scopes:
            needed = " or ".join(repr(s.value) for s in sorted(allowed, key=lambda s: s.value))
            raise Forbidden(f"the key of {key.operator} lacks the {needed} scope needed for {method}")
        return key
