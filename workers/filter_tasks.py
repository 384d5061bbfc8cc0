"""Filter snapshots: full rebuild from the active rules (drops removed subjects)."""

from __future__ import annotations

from numrep import pipeline
from numrep.errors import StoreError
from workers.celery_app import REBUILD_FILTER, app, settings, store


@app.task(name=REBUILD_FILTER, autoretry_for=(StoreError,), retry_backoff=True, retry_backoff_max=300, max_retries=5)
def rebuild_filter_task() -> dict[str, int | None]:
    """Rebuild the Bloom filter from scratch at the current rules version."""
    meta = pipeline.sync_filter(store(), settings(), full=True)
    return {"filter_version": meta.version if meta else None, "count": meta.count if meta else None}
