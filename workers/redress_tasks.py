"""Dispute housekeeping: open disputes whose number is no longer flagged expire."""

from __future__ import annotations

from datetime import UTC, datetime

from numrep.errors import StoreError
from numrep.redress import disputes
from workers.celery_app import EXPIRE_DISPUTES, app, store


@app.task(name=EXPIRE_DISPUTES, autoretry_for=(StoreError,), retry_backoff=True, retry_backoff_max=300, max_retries=5)
def expire_disputes_task() -> int:
    """Expire open disputes of numbers that are neither labelled nor blocked any more; returns how many.

    Idempotent: each expiry is a compare-and-set on the dispute's state.
    """
    return len(disputes.expire_moot(store(), datetime.now(UTC)))
