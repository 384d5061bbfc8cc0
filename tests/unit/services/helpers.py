"""Helpers for servicer tests."""

from __future__ import annotations

from numrep import pipeline
from numrep.sdk.client import Client
from services.server import Server

SPAM = "17012345678"


def block(client: Client, server: Server, subject: str = SPAM, n: int = 10) -> None:
    for i in range(n):
        client.report(subject, f"reporter-{i}", "loans_finance")
    pipeline.rescore_dirty(server.store, server.settings)
    server.engine.refresh()


def nudged(nudges: list[int], timeout: float = 10.0) -> bool:
    """True once the server's nudger thread has sent at least one nudge (it sends asynchronously)."""
    import time

    deadline = time.monotonic() + timeout
    while not nudges and time.monotonic() < deadline:
        time.sleep(0.01)
    return bool(nudges)
