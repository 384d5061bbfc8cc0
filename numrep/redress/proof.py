"""Proof of control of a number, for disputes: the holder operator attests, or a one-time code reaches the owner
through the holder operator's channel.

* **Attestation**: the call carries an API key with the ``holder`` scope whose
  operator holds the number in the number-resource registry.
* **One-time code**: :func:`issue_code` makes an 8-digit code bound to the
  number and a challenge id, and POSTs it to the holder's callback
  (``dispute_code_callbacks``), which delivers it to its subscriber (SMS, app).
  The code is an HMAC of the number and the challenge under a key derived from
  the platform's secret, so nothing is stored; the challenge id carries its
  expiry. :class:`CodeAttempts` bounds wrong guesses and makes a code single-use
  (per serving process: with N processes a guesser gets N × ``MAX_ATTEMPTS``
  tries at 10^8 codes).
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import sha256

from numrep.cache import MISSING, TTLCache
from numrep.config import Settings, derived_key
from numrep.errors import DeliveryFailed, Forbidden, ValidationError
from numrep.models import Allocation, ApiKey, Scope

CODE_DIGITS = 8
MAX_ATTEMPTS = 5
CHALLENGE_PREFIX = "chl_"
DELIVERY_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Challenge:
    challenge_id: str
    expires_at: datetime
    holder: str


def _key(settings: Settings) -> bytes:
    return derived_key(settings.hmac_key, "numrep.dispute-code")


def code_for(settings: Settings, subject: str, challenge_id: str) -> str:
    mac = hmac.new(_key(settings), f"{subject}|{challenge_id}".encode(), sha256).digest()
    return f"{int.from_bytes(mac[:8], 'big') % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def _expiry(challenge_id: str) -> datetime:
    try:
        raw = base64.urlsafe_b64decode(challenge_id.removeprefix(CHALLENGE_PREFIX) + "==").decode()
        micros = int(raw.split(".", 1)[0])
        return datetime.fromtimestamp(micros / 1e6, UTC)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("challenge_id: malformed (as RequestCode returned it)") from None


def attest(key: ApiKey | None, holder: Allocation | None, subject: str) -> str:
    """The operator attesting control of ``subject`` with ``key``; raises Forbidden saying why not."""
    if key is None:
        raise Forbidden("no proof of control: send the holder operator's API key (holder scope), or a one-time code")
    if Scope.HOLDER not in key.scopes:
        raise Forbidden(f"the key of {key.operator} lacks the 'holder' scope an attestation needs")
    if holder is None:
        raise Forbidden(f"{subject} has no holder in the number-resource registry: nobody can attest it")
    if holder.holder != key.operator:
        raise Forbidden(
            f"{subject} is not held by {key.operator} in the number-resource registry; "
            "only its holder operator can attest it"
        )
    return key.operator


def issue_code(settings: Settings, subject: str, holder: Allocation | None, now: datetime) -> Challenge:
    """Make a one-time code for ``subject`` and deliver it through its holder's callback; the challenge to file with."""
    if holder is None:
        raise Forbidden(f"{subject} has no holder in the number-resource registry: no channel can deliver a code")
    url = settings.dispute_code_callbacks.get(holder.holder)
    if url is None:
        raise Forbidden(
            f"the holder of {subject}, {holder.holder}, has no code channel configured "
            "(dispute_code_callbacks); ask it to attest instead"
        )
    expires = now + timedelta(minutes=settings.dispute_code_minutes)
    micros = int(expires.timestamp() * 1e6)
    challenge_id = CHALLENGE_PREFIX + base64.urlsafe_b64encode(
        f"{micros}.{secrets.token_hex(8)}".encode()
    ).decode().rstrip("=")
    body = json.dumps(
        {
            "subject": subject,
            "code": code_for(settings, subject, challenge_id),
            "expires_at": expires.isoformat(),
            "purpose": "numrep dispute",
        }
    ).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryFailed(
            f"the code channel of {holder.holder} cannot be reached: {getattr(exc, 'reason', exc)}; try again later"
        ) from None
    if not 200 <= status < 300:
        raise DeliveryFailed(f"the code channel of {holder.holder} refused the code: HTTP {status}; try again later")
    return Challenge(challenge_id, expires, holder.holder)


class CodeAttempts:
    """Wrong guesses per challenge (at most MAX_ATTEMPTS), and challenges already used; bounded, in memory."""

    def __init__(self, max_size: int = 100_000) -> None:
        self._tries: TTLCache[str, int] = TTLCache(24 * 3600.0, max_size=max_size)

    def verify(self, settings: Settings, subject: str, challenge_id: str, code: str, now: datetime) -> None:
        """Raise Forbidden (saying why) unless ``code`` is the live, unused code of ``challenge_id`` for ``subject``."""
        if not challenge_id or not code:
            raise Forbidden("no proof of control: send the holder operator's key, or challenge_id and code")
        if _expiry(challenge_id) <= now:
            raise Forbidden("code: expired; request a new one")
        tries = self._tries.get(challenge_id)
        used = 0 if tries is MISSING else tries
        if used >= MAX_ATTEMPTS:
            raise Forbidden(f"code: {MAX_ATTEMPTS} attempts used (or the code was used already); request a new one")
        if not hmac.compare_digest(code.strip(), code_for(settings, subject, challenge_id)):
            self._tries.put(challenge_id, used + 1)
            raise Forbidden(f"code: wrong for this number and challenge ({MAX_ATTEMPTS - used - 1} attempts left)")

    def consume(self, challenge_id: str) -> None:
        """The code proved control once: it proves nothing again."""
        self._tries.put(challenge_id, MAX_ATTEMPTS)
