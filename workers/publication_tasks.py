"""Publications: the spam reporting list of each completed period, and range rules."""

from __future__ import annotations

from datetime import UTC, datetime

from numrep import pipeline
from numrep.errors import StoreError
from numrep.regulator import spam_list
from numrep.regulator.periods import Kind, Period
from workers.celery_app import PUBLISH_RANGE_RULES, PUBLISH_SPAM_LIST, app, settings, store


def last_complete(kind: Kind, today: datetime | None = None) -> Period:
    """The most recent period of ``kind`` that has ended."""
    day = (today or datetime.now(UTC)).date()
    return Period.containing(day, kind).previous()


@app.task(name=PUBLISH_SPAM_LIST, autoretry_for=(StoreError,), retry_backoff=True, retry_backoff_max=600, max_retries=8)
def publish_spam_list_task(kind: str = "month", period: str | None = None) -> list[str]:
    """Write spam-list-<period>.{json,csv,html} to <data_dir>/publications (same data, same bytes)."""
    p = Period.parse(period) if period else last_complete(kind)  # type: ignore[arg-type]
    files = spam_list.publish(store(), settings(), p)
    return [str(path) for path in spam_list.publish_to(settings().data_dir / "publications", files, p.label)]


@app.task(
    name=PUBLISH_RANGE_RULES, autoretry_for=(StoreError,), retry_backoff=True, retry_backoff_max=300, max_retries=5
)
def publish_range_rules_task() -> dict[str, int | None]:
    """Publish range rules for overwhelmingly abusive ranges (idempotent: no change, no version)."""
    version = pipeline.publish_range_rules(store(), settings())
    meta = pipeline.sync_filter(store(), settings())
    return {"rules_version": version, "filter_version": meta.version if meta else None}
