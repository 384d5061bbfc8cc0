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
import hashlib
import io
import math
import os
import struct
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol

from bitarray import bitarray
from pybloom_live import BloomFilter

Impl = Literal["pybloom", "blake2"]


class SubjectFilter(Protocol):
    """What the lookup path needs from a filter implementation."""

    def __contains__(self, subject: object) -> bool: ...


class Blake2Bloom:
    """A standard Bloom filter: BLAKE2b-128 of the subject, k probes by double hashing.

    The faster alternative to pybloom-live (``NUMREP_FILTER_IMPL=blake2``):
    one C hash call per lookup instead of pybloom's generator of salted
    hashes, and probes that stop at the first clear bit, so a miss — the
    common case — costs about half. Sized like an ideal Bloom filter
    (m = n·ln(1/p)/ln²2 bits, k = round(m/n·ln 2)). Same interface as
    pybloom's ``BloomFilter`` as far as numrep uses it; serialised with its
    own header (``NRB2``), so snapshots say which implementation built them.
    """

    MAGIC = b"NRB2"
    _HEADER = struct.Struct("<4sBQBQQd")  # magic, format version, m, k, capacity, count, error rate

    def __init__(self, capacity: int, error_rate: float, _bits: bitarray | None = None, _k: int = 0) -> None:
        if capacity < 1 or not 0 < error_rate < 1:
            raise ValueError("capacity must be positive and error_rate in (0, 1)")
        self.capacity = capacity
        self.error_rate = error_rate
        self.num_bits = _bits.__len__() if _bits is not None else max(8, math.ceil(optimal_bits(capacity, error_rate)))
        self.num_slices = _k or max(1, round(self.num_bits / capacity * math.log(2)))
        self.bitarray = _bits if _bits is not None else bitarray(self.num_bits)
        if _bits is None:
            self.bitarray.setall(0)
        self.count = 0

    def _start(self, key: str) -> tuple[int, int]:
        h = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=16).digest(), "little")
        m = self.num_bits
        return h % m, ((h >> 64) | 1) % m or 1

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        # _start inlined: this is the lookup hot path, and a call costs as much as the probes of a miss
        h = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=16).digest(), "little")
        m, bits = self.num_bits, self.bitarray
        step = ((h >> 64) | 1) % m or 1
        h %= m
        for _ in range(self.num_slices):
            if not bits[h]:
                return False
            h += step
            if h >= m:
                h -= m
        return True

    def add(self, key: str, skip_check: bool = False) -> bool:
        """Add ``key``; True if it (probably) was there already (not counted again)."""
        h, step = self._start(key)
        m, bits, present = self.num_bits, self.bitarray, True
        for _ in range(self.num_slices):
            if not bits[h]:
                present = False
                bits[h] = 1
            h += step
            if h >= m:
                h -= m
        if skip_check or not present:
            self.count += 1
            return False
        return True

    def copy(self) -> Blake2Bloom:
        new = Blake2Bloom(self.capacity, self.error_rate, self.bitarray.copy(), self.num_slices)
        new.count = self.count
        return new

    def tofile(self, f: BinaryIO) -> None:
        f.write(
            self._HEADER.pack(self.MAGIC, 1, self.num_bits, self.num_slices, self.capacity, self.count, self.error_rate)
        )
        f.write(self.bitarray.tobytes())

    @classmethod
    def fromfile(cls, f: BinaryIO) -> Blake2Bloom:
        head = f.read(cls._HEADER.size)
        magic, fmt, m, k, capacity, count, error_rate = cls._HEADER.unpack(head)
        if magic != cls.MAGIC or fmt != 1:
            raise ValueError("not a numrep blake2 filter snapshot")
        bits = bitarray()
        bits.frombytes(f.read())
        if len(bits) < m:
            raise ValueError(f"truncated filter snapshot: {len(bits)} of {m} bits")
        del bits[m:]
        bloom = cls(capacity, error_rate, bits, k)
        bloom.count = count
        return bloom


