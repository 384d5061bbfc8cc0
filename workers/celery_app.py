"""The one Celery app, built from the environment, and the worker's store.

Start a worker (with the beat scheduler embedded, as ``numrep up`` does)::

    celery -A workers.celery_app worker -B --pool solo
"""

from __future__ import annotations

import threading

from celery.signals import setup_logging

from numrep import logs
from numrep.config import Settings, load_settings
from numrep.store import Store, open_store
from workers.conf import (
    PRUNE_CALL_RECORDS,
    PUBLISH_RANGE_RULES,
    PUBLISH_RULES,
    PUBLISH_SPAM_LIST,
    REBUILD_FILTER,
    RESCORE_DIRTY,
    RESCORE_FLAGGED,
    create_app,
)

__all__ = ["app", "settings", "store", "PRUNE_CALL_RECORDS", "PUBLISH_RANGE_RULES", "PUBLISH_RULES", "PUBLISH_SPAM_LIST", "REBUILD_FILTER",
           "RESCORE_DIRTY", "RESCORE_FLAGGED"]

app = create_app(load_settings())


@setup_logging.connect
def _logging(**_kwargs: object) -> None:
    """Use numrep's structured log format instead of Celery's default."""
    logs.setup(settings().log_level)

_store: Store | None = None
_store_lock = threading.Lock()


def settings() -> Settings:
    s: Settings = app.numrep_settings
    return s


def store() -> Store:
    """The worker process's store, opened on first use."""
    global _store
    with _store_lock:
        if _store is None:
            _store = open_store(settings())
        return _store
