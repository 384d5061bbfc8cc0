"""The Bloom filter of flagged subjects, versioned and swapped atomically.

The filter answers "might this subject be flagged?". A miss is final (no I/O
on the hot path); a hit is only a hint that the lookup confirms against the
store or the published rules — a false positive costs one read, never a
wrong block.

Snapshots carry the rules version they were built for. Building is the
workers' job (``workers.filter_tasks``); services load the newest snapshot
from the store and swap it in with one reference assignment.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from pybloom_live import BloomFilter


class SubjectFilter(Protocol):
    """What the lookup path needs from a filter implementation."""

    def __contains__(self, subject: object) -> bool: ...


@dataclass(frozen=True, slots=True)
class FilterSnapshot:
    """An immutable, versioned filter. ``bloom`` is never mutated once published."""

    version: int
    count: int
    capacity: int
    error_rate: float
    bloom: BloomFilter

    def __contains__(self, subject: object) -> bool:
        return subject in self.bloom

    @property
    def bits(self) -> int:
        return int(self.bloom.num_bits)

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        self.bloom.tofile(buf)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, version: int, error_rate: float, data: bytes) -> "FilterSnapshot":
        bloom = BloomFilter.fromfile(io.BytesIO(data))
        return cls(version, int(bloom.count), int(bloom.capacity), error_rate, bloom)


class EmptyFilter:
    """The filter before any snapshot exists: contains nothing."""

    version = 0
    count = 0

    def __contains__(self, subject: object) -> bool:
        return False


def capacity_for(count: int, minimum: int) -> int:
    """Room for growth: twice the current count, at least ``minimum``."""
    return max(minimum, 2 * count)


def build(subjects: Iterable[str], version: int, error_rate: float, min_capacity: int) -> FilterSnapshot:
    """A fresh filter of exactly these subjects."""
    items = sorted(set(subjects))
    capacity = capacity_for(len(items), min_capacity)
    bloom = BloomFilter(capacity=capacity, error_rate=error_rate)
    for s in items:
        bloom.add(s)
    return FilterSnapshot(version, len(items), capacity, error_rate, bloom)


def extend(base: FilterSnapshot, subjects: Iterable[str], version: int) -> FilterSnapshot | None:
    """A new snapshot holding ``base`` plus ``subjects``, or None if it would overflow.

    Subjects removed from the rule set stay in an extended filter until the
    next full rebuild; that only costs a confirming read on a hit.
    """
    new = [s for s in set(subjects) if s not in base.bloom]
    if base.count + len(new) > base.capacity:
        return None
    bloom = base.bloom.copy()
    bloom.count = base.bloom.count  # pybloom-live's copy() does not carry the count
    for s in new:
        bloom.add(s)
    return FilterSnapshot(version, int(bloom.count), base.capacity, base.error_rate, bloom)


def optimal_bits(count: int, error_rate: float) -> float:
    """Bits an ideal Bloom filter needs for ``count`` items at ``error_rate``."""
    return -count * math.log(error_rate) / (math.log(2) ** 2)
