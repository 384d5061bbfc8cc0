"""The store contract suite: every test here runs against every backend."""

from __future__ import annotations

import pytest

from numrep.store.base import Store


@pytest.fixture
def store(any_store: Store) -> Store:
    """Overrides the embedded-only ``store`` of tests/conftest.py: each backend in turn."""
    return any_store
