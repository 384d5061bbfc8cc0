"""The Celery app: every task registered, every periodic job on the beat schedule."""

from __future__ import annotations

from datetime import UTC, datetime

from numrep.config import Settings
from workers import conf


def test_every_periodic_job_is_scheduled(settings: Settings) -> None:
    schedule = conf.beat_schedule(settings)
    assert {e["task"] for e in schedule.values()} == {
        conf.RESCORE_DIRTY,
        conf.RESCORE_FLAGGED,
        conf.PUBLISH_RULES,
        conf.REBUILD_FILTER,
        conf.PUBLISH_RANGE_RULES,
        conf.PUBLISH_SPAM_LIST,
        conf.PRUNE_CALL_RECORDS,
        conf.EXPIRE_DISPUTES,
        conf.PRUNE_REPORTS,
    }
    kinds = {e["kwargs"]["kind"] for e in schedule.values() if e["task"] == conf.PUBLISH_SPAM_LIST}
    assert kinds == {"week", "month", "quarter"}


def test_every_task_module_registers_its_tasks(settings: Settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NUMREP_DATA_DIR", str(settings.data_dir))
    import importlib

    from workers.celery_app import app as module_app

    for name in conf.TASK_MODULES:
        importlib.import_module(name)

    names = set(module_app.tasks)
    assert {
        conf.RESCORE_DIRTY,
        conf.RESCORE_FLAGGED,
        conf.PUBLISH_RULES,
        conf.REBUILD_FILTER,
        conf.PUBLISH_RANGE_RULES,
        conf.PUBLISH_SPAM_LIST,
        conf.PRUNE_CALL_RECORDS,
        conf.EXPIRE_DISPUTES,
        conf.PRUNE_REPORTS,
    } <= names
    assert module_app.conf.task_acks_late and module_app.conf.task_reject_on_worker_lost


def test_last_complete_period() -> None:
    from workers.publication_tasks import last_complete

    now = datetime(2026, 11, 22, tzinfo=UTC)
    assert (
        last_complete("week", now).label,
        last_complete("month", now).label,
        last_complete("quarter", now).label,
    ) == ("2026-W46", "2026-10", "2026-Q3")


def test_redis_visibility_timeout_outlasts_the_longest_task(settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A task still running past the visibility timeout would be delivered again (acks are late)."""
    import pytest

    from numrep.config import load_settings
    from numrep.errors import ConfigError

    # given the defaults, on Redis: the timeout is above the hourly rescore's budget, with margin
    s = load_settings(environ={"NUMREP_BROKER_URL": "redis://127.0.0.1:6379/0", "NUMREP_DATA_DIR": str(tmp_path)})
    options = conf._transport_options(s)
    assert options["visibility_timeout"] >= 1.5 * s.full_rescore_budget_seconds > s.rescore_budget_seconds
    # when the timeout equals the longest budget (as it did: 3,600 s both), then the settings are refused
    with pytest.raises(ConfigError, match="NUMREP_BROKER_VISIBILITY_TIMEOUT_SECONDS=3600 is too short"):
        load_settings(environ={"NUMREP_BROKER_VISIBILITY_TIMEOUT_SECONDS": "3600", "NUMREP_DATA_DIR": str(tmp_path)})
    # and a shorter budget lets a short timeout through (tests that kill workers use one)
    load_settings(
        environ={
            "NUMREP_BROKER_VISIBILITY_TIMEOUT_SECONDS": "30",
            "NUMREP_RESCORE_BUDGET_SECONDS": "20",
            "NUMREP_FULL_RESCORE_BUDGET_SECONDS": "20",
            "NUMREP_DATA_DIR": str(tmp_path),
        }
    )
