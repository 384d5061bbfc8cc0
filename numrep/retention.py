"""Retention: personal data is deleted when its time is up (``report_retention_days`` and friends).

:func:`enforce` runs from the prune-reports beat task. It deletes in bounded
steps (``prune_batch`` rows each, at most ``max_steps`` steps a run) so that
one run never holds the SQLite write lock for long; the next run goes on
where it stopped. Each step marks the subjects of the deleted reports dirty,
so the scores they fed are recomputed by the next rescore. On Cassandra the
rows expire by their write TTLs and the same steps only mark the subjects
and drop what is left of the day index. Owners' statements of closed
disputes are blanked after ``dispute_statement_retention_days``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from numrep.config import Settings
from numrep.store.base import Store
from numrep.store.privacy import Removal

log = logging.getLogger(__name__)

MAX_STEPS = 100  # per run; a backlog (the first run on an old store) is worked off over several runs


@dataclass(frozen=True, slots=True)
class RetentionRun:
    reports: int
    case_events: int
    texts: int
    statements: int
    subjects: int
    done: bool  # False: a step limit was hit, more remains for the next run


def _steps(step: Callable[[], int], batch: int, max_steps: int) -> tuple[int, bool]:
    """Run ``step`` (it returns how many rows it removed, at most ``batch``) until it removes less than ``batch``."""
    total = 0
    for _ in range(max_steps):
        n = step()
        total += n
        if n < batch:
            return total, True
    return total, False


def enforce(store: Store, settings: Settings, now: datetime, max_steps: int = MAX_STEPS) -> RetentionRun:
    """Delete reports, blank report texts and closed disputes' statements past their retention, in at most
    ``max_steps`` bounded steps each."""
    batch = settings.prune_batch
    reports_before = now - timedelta(days=settings.report_retention_days)
    texts_before = now - timedelta(days=settings.report_text_retention_days)
    statements_before = now - timedelta(days=settings.dispute_statement_retention_days)
    removed = Removal()

    def prune_reports() -> int:
        step = store.prune_reports(reports_before, batch)
        removed.add(step.reports, step.case_events, step.subjects)
        return step.reports

    _, reports_done = _steps(prune_reports, batch, max_steps)
    texts, texts_done = _steps(lambda: store.prune_report_texts(texts_before, batch), batch, max_steps)
    statements, statements_done = _steps(
        lambda: store.prune_dispute_statements(statements_before, batch), batch, max_steps
    )
    run = RetentionRun(
        removed.reports,
        removed.case_events,
        texts,
        statements,
        len(removed.subjects),
        reports_done and texts_done and statements_done,
    )
    log.info(
        "retention enforced",
        extra={
            "reports": run.reports,
            "case_events": run.case_events,
            "texts": run.texts,
            "statements": run.statements,
            "subjects": run.subjects,
            "done": run.done,
        },
    )
    return run
