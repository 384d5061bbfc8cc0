"""Evidence housekeeping: raw call records are kept only as long as they are needed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from numrep.errors import StoreError
from workers.celery_app import PRUNE_CALL_RECORDS, app, settings, store


@app.task(
    name=PRUNE_CALL_RECORDS, autoretry_for=(StoreError,), retry_backoff=True, retry_backoff_max=300, max_retries=5
)
def prune_call_records_task() -> int:
    """Delete raw call records (hashed callees) older than the retention, and contacts last reached before it;
    their hourly aggregates stay.

    Idempotent: the cut-off only moves forward, and deleting again deletes nothing.
    Backends that expire rows by TTL (Cassandra) do nothing here.
    """
    before = datetime.now(UTC) - timedelta(days=settings().record_retention_days)
    try:
        return store().prune_call_records(before)
    except NotImplementedError:
        return 0
