"""TTLCache: entries expire, None is an answer, the size is bounded (oldest first)."""

from __future__ import annotations

from numrep.cache import MISSING, TTLCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entries_live_for_the_ttl_and_none_is_an_answer() -> None:
    clock = Clock()
    cache: TTLCache[str, int | None] = TTLCache(5.0, clock=clock)
    cache.put("a", 1)
    cache.put("gone", None)
    assert (cache.get("a"), cache.get("gone"), cache.get("never")) == (1, None, MISSING)
    clock.now += 5.0
    assert cache.get("a") is MISSING and cache.get("gone") is MISSING


def test_a_ttl_of_zero_keeps_nothing() -> None:
    cache: TTLCache[str, int] = TTLCache(0)
    cache.put("a", 1)
    assert cache.get("a") is MISSING and len(cache) == 0


def test_a_full_cache_drops_expired_then_oldest_entries() -> None:
    clock = Clock()
    cache: TTLCache[int, int] = TTLCache(10.0, max_size=3, clock=clock)
    for i in range(3):
        cache.put(i, i)
        clock.now += 1
    cache.put(0, 0)  # put again: now the newest
    cache.put(3, 3)  # full: 1, the oldest, goes
    assert [cache.get(i) for i in range(4)] == [0, MISSING, 2, 3] and len(cache) == 3
    clock.now += 20  # all expired: the next put clears them out
    cache.put(4, 4)
    assert len(cache) == 1 and cache.get(4) == 4
    cache.clear()
    assert len(cache) == 0
