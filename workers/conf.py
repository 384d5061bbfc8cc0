"""Celery configuration: task names, the beat schedule, the app factory.

Kept apart from ``workers.celery_app`` (which builds the app from the
environment at import) so that services can build a sender for their own
settings without importing task code.

The broker comes from settings: Redis in production; by default kombu's
SQLAlchemy transport on a SQLite file in ``data_dir`` — a real broker that
needs no server (not ``task_always_eager``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from celery import Celery
from celery.schedules import crontab

from numrep.config import Settings

TASK_MODULES = [
    "workers.scoring_tasks",
    "workers.rules_tasks",
    "workers.filter_tasks",
    "workers.publication_tasks",
    "workers.evidence_tasks",
    "workers.redress_tasks",
    "workers.privacy_tasks",
]

RESCORE_DIRTY = "numrep.rescore_dirty"
RESCORE_FLAGGED = "numrep.rescore_flagged"
PUBLISH_RULES = "numrep.publish_rules"
REBUILD_FILTER = "numrep.rebuild_filter"
PUBLISH_SPAM_LIST = "numrep.publish_spam_list"
PUBLISH_RANGE_RULES = "numrep.publish_range_rules"
PRUNE_CALL_RECORDS = "numrep.prune_call_records"
PRUNE_REPORTS = "numrep.prune_reports"
EXPIRE_DISPUTES = "numrep.expire_disputes"


def beat_schedule(settings: Settings) -> dict[str, dict]:
    """Every periodic job, in one place."""
    return {
        "rescore-dirty": {"task": RESCORE_DIRTY, "schedule": timedelta(seconds=settings.rescore_interval_seconds)},
        "rescore-flagged": {
            "task": RESCORE_FLAGGED,
            "schedule": timedelta(seconds=settings.full_rescore_interval_seconds),
        },
        "reconcile-rules": {"task": PUBLISH_RULES, "schedule": timedelta(minutes=10)},
        "rebuild-filter": {
            "task": REBUILD_FILTER,
            "schedule": timedelta(seconds=settings.filter_rebuild_interval_seconds),
        },
        "range-rules": {"task": PUBLISH_RANGE_RULES, "schedule": timedelta(hours=1)},
        "prune-call-records": {"task": PRUNE_CALL_RECORDS, "schedule": timedelta(hours=6)},
        "prune-reports": {"task": PRUNE_REPORTS, "schedule": timedelta(hours=1)},
        "expire-disputes": {"task": EXPIRE_DISPUTES, "schedule": timedelta(hours=1)},
        # the spam reporting list of each period, shortly after it ends (UTC)
        "spam-list-weekly": {
            "task": PUBLISH_SPAM_LIST,
            "schedule": crontab(minute=0, hour=1, day_of_week=1),
            "kwargs": {"kind": "week"},
        },
        "spam-list-monthly": {
            "task": PUBLISH_SPAM_LIST,
            "schedule": crontab(minute=0, hour=2, day_of_month=1),
            "kwargs": {"kind": "month"},
        },
        "spam-list-quarterly": {
            "task": PUBLISH_SPAM_LIST,
            "schedule": crontab(minute=0, hour=3, day_of_month=1, month_of_year="1,4,7,10"),
            "kwargs": {"kind": "quarter"},
        },
    }


BROKER_POLLING_SECONDS = 0.2


def _transport_options(settings: Settings) -> dict[str, object]:
    url = settings.celery_broker_url
    if url.startswith("sqla+"):
        # kombu's SQLAlchemy transport hands every transport option to
        # create_engine(), which rejects polling_interval; its poll period is
        # a class attribute (1 s by default), too slow for the fast path.
        from kombu.transport import sqlalchemy as kombu_sqla

        kombu_sqla.Transport.polling_interval = BROKER_POLLING_SECONDS
        return {}
    if url.startswith(("redis://", "rediss://")):
        # Unacknowledged tasks of a dead worker come back after the visibility
        # timeout; sweep for them every few seconds instead of kombu's ~100 s.
        # Acks are late (a task is acknowledged when it ends), so the timeout must outlast the longest
        # task budget: Settings refuse one shorter than 1.5x it (numrep.config.VISIBILITY_MARGIN).
        visibility = settings.broker_visibility_timeout_seconds
        return {
            "visibility_timeout": visibility,
            "unacked_restore_interval": max(1, min(10, int(visibility))),
            "unacked_restore_throttle": 1,
        }
    return {"polling_interval": BROKER_POLLING_SECONDS}


def create_app(settings: Settings) -> Celery:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = Celery("numrep", set_as_current=False)
    app.conf.update(
        broker_url=settings.celery_broker_url,
        broker_connection_retry_on_startup=True,
        broker_transport_options=_transport_options(settings),
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue="numrep",
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        beat_schedule=beat_schedule(settings),
        beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
        worker_hijack_root_logger=False,
        imports=TASK_MODULES,
    )
    app.numrep_settings = settings
    return app


def sender(settings: Settings) -> Callable[[], None]:
    """A function that queues one fast-path rescore (used by intake to nudge the worker)."""
    app = create_app(settings)

    def send() -> None:
        app.send_task(RESCORE_DIRTY)

    return send
