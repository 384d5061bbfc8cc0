"""Ed25519 signatures of the rules feed: rule-set versions and filter snapshots.

What is signed (the statements below, as UTF-8):

* a rules update: ``numrep.rules.v2|<epoch>|<version>|<checksum>|<issued_at>``
  — the checksum covers every rule as a client acts on it (see
  ``numrep.rules``), so one signature authenticates a delta and a full
  snapshot alike; the epoch orders a restored feed after the one it replaces;
  ``issued_at`` (``<seconds>.<nanos>``) lets a client see a frozen feed;
* a filter snapshot: ``numrep.filter.v2|<epoch>|<version>|<count>|<error_rate>|<size>|<sha256>``.

Rule reasons and issue times are display text and are not signed.

Key rotation. Clients trust a *set* of public keys (pinned out of band), each
named by its key id. To rotate: publish the next public key to operators
ahead of time; they add it to their trusted set (both keys are then
accepted); switch the server's ``NUMREP_RULES_SIGNING_KEY_FILE`` to the new
private key; once every operator has seen updates signed by the new key (at
least the SDK's maximum feed age later), operators drop the old key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from numrep.config import Settings, create_secret_file
from numrep.errors import ConfigError

RULES_DOMAIN = "numrep.rules.v2"
FILTER_DOMAIN = "numrep.filter.v2"


def statement(epoch: int, version: int, checksum: str, issued_seconds: int, issued_nanos: int) -> bytes:
    """The bytes that are signed for a rule set at (``epoch``, ``version``), issued at the given time."""
    return f"{RULES_DOMAIN}|{epoch}|{version}|{checksum}|{issued_seconds}.{issued_nanos:09d}".encode()


def filter_statement(epoch: int, version: int, count: int, error_rate: float, size: int, sha256: str) -> bytes:
    """The bytes that are signed for a serialized filter snapshot."""
    return f"{FILTER_DOMAIN}|{epoch}|{version}|{count}|{error_rate!r}|{size}|{sha256}".encode()


def raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey | bytes) -> str:
    """The first 16 hex digits of SHA-256 over the raw public key."""
    raw = public if isinstance(public, bytes) else raw_public(public)
    return hashlib.sha256(raw).hexdigest()[:16]


class Signer:
    """Signs rule-set versions and filter snapshots with the platform's private key."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = private.public_key()
        self.key_id = key_id(self.public)

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    @lru_cache(maxsize=64)  # noqa: B019 -- one Signer per process, for its life
    def sign_filter(self, epoch: int, version: int, count: int, error_rate: float, size: int, sha256: str) -> bytes:
        return self._private.sign(filter_statement(epoch, version, count, error_rate, size, sha256))

    @classmethod
    def from_settings(cls, settings: Settings) -> Signer:
        """Load the PEM key named by NUMREP_RULES_SIGNING_KEY_FILE, or create one in data_dir (embedded)."""
        path = settings.rules_signing_key_file or settings.data_dir / "keys" / "rules-ed25519.pem"
        if not path.exists():
            if settings.rules_signing_key_file is not None:
                raise ConfigError(f"NUMREP_RULES_SIGNING_KEY_FILE: {path} does not exist")
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            create_secret_file(path, pem)
        try:
            key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"rules signing key {path}: not a PEM private key ({exc})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"rules signing key {path}: expected an Ed25519 key, got {type(key).__name__}")
        return cls(key)


class TrustedKeys:
    """The public keys a client accepts, by key id (more than one while the platform rotates its key)."""

    def __init__(self, keys: bytes | Iterable[bytes]) -> None:
        raw = [keys] if isinstance(keys, bytes) else [bytes(k) for k in keys]
        if not raw:
            raise ValueError("public_keys: at least one key is required")
        self._keys: dict[str, Ed25519PublicKey] = {}
        for k in raw:
            try:
                self._keys[key_id(k)] = Ed25519PublicKey.from_public_bytes(k)
            except ValueError:
                raise ValueError(f"public_keys: not a raw 32-byte Ed25519 key ({len(k)} bytes)") from None

    @property
    def key_ids(self) -> list[str]:
        return sorted(self._keys)

    def verify(self, signature: bytes, message: bytes, signed_by: str = "") -> bool:
        """True if one of the trusted keys (the one named ``signed_by`` when it is known) signed ``message``."""
        candidates = [self._keys[signed_by]] if signed_by in self._keys else list(self._keys.values())
        for public in candidates:
            try:
                public.verify(signature, message)
            except InvalidSignature:
                continue
            return True
        return False


def verify(
    public_key: bytes, epoch: int, version: int, checksum: str, issued_seconds: int, issued_nanos: int, signature: bytes
) -> bool:
    """True if ``signature`` is the platform's over a rules update (a single trusted key)."""
    try:
        return TrustedKeys(public_key).verify(
            signature, statement(epoch, version, checksum, issued_seconds, issued_nanos)
        )
    except ValueError:
        return False
