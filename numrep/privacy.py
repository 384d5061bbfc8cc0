"""Keyed hashing of personal identifiers (reporter ids, subscriber numbers, ID numbers).

Raw identities never reach storage, logs or error messages: they are turned
into an HMAC-SHA256 under a key kept apart from the data as soon as they
enter the platform. The prefix versions the scheme:

* ``h1:`` HMAC-SHA256 — account ids and API keys;
* ``h2:`` keyed BLAKE2b-256 — subscriber numbers (reporters' own numbers and
  callees in call records), which arrive by the million with call records:
  BLAKE2b's keyed mode is a PRF like HMAC, at a sixth of its cost here.

Report texts (SMS bodies) are kept only when configured, and then with phone
numbers and ID numbers redacted (:func:`stored_text`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from numrep.store.base import Store
    from numrep.store.privacy import Removal

log = logging.getLogger(__name__)

PREFIX = "h1:"
SUBSCRIBER_PREFIX = "h2:"


def keyed_hash(key: bytes, identity: str) -> str:
    """HMAC-SHA256 of ``identity`` (NFC-stripped text) under ``key``, hex, prefixed."""
    digest = hmac.new(key, identity.strip().encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + digest


def subscriber_hash(key: bytes, number: str) -> str:
    """Keyed BLAKE2b-256 of a normalised subscriber number (``key``: at most 64 bytes), hex, prefixed."""
    return SUBSCRIBER_PREFIX + hashlib.blake2b(number.encode("utf-8"), key=key[:64], digest_size=32).hexdigest()


# ---- report texts ------------------------------------------------------------
# A Chinese resident ID: 17 digits and a check character (a digit or X), not inside a longer run of digits.
_ID_NUMBER = re.compile(r"(?<!\d)[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?!\d)")
# A phone number or SMS port: an optional +, then at least 5 digits, which may be grouped by spaces, dots,
# dashes or brackets (e.g. "+86 138-0013-8000", "(010) 6552 9988", "10690001"). Letters around it do not
# protect it ("call13812345678now" is redacted too): better a product code too many than a number too few.
_NUMBER = re.compile(r"\+?\(?(?<!\d)\d(?:[\s().\-]{0,2}\d){4,}(?!\d)")
ID_PLACEHOLDER = "[ID]"
NUMBER_PLACEHOLDER = "[NUMBER]"


def redact_text(text: str) -> str:
    """``text`` (an SMS body a reporter forwarded) with ID numbers and phone numbers replaced by placeholders.

    ID numbers go first, so that an ID is never half-replaced as a number. ``\\d`` matches
    any decimal digit, full-width ones too (senders use them to dodge filters); the
    rest of the text is left exactly as it was.
    """
    return _NUMBER.sub(NUMBER_PLACEHOLDER, _ID_NUMBER.sub(ID_PLACEHOLDER, text))


def stored_text(text: str, keep: bool) -> str:
    """What is stored of a report's text: nothing unless ``keep`` (``NUMREP_KEEP_REPORT_TEXT``), else redacted."""
    return redact_text(text) if keep and text else ""


# ---- deletion on request ---------------------------------------------------------
def delete_reporter(store: Store, key: bytes, reporter_id: str) -> Removal:
    """Delete every report a reporter made, by the id it reported under, and what was derived from them.

    The id is hashed (as intake hashed it) before any lookup, and neither it nor
    its hash is logged. An unknown reporter yields an empty Removal, not an error.
    """
    removal = store.delete_reporter(keyed_hash(key, reporter_id))
    log.info(
        "reporter deleted on request",
        extra={
            "reports": removal.reports,
            "case_events": removal.case_events,
            "outcomes": removal.outcomes,
            "subjects": len(removal.subjects),
        },
    )
    return removal
