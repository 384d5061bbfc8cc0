"""Ed25519 signatures of rule-set versions.

The platform signs ``numrep.rules.v1|<version>|<checksum>`` for every rules
update it serves; operators verify it with the platform's public key (pinned
out of band), after checking the checksum of the rule set they hold. The
checksum covers every rule, so one signature authenticates a delta and a full
snapshot alike.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from numrep.config import Settings, create_secret_file
from numrep.errors import ConfigError

DOMAIN = "numrep.rules.v1"


def statement(version: int, checksum: str) -> bytes:
    """The bytes that are signed for a rule set at ``version``."""
    return f"{DOMAIN}|{version}|{checksum}".encode()


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def raw_public(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class Signer:
    """Signs rule-set versions with the platform's private key."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = private.public_key()
        self.key_id = key_id(self.public)

    @lru_cache(maxsize=1024)
    def sign(self, version: int, checksum: str) -> bytes:
        return self._private.sign(statement(version, checksum))

    @classmethod
    def from_settings(cls, settings: Settings) -> "Signer":
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


def verify(public_key: bytes, version: int, checksum: str, signature: bytes) -> bool:
    """True if ``signature`` is the platform's over (version, checksum)."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, statement(version, checksum))
    except (InvalidSignature, ValueError):
        return False
    return True
