"""Shared fixtures: settings on a temporary data dir, and stores of every backend."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from numrep.config import Settings, load_settings
from numrep.models import Category, Channel, Report, Source
from numrep.store.base import Store

# Backends of the store contract suite. Each entry opens a fresh, empty store.
STORE_BACKENDS: dict[str, Callable[[Settings], Store]] = {}


def _sqlite(settings: Settings) -> Store:
    from numrep.store.sqlite import SQLiteStore

    store = SQLiteStore(settings.sqlite_file, rules_log_keep_versions=settings.rules_log_keep_versions)
    store.migrate()
    return store


STORE_BACKENDS["sqlite"] = _sqlite

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def _clean_numrep_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests build their own settings; stray NUMREP_* variables must not leak in."""
    for var in list(os.environ):
        if var.startswith("NUMREP_"):
            monkeypatch.delenv(var)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(environ={}, data_dir=tmp_path / "data", hash_key="k" * 64, grpc_port=0)


@pytest.fixture(params=sorted(STORE_BACKENDS))
def store(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Store]:
    s = STORE_BACKENDS[request.param](settings)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(settings: Settings) -> Iterator[Store]:
    s = _sqlite(settings)
    yield s
    s.close()


def make_report(
    n: int,
    subject: str = "tel:+8617012345678",
    reporter: str | None = None,
    at: datetime = NOW,
    channel: Channel = Channel.VOICE,
    category: Category = Category.LOANS_FINANCE,
    source: Source = Source.APP,
) -> Report:
    """A valid stored report; ``n`` picks the id (and the reporter unless given)."""
    return Report(
        report_id=f"00000000-0000-4000-8000-{n:012d}",
        reporter_hash=reporter or f"h1:reporter{n}",
        subject=subject,
        channel=channel,
        category=category,
        occurred_at=at,
        received_at=at + timedelta(seconds=1),
        source=source,
    )
