"""The HyperLogLog contract: estimates, merges without inflation, and both encodings."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from numrep.errors import ValidationError
from numrep.evidence.sketch import HyperLogLog, M, callee_prefix, position, public_hash


def _numbers(start: int, n: int) -> list[str]:
    return [f"tel:+86138{i:08d}" for i in range(start, start + n)]


@pytest.mark.parametrize("n", [1, 10, 100, 1_000, 20_000])
def test_estimate_is_within_a_few_percent(n: int) -> None:
    est = HyperLogLog.of(_numbers(0, n)).estimate()
    assert abs(est - n) <= max(1.0, 0.05 * n)


def test_merging_overlapping_hours_does_not_inflate() -> None:
    # given the same 500 callees reached in three hours, and 500 others once
    hours = [HyperLogLog.of(_numbers(0, 500)) for _ in range(3)]
    other = HyperLogLog.of(_numbers(500, 500))
    merged = HyperLogLog()
    for h in (*hours, other):
        merged.merge(h)
    # then the distinct count is about 1,000, not 2,000
    assert abs(merged.estimate() - 1000) < 50


def test_hash_and_register_are_the_published_contract() -> None:
    callee = "tel:+8613800138000"
    h = int.from_bytes(hashlib.sha256(callee.encode()).digest()[:8], "big")
    assert public_hash(callee) == h
    idx, value = position(h)
    assert idx == h >> 52
    rest = h & ((1 << 52) - 1)
    assert value == (52 - rest.bit_length()) + 1
    assert callee_prefix(callee) == "tel:+861380013800"


@settings(max_examples=50, deadline=None)
@given(st.sets(st.integers(0, 10**8), max_size=3000))
def test_encoding_round_trips(values: set[int]) -> None:
    sketch = HyperLogLog.of(f"tel:+86139{v:08d}" for v in values)
    data = sketch.to_bytes()
    assert HyperLogLog.from_bytes(data).registers == sketch.registers
    assert len(data) <= M + 1


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x03abc", "unknown encoding"),
        (b"\x01" + bytes(10), "dense sketch has 4096"),
        (b"\x02\x00\x01", "3-byte"),
        (b"\x02\x00\x05\x01\x00\x04\x01", "ascending"),
        (b"\x02\x10\x00\x01", "below 4096"),
        (b"\x02\x00\x01\x40", "register values"),
    ],
)
def test_malformed_sketches_are_rejected_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        HyperLogLog.from_bytes(data)
