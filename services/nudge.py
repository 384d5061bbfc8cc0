"""Wake the rescoring worker soon after new reports, without blocking intake.

Accepted reports are durable in the store with their subjects marked dirty,
so a lost nudge only delays rescoring until the beat schedule's next run;
intake therefore never waits on, or fails because of, the broker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Nudger:
    """Coalesces many ``poke()`` calls into at most one send per ``interval``."""

    def __init__(self, send: Callable[[], None], interval: float = 0.2) -> None:
        self._send = send
        self._interval = interval
        self._wanted = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="numrep-nudge", daemon=True)
        self.sent = 0
        self.failed = 0

    def start(self) -> Nudger:
        self._thread.start()
        return self

    def poke(self) -> None:
        self._wanted.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._wanted.wait(timeout=0.5):
                continue
            self._wanted.clear()
            try:
                self._send()
                self.sent += 1
            except Exception as exc:  # the broker may be down; the beat schedule will catch up
                self.failed += 1
                log.warning("could not nudge the rescoring worker", extra={"error": str(exc)})
            self._stop.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()
        self._wanted.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
