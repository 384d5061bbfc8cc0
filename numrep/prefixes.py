"""Longest-prefix matching over string keys: range rules (numrep.rules) and range allocations
(numrep.regulator.registry) both resolve a subject by the longest prefix that covers it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

V = TypeVar("V")


class PrefixMap(Generic[V]):
    """Values keyed by prefix; immutable once built.

    ``proper=True`` matches only prefixes strictly shorter than the subject
    (a range rule covers the numbers under its prefix, not the prefix itself).
    A lookup probes one dictionary per distinct prefix length, longest first.
    """

    __slots__ = ("_by_prefix", "_lengths", "_shorter_by")

    def __init__(self, items: Iterable[tuple[str, V]], proper: bool = False) -> None:
        self._by_prefix: dict[str, V] = dict(items)
        self._lengths = tuple(sorted({len(p) for p in self._by_prefix}, reverse=True))
        self._shorter_by = 1 if proper else 0

    def longest(self, subject: str) -> V | None:
        """The value of the longest prefix covering ``subject``, or None."""
        room = len(subject) - self._shorter_by
        by_prefix = self._by_prefix
        for n in self._lengths:
            if n <= room and (v := by_prefix.get(subject[:n])) is not None:
                return v
        return None

    def covering(self, subject: str) -> list[V]:
        """The values of every prefix covering ``subject``, longest first."""
        room = len(subject) - self._shorter_by
        return [v for n in self._lengths if n <= room and (v := self._by_prefix.get(subject[:n])) is not None]

    def values(self) -> Iterator[V]:
        return iter(self._by_prefix.values())

    def __len__(self) -> int:
        return len(self._by_prefix)
