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

import functools
import io
import math
import os
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
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


HEADROOM = 0.01  # room for fast-path additions between full rebuilds, as a share of the count
MIN_HEADROOM = 1_000


def capacity_for(count: int, minimum: int) -> int:
    """Capacity for ``count`` subjects: 1 % headroom (at least 1,000), at least ``minimum``.

    A Bloom filter costs bits for its capacity, not its count, so the
    headroom is what a fresh filter pays over the optimum (1.01× at scale).
    Additions between rebuilds fill it; when it is full the next sync
    rebuilds instead of extending.
    """
    return max(minimum, count + max(int(count * HEADROOM), MIN_HEADROOM))


def build(subjects: Iterable[str], version: int, error_rate: float, min_capacity: int) -> FilterSnapshot:
    """A fresh filter of exactly these subjects."""
    items = set(subjects)
    capacity = capacity_for(len(items), min_capacity)
    bloom = BloomFilter(capacity=capacity, error_rate=error_rate)
    add = bloom.add
    for s in items:
        add(s, skip_check=True)
    return FilterSnapshot(version, len(items), capacity, error_rate, bloom)


ShardSource = Callable[[int, int], Iterable[str]]
"""``source(shard, shards)`` yields the subjects of one shard; the shards are disjoint."""


def _build_shard(source: ShardSource, shard: int, shards: int, capacity: int, error_rate: float, out: str) -> int:
    bloom = BloomFilter(capacity=capacity, error_rate=error_rate)
    add, n = bloom.add, 0
    for s in source(shard, shards):
        add(s, skip_check=True)
        n += 1
    with open(out, "wb") as f:
        bloom.tofile(f)
    return n


def build_sharded(source: ShardSource, count: int, version: int, error_rate: float, min_capacity: int,
                  shards: int | None = None) -> FilterSnapshot:
    """Build one filter of ``count`` subjects in ``shards`` processes (default: one per core).

    Every shard fills a filter of the same size and hash functions with its
    part; the parts are OR-ed together, which is exactly the filter of all
    subjects. ``source`` must be picklable (a module-level function or a
    ``functools.partial`` of one). Peak memory: one filter per process plus
    one in the parent.
    """
    shards = shards or os.cpu_count() or 1
    capacity = capacity_for(count, min_capacity)
    with tempfile.TemporaryDirectory(prefix="numrep-filter-") as tmp:
        outs = [str(Path(tmp) / f"shard-{i}.bloom") for i in range(shards)]
        with ProcessPoolExecutor(max_workers=shards) as pool:
            counts = list(pool.map(_build_shard, [source] * shards, range(shards), [shards] * shards,
                                   [capacity] * shards, [error_rate] * shards, outs))
        with open(outs[0], "rb") as f:
            bloom = BloomFilter.fromfile(f)
        for out in outs[1:]:
            with open(out, "rb") as f:
                bloom.bitarray |= BloomFilter.fromfile(f).bitarray
            os.unlink(out)
    total = sum(counts)
    if total > capacity:
        raise ValueError(f"the shards yielded {total} subjects, more than the {count} announced")
    bloom.count = total
    return FilterSnapshot(version, total, capacity, error_rate, bloom)


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


def _lines_of(paths: list[str], shard: int, shards: int) -> Iterable[str]:
    with open(paths[shard], encoding="utf-8") as f:
        for line in f:
            yield line.rstrip("\n")


def build_from_list(subjects: Iterable[str], version: int, error_rate: float, min_capacity: int,
                    shards: int) -> FilterSnapshot:
    """:func:`build`, sharded over ``shards`` processes when there is more than one."""
    items = set(subjects)
    if shards <= 1:
        return build(items, version, error_rate, min_capacity)
    with tempfile.TemporaryDirectory(prefix="numrep-subjects-") as tmp:
        paths = [str(Path(tmp) / f"{i}.txt") for i in range(shards)]
        files = [open(p, "w", encoding="utf-8") for p in paths]
        try:
            for i, s in enumerate(items):
                files[i % shards].write(s + "\n")
        finally:
            for f in files:
                f.close()
        return build_sharded(functools.partial(_lines_of, paths), len(items), version, error_rate, min_capacity, shards)


def measured_error_rate(snapshot: FilterSnapshot, probes: Iterable[str]) -> tuple[float, int]:
    """The share of ``probes`` (known non-members) the filter wrongly holds, and the probe count."""
    hits = n = 0
    for p in probes:
        hits += p in snapshot.bloom
        n += 1
    return (hits / n if n else 0.0), n


def optimal_bits(count: int, error_rate: float) -> float:
    """Bits an ideal Bloom filter needs for ``count`` items at ``error_rate``."""
    return -count * math.log(error_rate) / (math.log(2) ** 2)
