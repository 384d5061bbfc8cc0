"""A small bounded cache whose entries expire: for answers that may be reused for a few seconds.

Used for the engine's reputation cache (§3), the local list's confirmed
answers (numrep.sdk.local_list) and the cache of unknown API keys (numrep.auth). A cached
``None`` is an answer too ("no such reputation", "no such key"), so a miss is
told apart by the :data:`MISSING` sentinel.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from enum import Enum
from typing import Generic, Literal, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Missing(Enum):
    MISSING = "missing"


MISSING: Literal[Missing.MISSING] = Missing.MISSING


class TTLCache(Generic[K, V]):
    """Up to ``max_size`` entries, each kept for ``ttl`` seconds after it was put; ``ttl <= 0`` keeps nothing.

    Reads take no lock (one dictionary read, atomic under the GIL); writes do.
    Entries stay in the order they were put, which — one TTL for all — is the
    order they expire in, so a full cache drops its oldest entries first.
    """

    def __init__(self, ttl: float, max_size: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        if max_size < 1:
            raise ValueError("max_size: at least 1")
        self.ttl = ttl
        self.max_size = max_size
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | Literal[Missing.MISSING]:
        """The live value for ``key``, or MISSING."""
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self._clock():
            return MISSING
        return entry[1]

    def put(self, key: K, value: V) -> None:
        if self.ttl <= 0:
            return
        now = self._clock()
        entries = self._entries
        with self._lock:
            entries.pop(key, None)  # put again at the end, so that the order stays the order of expiry
            while entries and (len(entries) >= self.max_size or next(iter(entries.values()))[0] <= now):
                entries.popitem(last=False)
            entries[key] = (now + self.ttl, value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
