"""Retention: reports and report texts are deleted when their time is up (numrep.retention)."""

from __future__ import annotations

from datetime import UTC, datetime

from numrep import retention
from numrep.errors import StoreError
from workers.celery_app import PRUNE_REPORTS, app, settings, store


@app.task(name=PRUNE_REPORTS, autoretry_for=(StoreError,), retry_backoff=True, retry_backoff_max=300, max_retries=5)
def prune_reports_task() -> dict[str, int | bool]:
    """Delete reports past ``report_retention_days`` and blank texts past ``report_text_retention_days``.

    Bounded steps, each marking the deleted reports' subjects dirty (rescored by
    the next rescore). Idempotent: the cut-offs only move forward, and running
    it again deletes nothing more.
    """
    run = retention.enforce(store(), settings(), datetime.now(UTC))
    return {
        "reports": run.reports,
        "case_events": run.case_events,
        "texts": run.texts,
        "statements": run.statements,
        "subjects": run.subjects,
        "done": run.done,
    }
