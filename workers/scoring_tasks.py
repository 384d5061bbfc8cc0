"""Rescoring: the fast path (dirty subjects) and the batch path (all flagged)."""

from __future__ import annotations

import logging
from datetime import datetime

from numrep import pipeline
from numrep.errors import StoreError
from workers.celery_app import RESCORE_DIRTY, RESCORE_FLAGGED, app, settings, store

log = logging.getLogger(__name__)


@app.task(name=RESCORE_DIRTY, autoretry_for=(StoreError,), retry_backoff=True, retry_backoff_max=60, max_retries=10)
def rescore_dirty_task(as_of: str | None = None) -> dict[str, int | None]:
    """Rescore every dirty subject, publish the rule changes, bring the filter up to date.

    ``as_of`` (ISO 8601) pins the scoring clock, so a redelivered task — after
    its worker died — computes exactly what the first delivery would have.
    """
    when = datetime.fromisoformat(as_of) if as_of else None
    result = pipeline.rescore_dirty(store(), settings(), time_budget=settings().rescore_budget_seconds, as_of=when)
    log.info("rescored", extra={"scored": result.scored, "rules_version": result.rules_version})
    return {"scored": result.scored, "rules_version": result.rules_version, "filter_version": result.filter_version}


@app.task(name=RESCORE_FLAGGED, autoretry_for=(StoreError,), retry_backoff=True, retry_backoff_max=300, max_retries=5)
def rescore_flagged_task() -> dict[str, int | None]:
    """Rescore every flagged subject, so that decayed reputations are delisted."""
    marked = pipeline.mark_flagged_dirty(store())
    result = pipeline.rescore_dirty(store(), settings(), time_budget=settings().full_rescore_budget_seconds)
    return {"marked": marked, "scored": result.scored, "rules_version": result.rules_version}
