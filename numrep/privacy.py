"""Keyed hashing of personal identifiers (reporter ids, ID numbers).

Raw identities never reach storage, logs or error messages: they are turned
into an HMAC-SHA256 under a key kept apart from the data as soon as they
enter the platform. The ``h1:`` prefix versions the scheme.
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "h1:"


def keyed_hash(key: bytes, identity: str) -> str:
    """HMAC-SHA256 of ``identity`` (NFC-stripped text) under ``key``, hex, prefixed."""
    digest = hmac.new(key, identity.strip().encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + digest
