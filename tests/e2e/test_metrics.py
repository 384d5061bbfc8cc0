"""Observability end to end: scrape /metrics from the running server and worker while calls are made."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import Platform, free_port, wait_for

pytestmark = [pytest.mark.e2e]


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    """The sum over every series of ``name`` whose labels include ``labels``."""
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= set(ls))


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Platform, int, int]]:
    server_port, worker_port = free_port(), free_port()
    p = Platform(
        tmp_path_factory.mktemp("metrics"),
        {"NUMREP_METRICS_PORT": str(server_port)},
        worker_env={"NUMREP_METRICS_PORT": str(worker_port)},
    )
    p.migrate()
    p.start_server()
    p.start_worker()
    yield p, server_port, worker_port
    p.stop()


def test_server_and_worker_counters_move_as_calls_are_made(observed: tuple[Platform, int, int], tmp_path: Path) -> None:
    platform, server_port, worker_port = observed
    before = scrape(server_port)
    with platform.client() as c:
        for i in range(5):
            c.lookup(f"1391234567{i}")
        c.report("17012345678", "metrics-reporter", "fraud")
    after = scrape(server_port)
    assert (
        total(after, "numrep_lookups_total", method="ReputationService/Lookup")
        - total(before, "numrep_lookups_total", method="ReputationService/Lookup")
        == 5
    )
    assert (
        total(after, "numrep_reports_total", result="accepted")
        - total(before, "numrep_reports_total", result="accepted")
        == 1
    )
    assert total(after, "numrep_rpc_duration_seconds_count", method="ReputationService/Lookup") >= 5
    # the report's nudge makes the worker rescore: its task metrics and the pipeline lag show it
    wait_for(
        lambda: total(scrape(worker_port), "numrep_task_duration_seconds_count", task="numrep.rescore_dirty") >= 1,
        timeout=60,
    )
    worker = scrape(worker_port)
    assert ("numrep_pipeline_lag_seconds", ()) in worker
    assert total(worker, "numrep_task_failures_total") == 0