def new_bloom(impl: Impl, capacity: int, error_rate: float) -> Any:
    """An empty filter of the chosen implementation."""
    if impl == "blake2":
        return Blake2Bloom(capacity, error_rate)
    return BloomFilter(capacity=capacity, error_rate=error_rate)


def load_bloom(f: BinaryIO) -> Any:
    """Read a serialised filter of either implementation (told apart by the header)."""
    start = f.read(4)
    f.seek(-len(start), io.SEEK_CUR)
    return Blake2Bloom.fromfile(f) if start == Blake2Bloom.MAGIC else BloomFilter.fromfile(f)


@dataclass(frozen=True, slots=True)
class FilterSnapshot:
    """An immutable, versioned filter. ``bloom`` is never mutated once published."""

    version: int
    count: int
    capacity: int
    error_rate: float
    bloom: Any  # pybloom_live.BloomFilter or Blake2Bloom

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
    def from_bytes(cls, version: int, error_rate: float, data: bytes) -> FilterSnapshot:
        bloom = load_bloom(io.BytesIO(data))
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


def build(
    subjects: Iterable[str], version: int, error_rate: float, min_capacity: int, impl: Impl = "pybloom"
) -> FilterSnapshot:
    """A fresh filter of exactly these subjects."""
    items = set(subjects)
    capacity = capacity_for(len(items), min_capacity)
    bloom = new_bloom(impl, capacity, error_rate)
    add = bloom.add
    for s in items:
        add(s, skip_check=True)
    return FilterSnapshot(version, len(items), capacity, error_rate, bloom)


ShardSource = Callable[[int, int], Iterable[str]]
"""``source(shard, shards)`` yields the subjects of one shard; the shards are disjoint."""


def _build_shard(
    source: ShardSource, shard: int, shards: int, capacity: int, error_rate: float, out: str, impl: Impl
) -> int:
    bloom = new_bloom(impl, capacity, error_rate)
    add, n = bloom.add, 0
    for s in source(shard, shards):
        add(s, skip_check=True)
        n += 1
    with open(out, "wb") as f:
        bloom.tofile(f)
    return n


def build_sharded(
    source: ShardSource,
    count: int,
    version: int,
    error_rate: float,
    min_capacity: int,
    shards: int | None = None,
    impl: Impl = "pybloom",
) -> FilterSnapshot:
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
            counts = list(
                pool.map(
                    _build_shard,
                    [source] * shards,
                    range(shards),
                    [shards] * shards,
                    [capacity] * shards,
                    [error_rate] * shards,
                    outs,
                    [impl] * shards,
                )
            )
        with open(outs[0], "rb") as f:
            bloom = load_bloom(f)
        for out in outs[1:]:
            with open(out, "rb") as f:
                bloom.bitarray |= load_bloom(f).bitarray
            os.unlink(out)
    total = sum(counts)
    if total > capacity:
        raise ValueError(f"the shards yielded {total} subjects, more than the filter sized for {count} holds")
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


def build_from_list(
    subjects: Iterable[str], version: int, error_rate: float, min_capacity: int, shards: int, impl: Impl = "pybloom"
) -> FilterSnapshot:
    """:func:`build`, sharded over ``shards`` processes when there is more than one."""
    items = set(subjects)
    if shards <= 1:
        return build(items, version, error_rate, min_capacity, impl)
    with tempfile.TemporaryDirectory(prefix="numrep-subjects-") as tmp:
        paths = [str(Path(tmp) / f"{i}.txt") for i in range(shards)]
        files = [open(p, "w", encoding="utf-8") for p in paths]
        try:
            for i, s in enumerate(items):
                files[i % shards].write(s + "\n")
        finally:
            for f in files:
                f.close()
        return build_sharded(
            functools.partial(_lines_of, paths), len(items), version, error_rate, min_capacity, shards, impl
        )


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
