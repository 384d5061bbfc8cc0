"""Subjects: phone numbers (``tel:``) and SMS sender ports (``sms:``).

``normalize`` turns whatever a user, an app or a switch sends into one
canonical subject string, or raises :class:`InvalidSubject` with a precise
reason. The two namespaces never mix:

* ``tel:+8613800138000`` — E.164, via libphonenumber (``phonenumbers``).
  Spaces, dashes, dots, brackets, ``00``/``+`` prefixes, national format and
  full-width digits are accepted. Short service numbers valid in their
  region (110, 12315, 95588) become ``tel:+86110``.
* ``sms:106575551234`` — China's 106-prefixed service ports, digits only,
  5 to 20 digits, outside E.164. A bare number starting with 106 (no ``+``,
  no ``00``, no scheme) is an SMS port.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from enum import Enum
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, shortnumberinfo

from numrep.errors import InvalidSubject
from numrep.models import Channel

TEL = "tel:"
SMS = "sms:"
MAX_INPUT_CHARS = 64
MAX_E164_DIGITS = 15
SMS_PORT_PREFIX = "106"
SMS_PORT_MIN_DIGITS = 5
SMS_PORT_MAX_DIGITS = 20
_SEPARATORS = frozenset(" -.()/")
# Service numbers in use that libphonenumber's short-number metadata lacks,
# by country calling code; they must normalise so that they can be protected.
EXTRA_SHORT_NUMBERS: dict[int, frozenset[str]] = {86: frozenset({"999"})}
_BAD_CATEGORIES = {
    "Cc": "control",
    "Cf": "invisible formatting",
    "Co": "private-use",
    "Cs": "surrogate",
    "Zl": "line separator",
    "Zp": "paragraph separator",
    "Cn": "unassigned",
}
_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country calling code",
    NumberParseException.NOT_A_NUMBER: "not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}


class Namespace(str, Enum):
    TEL = "tel"
    SMS = "sms"


def namespace(subject: str) -> Namespace:
    """The namespace of an already normalised subject or prefix."""
    if subject.startswith(TEL):
        return Namespace.TEL
    if subject.startswith(SMS):
        return Namespace.SMS
    raise InvalidSubject("missing tel: or sms: scheme")


def default_channel(subject: str) -> Channel:
    """The channel a normalised subject is looked up or reported on when none is given:
    SMS for a port, voice for a phone number."""
    return Channel.SMS if subject.startswith(SMS) else Channel.VOICE  # on the lookup hot path: no namespace() call


def _clean(raw: object) -> tuple[str, str]:
    """Check characters; return (scheme or '', the rest in ASCII, stripped)."""
    if not isinstance(raw, str):
        raise InvalidSubject(f"expected text, got {type(raw).__name__}")
    if len(raw) > MAX_INPUT_CHARS:
        raise InvalidSubject(f"too long: {len(raw)} characters (at most {MAX_INPUT_CHARS})")
    for ch in raw:
        category = unicodedata.category(ch)
        if category in _BAD_CATEGORIES:
            raise InvalidSubject(f"contains the {_BAD_CATEGORIES[category]} character U+{ord(ch):04X}")
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        raise InvalidSubject("empty")
    scheme = ""
    lowered = text[:4].lower()
    if lowered in (TEL, SMS):
        scheme, text = lowered, text[4:].strip()
        if not text:
            raise InvalidSubject(f"nothing after {scheme}")
    for i, ch in enumerate(text):
        if ch.isascii() and ch.isdigit():
            continue
        if ch in _SEPARATORS or (ch == "+" and i == 0):
            continue
        if ch.isalpha():
            raise InvalidSubject(
                "contains letters (only digits, spaces, dashes, dots, brackets and a leading + are accepted)"
            )
        if ch == "+":
            raise InvalidSubject("a + may only come first")
        if ch.isdigit():
            raise InvalidSubject(f"non-ASCII digit U+{ord(ch):04X}")
        raise InvalidSubject(
            f"unexpected character {ch!r}" if ch.isprintable() else f"unexpected character U+{ord(ch):04X}"
        )
    return scheme, text


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _sms_port(digits: str, text: str) -> str:
    if text.startswith("+"):
        raise InvalidSubject("SMS ports have no country code (+)")
    if not digits.startswith(SMS_PORT_PREFIX):
        raise InvalidSubject(f"SMS ports start with {SMS_PORT_PREFIX}")
    if not SMS_PORT_MIN_DIGITS <= len(digits) <= SMS_PORT_MAX_DIGITS:
        raise InvalidSubject(f"SMS ports have {SMS_PORT_MIN_DIGITS} to {SMS_PORT_MAX_DIGITS} digits, got {len(digits)}")
    return SMS + digits


def _tel(text: str, digits: str, region: str) -> str:
    significant = digits
    if text.startswith("+"):
        pass
    elif digits.startswith("00"):
        significant = digits[2:]
    if len(significant) > MAX_E164_DIGITS:
        raise InvalidSubject(f"too many digits: {len(significant)} (E.164 allows at most {MAX_E164_DIGITS})")
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise InvalidSubject(_PARSE_REASONS.get(exc.error_type, "not a phone number")) from None
    if phonenumbers.is_valid_number(number):
        return TEL + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.national_significant_number(number)
    country_code = number.country_code or 0
    if national in EXTRA_SHORT_NUMBERS.get(country_code, ()):
        return f"{TEL}+{number.country_code}{national}"
    number_region = phonenumbers.region_code_for_country_code(country_code)
    if number_region != "ZZ" and shortnumberinfo.is_valid_short_number_for_region(number, number_region):
        return f"{TEL}+{number.country_code}{national}"
    where = number_region if number_region != "ZZ" else f"+{number.country_code}"
    raise InvalidSubject(f"not a valid number in {where}")


# The number types libphonenumber's is_valid_number accepts, most common first.
_VALID_TYPES = (
    "mobile",
    "fixed_line",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)


def _lengths(lengths: Iterable[int]) -> str:
    return "|".join(f"[0-9]{{{n}}}" for n in sorted(lengths))


@lru_cache(maxsize=64)
def _e164_validator(region: str) -> re.Pattern[str] | None:
    """One regular expression per region: libphonenumber's validity rules for E.164 input, or None.

    For the national number after ``+<calling code>`` it requires, as
    ``is_valid_number`` does, a possible length and the general pattern, and
    then one valid type's lengths and pattern; and, as ``parse`` would strip
    it, that the national (or carrier) prefix for parsing does not start it.
    """
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    general = metadata.general_desc if metadata is not None else None
    if metadata is None or general is None or not general.national_number_pattern or not general.possible_length:
        return None
    types = []
    for name in _VALID_TYPES:
        d = getattr(metadata, name)
        if d is None or not d.national_number_pattern:
            continue
        lengths = [n for n in (d.possible_length or general.possible_length) if n > 0]  # [-1]: no such numbers
        if lengths:
            types.append(f"(?=(?:{_lengths(lengths)})\\Z)(?:{d.national_number_pattern})\\Z")
    if not types:
        return None
    strip = metadata.national_prefix_for_parsing or metadata.national_prefix
    return re.compile(
        "(?:tel:)?\\+(?=[1-9][0-9]{3,14}\\Z)"  # E.164: at most 15 digits
        f"(?P<digits>{metadata.country_code}"
        + (f"(?!(?:{strip}))" if strip else "")
        + f"(?=(?:{_lengths(general.possible_length)})\\Z)(?=(?:{general.national_number_pattern})\\Z)"
        + "(?:"
        + "|".join(types)
        + "))"
    )


def _fast_e164(raw: str, region: str) -> str | None:
    """The canonical subject of an already-E.164 number of ``region``; None → take the full path.

    Switches send ``+8613800138000``; parsing that with libphonenumber costs
    ~40 µs, this one regular expression ~0.5 µs. It answers only when the
    answer is certain: ASCII ``+`` and digits in the region's calling code, a
    national number that matches libphonenumber's own metadata for a valid
    type, and nothing the parser would strip as a national or carrier
    prefix. Everything else (other countries, short numbers, odd formats,
    invalid numbers — for their precise error) goes the full way.
    ``tests/unit/test_numbers.py`` checks both paths agree.
    """
    validator = _e164_validator(region)
    m = validator.fullmatch(raw) if validator is not None else None
    return None if m is None else TEL + "+" + m.group("digits")


def normalize(raw: object, region: str = "CN") -> str:
    """Return the canonical subject for ``raw`` or raise InvalidSubject."""
    if type(raw) is str and (fast := _fast_e164(raw, region)) is not None:
        return fast
    return _normalize_full(raw, region)


def _normalize_full(raw: object, region: str) -> str:
    scheme, text = _clean(raw)
    digits = _digits(text)
    if not digits:
        raise InvalidSubject("no digits")
    if scheme == SMS:
        return _sms_port(digits, text)
    if scheme == "" and not text.startswith("+") and digits.startswith(SMS_PORT_PREFIX):
        return _sms_port(digits, text)
    return _tel(text, digits, region)


def normalize_prefix(raw: object) -> str:
    """Normalise a range prefix: ``tel:+86170`` or ``sms:10657``.

    Prefixes must carry their scheme; a tel prefix is ``+`` and 1-15 digits.
    """
    scheme, text = _clean(raw)
    digits = _digits(text)
    if not scheme:
        raise InvalidSubject("a prefix needs a tel: or sms: scheme")
    if not digits:
        raise InvalidSubject("no digits")
    if scheme == SMS:
        if not digits.startswith(SMS_PORT_PREFIX[: len(digits)]) or len(digits) > SMS_PORT_MAX_DIGITS:
            raise InvalidSubject(
                f"SMS port prefixes start with {SMS_PORT_PREFIX} and have at most {SMS_PORT_MAX_DIGITS} digits"
            )
        return SMS + digits
    if not text.startswith("+"):
        raise InvalidSubject("a tel: prefix starts with + and the country code")
    if len(digits) > MAX_E164_DIGITS:
        raise InvalidSubject(f"too many digits: {len(digits)} (E.164 allows at most {MAX_E164_DIGITS})")
    return f"{TEL}+{digits}"


def mask(subject: str, keep_tail: int = 4) -> str:
    """Mask the middle of a subject for publication: ``tel:+86138****8000``."""
    head, body = subject[:4], subject[4:]
    if len(body) <= keep_tail + 4:
        return subject
    return head + body[: len(body) - keep_tail - 4] + "****" + body[-keep_tail:]
