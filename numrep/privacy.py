"""Keyed hashing of personal identifiers (reporter ids, subscriber numbers, ID numbers).

Raw identities never reach storage, logs or error messages: they are turned
into an HMAC-SHA256 under a key kept apart from the data as soon as they
enter the platform. The prefix versions the scheme:

* ``h1:`` HMAC-SHA256 — account ids and API keys;
* ``h2:`` keyed BLAKE2b-256 — subscriber numbers (reporters' own numbers and
  callees in call records), which arrive by the million with call records:
  BLAKE2b's keyed mode is a PRF like HMAC, at a sixth of its cost here.
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "h1:"
SUBSCRIBER_PREFIX = "h2:"


def keyed_hash(key: bytes, identity: str) -> str:
    """HMAC-SHA256 of ``identity`` (NFC-stripped text) under ``key``, hex, prefixed."""
    digest = hmac.new(key, identity.strip().encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + digest


def subscriber_hash(key: bytes, number: str) -> str:
    """Keyed BLAKE2b-256 of a normalised subscriber number (``key``: at most 64 bytes), hex, prefixed."""
    return SUBSCRIBER_PREFIX + hashlib.blake2b(number.encode("utf-8"), key=key[:64], digest_size=32).hexdigest()
