"""Rules publication (batch path): reconcile the rule set with the reputations."""

from __future__ import annotations

from numrep import pipeline
from numrep.errors import StoreError
from workers.celery_app import PUBLISH_RULES, app, settings, store


@app.task(name=PUBLISH_RULES, autoretry_for=(StoreError,), retry_backoff=True, retry_backoff_max=300, max_retries=5)
def publish_rules_task() -> dict[str, int | None]:
    """Publish a new rules version if the rules drifted from the reputations, then sync the filter."""
    version = pipeline.reconcile_rules(store())
    meta = pipeline.sync_filter(store(), settings())
    return {"rules_version": version, "filter_version": meta.version if meta else None}
