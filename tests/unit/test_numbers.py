"""Normalisation of tel: and sms: subjects."""

from __future__ import annotations

import random

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from numrep.errors import InvalidSubject
from numrep.numbers import _fast_e164, _normalize_full, mask, normalize, normalize_prefix

SAME_NUMBER = [
    "+86 138-0013-8000",
    "008613800138000",
    "13800138000",
    "１３８００１３８０００",  # full-width digits
    "＋８６ １３８ ００１３ ８０００",
    "tel:+8613800138000",
    "TEL:+86 (138) 0013.8000",
    "  +86-138-0013-8000  ",
]


@pytest.mark.parametrize("raw", SAME_NUMBER)
def test_equivalent_inputs_give_the_same_subject(raw: str) -> None:
    assert normalize(raw) == "tel:+8613800138000"


@pytest.mark.parametrize(
    "raw, subject",
    [
        ("110", "tel:+86110"),
        ("95588", "tel:+8695588"),
        ("999", "tel:+86999"),
        ("01062345678", "tel:+861062345678"),  # Beijing landline in national format
        ("+861062345678", "tel:+861062345678"),
        ("4006001234", "tel:+864006001234"),
        ("+1 650 253 0000", "tel:+16502530000"),
        ("10657000123456", "sms:10657000123456"),  # bare 106… is an SMS port
        ("sms:1065 7000 1234", "sms:106570001234"),
        ("SMS:10690000", "sms:10690000"),
    ],
)
def test_normalises(raw: str, subject: str) -> None:
    assert normalize(raw) == subject


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("+", "no digits"),
        ("tel:", "nothing after tel:"),
        ("abc", "contains letters"),
        ("1-800-FLOWERS", "contains letters"),
        ("1380013800012345", "too many digits: 16"),
        ("+86 13800138000123", "too many digits: 16"),
        ("\u200f13800138000", "invisible formatting character U+200F"),
        ("138\u202e00138000", "invisible formatting character U+202E"),
        ("1380013\x008000", "control character U+0000"),
        ("13800138000' OR '1'='1", 'unexpected character "\'"'),
        ("13800138000; DROP TABLE reports;--", "unexpected character ';'"),
        ("1 UNION SELECT * FROM system.peers", "contains letters"),
        ("13800+138000", "a + may only come first"),
        ("+86 12", "not a valid number"),
        ("sms:+10657", "SMS ports have no country code"),
        ("sms:13800138000", "SMS ports start with 106"),
        ("sms:1065", "5 to 20 digits, got 4"),
        ("sms:106" + "1" * 18, "5 to 20 digits, got 21"),
        ("1" * 65, "too long: 65 characters"),
        ("١٣٨٠٠١٣٨٠٠٠", "non-ASCII digit"),  # Arabic-Indic digits
    ],
)
def test_rejects_with_a_precise_reason(raw: str, reason: str) -> None:
    with pytest.raises(InvalidSubject) as exc:
        normalize(raw)
    assert reason in exc.value.reason


def test_rejects_non_text() -> None:
    with pytest.raises(InvalidSubject, match="expected text"):
        normalize(13800138000)


def test_region_is_configurable() -> None:
    assert normalize("650 253 0000", region="US") == "tel:+16502530000"
    with pytest.raises(InvalidSubject):
        normalize("650 253 0000", region="CN")


@given(st.text(max_size=80))
@settings(max_examples=500, deadline=None)
@example("+86 138-0013-8000")
@example("10657000123456")
@example("tel:+86110")
def test_normalize_is_idempotent_and_raises_only_validation_errors(raw: str) -> None:
    try:
        subject = normalize(raw)
    except InvalidSubject:
        return
    assert subject.startswith(("tel:", "sms:"))
    assert normalize(subject) == subject


phoneish = st.text(alphabet="0123456789+-() .１２３８", min_size=1, max_size=25)


@given(phoneish)
@settings(max_examples=500, deadline=None)
def test_phone_like_text_is_idempotent(raw: str) -> None:
    try:
        subject = normalize(raw)
    except InvalidSubject:
        return
    assert normalize(subject) == subject


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
@settings(max_examples=200, deadline=None)
def test_mobile_numbers_in_all_notations_agree(national: str) -> None:
    try:
        canonical = normalize(national)
    except InvalidSubject:
        return  # an unallocated block
    spaced = f"+86 {national[:3]} {national[3:7]} {national[7:]}"
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in national)
    assert normalize(spaced) == normalize("0086" + national) == normalize(full_width) == canonical


def _full_or_error(raw: str, region: str) -> str:
    try:
        return _normalize_full(raw, region)
    except InvalidSubject as exc:
        return f"error: {exc}"


@pytest.mark.parametrize("region", ["CN", "US", "GB", "DE", "IT"])
def test_fast_path_agrees_with_libphonenumber(region: str) -> None:
    """The E.164 fast path answers only when libphonenumber gives the same subject."""
    rng = random.Random(region)
    code = {"CN": "86", "US": "1", "GB": "44", "DE": "49", "IT": "39"}[region]
    answered = 0
    for _ in range(20_000):
        national = str(rng.randrange(10 ** rng.randint(2, 13)))
        for raw in (f"+{code}{national}", f"tel:+{code}{national}", f"+{rng.randint(1, 999)}{national}"):
            fast = _fast_e164(raw, region)
            if fast is not None:
                answered += 1
                assert fast == _full_or_error(raw, region), raw
    # and on what switches send most: valid mobile numbers in E.164
    for _ in range(5_000):
        raw = f"+86 1{rng.choice('3456789')}{rng.randrange(10**9):09d}".replace(" ", "")
        expected = _full_or_error(raw, "CN")
        fast = _fast_e164(raw, "CN")
        assert fast is None or fast == expected, raw
        answered += fast is not None
    assert answered > 1_000  # the fast path is taken


@given(st.from_regex(r"(tel:)?\+[0-9]{1,17}", fullmatch=True))
@settings(max_examples=1000, deadline=None)
def test_fast_path_never_disagrees(raw: str) -> None:
    fast = _fast_e164(raw, "CN")
    assert fast is None or fast == _full_or_error(raw, "CN")


def test_prefixes() -> None:
    assert normalize_prefix("tel:+86 170") == "tel:+86170"
    assert normalize_prefix("sms:10657") == "sms:10657"
    with pytest.raises(InvalidSubject, match="needs a tel: or sms: scheme"):
        normalize_prefix("+86170")
    with pytest.raises(InvalidSubject, match="starts with \\+"):
        normalize_prefix("tel:86170")


def test_mask_hides_the_middle() -> None:
    assert mask("tel:+8613800138000") == "tel:+86138****8000"
