"""The one Celery app, built from the environment, and the worker's store.

Start a worker (with the beat scheduler embedded, as ``numrep up`` does)::

    celery -A workers.celery_app worker -B --pool solo
"""

from __future__ import annotations

import threading
import time
from typing import Any

from celery.signals import setup_logging, task_failure, task_postrun, task_prerun, worker_init, worker_process_shutdown

from numrep import logs, metrics
from numrep.config import Settings, load_settings
from numrep.store import Store, open_store
from workers.conf import (
    EXPIRE_DISPUTES,
    PRUNE_CALL_RECORDS,
    PRUNE_REPORTS,
    PUBLISH_RANGE_RULES,
    PUBLISH_RULES,
    PUBLISH_SPAM_LIST,
    REBUILD_FILTER,
    RESCORE_DIRTY,
    RESCORE_FLAGGED,
    create_app,
)

__all__ = [
    "app",
    "settings",
    "store",
    "EXPIRE_DISPUTES",
    "PRUNE_CALL_RECORDS",
    "PRUNE_REPORTS",
    "PUBLISH_RANGE_RULES",
    "PUBLISH_RULES",
    "PUBLISH_SPAM_LIST",
    "REBUILD_FILTER",
    "RESCORE_DIRTY",
    "RESCORE_FLAGGED",
]

app = create_app(load_settings())


@setup_logging.connect
def _logging(**_kwargs: object) -> None:
    """Use numrep's structured log format instead of Celery's default."""
    logs.setup(settings().log_level, settings().log_format)


# ---- metrics: task durations, failures and redeliveries -------------------
_started: dict[str, float] = {}


@worker_init.connect
def _serve_metrics(**_kwargs: object) -> None:
    """The worker's main process serves /metrics (aggregating its prefork children in multiprocess mode)."""
    metrics.serve_metrics(settings())


@worker_process_shutdown.connect
def _child_exited(pid: int | None = None, **_kwargs: object) -> None:
    if pid is not None:
        metrics.process_exited(pid)


@task_prerun.connect
def _task_started(task_id: str, task: Any, **_kwargs: object) -> None:
    _started[task_id] = time.perf_counter()
    if (getattr(task.request, "delivery_info", None) or {}).get("redelivered"):
        metrics.TASK_REDELIVERIES.labels(task.name).inc()


@task_postrun.connect
def _task_ended(task_id: str, task: Any, **_kwargs: object) -> None:
    start = _started.pop(task_id, None)
    if start is not None:
        metrics.TASK_SECONDS.labels(task.name).observe(time.perf_counter() - start)


@task_failure.connect
def _task_failed(sender: Any = None, **_kwargs: object) -> None:
    metrics.TASK_FAILURES.labels(getattr(sender, "name", "unknown")).inc()


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
