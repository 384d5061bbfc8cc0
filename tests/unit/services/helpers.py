"""Helpers for servicer tests."""

from __future__ import annotations

from numrep import pipeline
from numrep.client import Client
from services.server import Server

SPAM = "17012345678"


def block(client: Client, server: Server, subject: str = SPAM, n: int = 10) -> None:
    for i in range(n):
        client.report(subject, f"reporter-{i}", "loans_finance")
    pipeline.rescore_dirty(server.store, server.settings)
    server.engine.refresh()
