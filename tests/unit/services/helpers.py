"""Helpers for servicer tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from numrep import pipeline
from numrep.sdk.client import Client
from services.server import Server

SPAM = "17012345678"


def victim(i: int) -> str:
    return f"1390013{i:04d}"


def block(client: Client, server: Server, subject: str = SPAM, n: int = 10) -> None:
    """Evidence scoring v2 blocks on: the operator's records show ``subject`` called n people, who report it."""
    called = datetime.now(UTC) - timedelta(hours=1)
    for start in range(0, n, 50):
        resp = client.submit_call_records(
            client.call_record(f"rec-{subject}-{i}", subject, victim(i), called)
            for i in range(start, min(n, start + 50))
        )
        assert resp.rejected == 0
    for i in range(n):
        client.report(subject, f"reporter-{i}", "loans_finance", reporter_number=victim(i))
    pipeline.rescore_dirty(server.store, server.settings)
    server.engine.refresh()


def nudged(nudges: list[int], timeout: float = 10.0) -> bool:
    """True once the server's nudger thread has sent at least one nudge (it sends asynchronously)."""
    import time

    deadline = time.monotonic() + timeout
    while not nudges and time.monotonic() < deadline:
        time.sleep(0.01)
    return bool(nudges)
