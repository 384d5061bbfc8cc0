"""Report rate limits: token buckets per reporter and per operator.

A bucket holds up to ``burst`` tokens and refills at ``rate`` per second; a
report takes one token from its reporter's bucket and one from its
operator's. An empty bucket answers :class:`numrep.errors.RateLimited`
(RESOURCE_EXHAUSTED) with the wait until the next token.

Buckets live in the serving process (no I/O on the intake path), so with N
serving processes or pods the platform-wide ceiling is N times the setting;
connections stick to one process, so a single client meets the configured
limit. Reporter buckets are keyed by the reporter's keyed hash: the raw id is
never held. Idle buckets are dropped once full again, so memory follows the
number of recently active reporters.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from numrep.errors import RateLimited


class TokenBuckets:
    """Token buckets by key, thread-safe."""

    def __init__(
        self, rate: float, burst: int, what: str, clock: Callable[[], float] = time.monotonic, max_keys: int = 1_000_000
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.what = what
        self._clock = clock
        self._sweep_at = max_keys  # sweep when this many keys are held; doubled while they are all busy
        self._max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def _tokens(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - at) * self.rate)

    def take(self, key: str, n: int = 1) -> None:
        """Take ``n`` tokens for ``key`` or raise RateLimited (taking none)."""
        if self.rate <= 0:
            return
        with self._lock:
            now = self._clock()
            tokens = self._tokens(key, now)
            if tokens < n:
                wait = (n - tokens) / self.rate if n <= self.burst else float("inf")
                raise RateLimited(
                    f"rate limit of the {self.what}: at most {self.burst} reports at once and "
                    f"{self.rate * 60:g} a minute; "
                    + (f"retry in {wait:.1f} s" if wait != float("inf") else f"send at most {self.burst} per call"),
                    retry_after=wait,
                )
            self._buckets[key] = (tokens - n, now)
            if len(self._buckets) > self._sweep_at:
                self._sweep(now)

    def _sweep(self, now: float) -> None:
        """Drop buckets that have refilled (they are indistinguishable from new ones).

        If most are still in use, the next sweep waits until twice as many are
        held, so sweeping stays amortised O(1) per take.
        """
        self._buckets = {k: v for k, v in self._buckets.items() if self._tokens(k, now) < self.burst}
        self._sweep_at = max(self._max_keys, 2 * len(self._buckets))


class ReportLimits:
    """The two limits every accepted report passes: its operator's, then its reporter's."""

    def __init__(
        self,
        reporter_per_minute: float,
        reporter_burst: int,
        operator_per_second: float,
        operator_burst: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reporters = TokenBuckets(reporter_per_minute / 60.0, reporter_burst, "reporter", clock)
        self.operators = TokenBuckets(operator_per_second, operator_burst, "operator", clock)

    def operator(self, operator: str, n: int) -> None:
        self.operators.take(operator, n)

    def reporter(self, reporter_hash: str) -> None:
        self.reporters.take(reporter_hash)
