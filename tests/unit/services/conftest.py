"""An in-process server over a real gRPC channel, for servicer and SDK tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from numrep.config import Settings
from numrep.sdk.client import Client
from numrep.store.base import Store
from services.server import Server


@pytest.fixture
def nudges() -> list[int]:
    """Records intake's nudges to the worker (the worker steps run as functions here)."""
    return []


@pytest.fixture
def server(settings: Settings, store: Store, nudges: list[int]) -> Iterator[Server]:
    tuned = settings.model_copy(update={"max_batch": 50, "refresh_interval_seconds": 0.05})
    srv = Server(tuned, store=store, nudge=lambda: nudges.append(1)).start()
    yield srv
    srv.stop(grace=1)


@pytest.fixture
def client(server: Server) -> Iterator[Client]:
    with Client(server.address, timeout=10) as c:
        c.wait_ready()
        yield c
