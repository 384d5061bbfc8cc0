"""Retention: personal data is deleted when its time is up (``report_retention_days`` and friends).

:func:`enforce` runs from the prune-reports beat task. It deletes in bounded
steps (``prune_batch`` rows each, at most ``max_steps`` steps a run) so that
one run never holds the SQLite write lock for long; the next run goes on
where it stopped. Each step marks the subjects of the deleted reports dirty,
so the scores they fed are recomputed by the next rescore. On Cassandra the
rows expire by their write TTLs and the same steps only mark the subjects
and drop what is left of the day index.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from numrep.config import Settings
from numrep.store.base import Store

log = logging.getLogger(__name__)

MAX_STEPS = 100  # per run; a backlog (the first run on an old store) is worked off over several runs


@dataclass(frozen=True, slots=True)
class RetentionRun:
    reports: int
    case_events: int
    texts: int
    subjects: int
    done: bool  # False: a step limit was hit, more remains for the next run


def enforce(store: Store, settings: Settings, now: datetime, max_steps: int = MAX_STEPS) -> RetentionRun:
    """Delete reports and blank report texts past their retention, in at most ``max_steps`` bounded steps each."""
    batch = settings.prune_batch
    reports_before = now - timedelta(days=settings.report_retention_days)
    texts_before = now - timedelta(days=settings.report_text_retention_days)
    reports = steps = subjects = texts = 0
    done = False
    for _ in range(max_steps):
        removal = store.prune_reports(reports_before, batch)
        reports, steps, subjects = reports + removal.reports, steps + removal.case_events, subjects + len(removal.subjects)
        if removal.reports < batch:
            done = True
            break
    texts_done = False
    for _ in range(max_steps):
        blanked = store.prune_report_texts(texts_before, batch)
        texts += blanked
        if blanked < batch:
            texts_done = True
            break
    run = RetentionRun(reports, steps, texts, subjects, done and texts_done)
    log.info("retention enforced", extra={"reports": run.reports, "case_events": run.case_events, "texts": run.texts,
                                          "subjects": run.subjects, "done": run.done})
    return run
