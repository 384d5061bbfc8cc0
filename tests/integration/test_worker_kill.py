"""Celery on a real Redis broker: a worker SIGKILLed mid-aggregation loses nothing.

Given many dirty subjects and one rescoring task on Redis (acks_late,
reject_on_worker_lost), when the worker is SIGKILLed while it aggregates,
then a new worker redelivers and finishes the task, and the reputations and
the rule set (and the call-record aggregates) equal those of a clean run
over the same reports and records — none lost, none counted twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from numrep import pipeline
from numrep.config import Settings, load_settings
from numrep.models import CallRecord, Category, Channel, Report, Source
from numrep.rules import canonical_checksum
from numrep.store.sqlite import SQLiteStore
from workers.conf import RESCORE_DIRTY, create_app

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
AS_OF = datetime.now(UTC).replace(microsecond=0)
SUBJECTS = 1500


def reports() -> list[Report]:
    out = []
    for s in range(SUBJECTS):
        subject = f"tel:+86170{s:08d}"
        for r in range(3 + s % 10):  # 3..12 reporters, every other one attested: a mix of ALLOW, LABEL and BLOCK
            out.append(
                Report(
                    report_id=f"00000000-0000-4000-8000-{s * 100 + r:012d}",
                    reporter_hash=f"h1:r{s}-{r}",
                    subject=subject,
                    channel=Channel.VOICE,
                    category=list(Category)[r % 8],
                    occurred_at=AS_OF - timedelta(hours=r),
                    received_at=AS_OF,
                    source=Source.APP,
                    attested_by="China Telecom" if r % 2 else "",
                )
            )
    return out


def records() -> list[CallRecord]:
    """Call records for every fifth subject: its hours are aggregated in the same task, before scoring."""
    return [
        CallRecord(
            record_id=f"rec-{s}-{k}",
            caller=f"tel:+86170{s:08d}",
            callee_hash=f"h1:callee{k}",
            channel=Channel.VOICE,
            start=AS_OF - timedelta(hours=k % 30, minutes=k % 50),
            ring_ms=2000,
            talk_seconds=0 if k % 3 else 5,
            international=False,
            operator="China Telecom",
            callee_reg=(s * 31 + k) % 4096 << 6 | 1 + k % 5,
            prefix_reg=(k // 7) % 4096 << 6 | 1,
            received_at=AS_OF,
        )
        for s in range(0, SUBJECTS, 5)
        for k in range(40)
    ]


def worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.celery_app",
            "worker",
            "--pool",
            "solo",
            "-Q",
            "numrep",
            "--loglevel",
            "INFO",
            "--without-mingle",
            "--without-gossip",
        ],
        env=env,
        cwd=ROOT,
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def state(store: SQLiteStore) -> tuple[int, dict, str, dict]:
    subjects = [f"tel:+86170{i:08d}" for i in range(SUBJECTS)]
    reps = {s: store.get_reputation(s) for s in subjects}
    aggregates = store.call_aggregates(subjects, AS_OF - timedelta(days=3))
    return store.count_reports(), reps, canonical_checksum(store.active_rules().values()), aggregates


def test_sigkill_mid_aggregation_then_new_worker_matches_a_clean_run(tmp_path: Path, redis_url: str) -> None:
    import redis

    redis_url = redis_url.rsplit("/", 1)[0] + "/1"  # a database of its own: no tasks left by other tests
    redis.Redis.from_url(redis_url).flushdb()
    data = tmp_path / "killed"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMREP_")}
    # A short visibility timeout brings the killed worker's task back soon; the task budgets must be
    # shorter still (settings refuse otherwise), yet long enough for the second worker to finish in one go.
    env.update(
        NUMREP_DATA_DIR=str(data),
        NUMREP_BROKER_URL=redis_url,
        NUMREP_RESCORE_BATCH="25",
        NUMREP_BROKER_VISIBILITY_TIMEOUT_SECONDS="30",
        NUMREP_RESCORE_BUDGET_SECONDS="20",
        NUMREP_FULL_RESCORE_BUDGET_SECONDS="20",
        NUMREP_HASH_KEY="k" * 64,
        PYTHONPATH=str(ROOT),
    )
    settings: Settings = load_settings(environ=env)
    store = SQLiteStore(settings.sqlite_file)
    store.migrate()
    all_reports, all_records = reports(), records()
    store.add_reports(all_reports)
    store.add_call_records(all_records)
    total_dirty = len(store.dirty_subjects(10 * SUBJECTS))
    assert total_dirty == SUBJECTS

    # given one rescoring task on Redis, pinned to a clock
    app = create_app(settings)
    task_id = app.send_task(RESCORE_DIRTY, kwargs={"as_of": AS_OF.isoformat()}).id
    first = worker(env, tmp_path / "worker1.log")
    # when the worker is killed in the middle of aggregating
    deadline = time.monotonic() + 120
    while True:
        left = len(store.dirty_subjects(10 * SUBJECTS))
        if SUBJECTS * 0.2 < SUBJECTS - left and left > SUBJECTS * 0.3:
            break
        assert first.poll() is None, (tmp_path / "worker1.log").read_text()
        assert time.monotonic() < deadline, f"worker made no progress: {left} left"
        time.sleep(0.01)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert 0 < len(store.dirty_subjects(10 * SUBJECTS)) < SUBJECTS  # really killed mid-way

    # then a new worker gets the task again and finishes it
    second = worker(env, tmp_path / "worker2.log")
    try:
        deadline = time.monotonic() + 180  # the visibility timeout, then the rest of the work
        finished = f"{RESCORE_DIRTY}[{task_id}] succeeded"
        while store.dirty_subjects(1) or finished not in (tmp_path / "worker2.log").read_text():
            assert second.poll() is None, (tmp_path / "worker2.log").read_text()
            assert time.monotonic() < deadline, "the redelivered task did not finish"
            time.sleep(0.2)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(30)
    # the very task the first worker died in (the only one sent; no beat runs) was delivered again and finished
    second_log = (tmp_path / "worker2.log").read_text()
    assert f"{RESCORE_DIRTY}[{task_id}] received" in second_log, second_log[-3000:]
    assert f"{RESCORE_DIRTY}[{task_id}] succeeded" in second_log, second_log[-3000:]

    # and the outcome equals a clean run over the same reports
    clean = SQLiteStore(tmp_path / "clean.sqlite3")
    clean.migrate()
    clean.add_reports(all_reports)
    clean.add_call_records(all_records)
    pipeline.rescore_dirty(clean, settings, time_budget=600, as_of=AS_OF)
    killed_count, killed_reps, killed_rules, killed_aggs = state(store)
    clean_count, clean_reps, clean_rules, clean_aggs = state(clean)
    assert killed_count == clean_count == len(all_reports)
    assert len(killed_aggs) == SUBJECTS // 5 and killed_aggs == clean_aggs
    assert store.fold_call_records(10_000, frozenset(), str, settings.contacts_cap) == 0  # nothing left to fold
    assert killed_reps == clean_reps
    assert killed_rules == clean_rules
    assert len(store.active_rules()) > 0
