"""Prometheus metrics of every numrep process, defined in one place.

Serving processes and workers record into these; each process (or the parent
of a group of processes) serves them on ``NUMREP_METRICS_PORT`` at ``/metrics``.
Where several processes share one port — ``numrep serve --processes N`` and a
Celery prefork worker — prometheus-client's multiprocess mode is used: the
processes write to files in ``PROMETHEUS_MULTIPROC_DIR`` and the process that
serves the port aggregates them. The variable must be set before this module is
first imported in the recording processes: ``serve --processes`` sets it for its
children, and the Kubernetes worker sets it in its environment.

Labels carry no personal data: methods, actions, verdict sources, results,
reasons and task names only, never a subject or a reporter.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

if TYPE_CHECKING:
    from numrep.config import Settings

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Lookups are answered in microseconds to milliseconds; imports and publications take seconds.
LATENCY_BUCKETS = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)

RPCS = Counter("numrep_rpcs", "gRPC calls finished, by method and status code.", ["method", "code"])
RPC_SECONDS = Histogram(
    "numrep_rpc_duration_seconds", "Duration of unary gRPC calls, by method.", ["method"], buckets=LATENCY_BUCKETS
)
LOOKUPS = Counter(
    "numrep_lookups",
    "Lookup answers (unary, batched and streamed), by method, action and verdict source.",
    ["method", "action", "source"],
)
FAILSAFE = Counter(
    "numrep_failsafe_answers",
    "Lookups answered from the last published rules because the store could not confirm a filter hit.",
    ["method"],
)
REPORTS = Counter(
    "numrep_reports", "Reports received, by result: accepted, duplicate, invalid, rate_limited.", ["result"]
)
CALL_RECORDS = Counter(
    "numrep_call_records", "Call records received, by result: accepted, duplicate, invalid.", ["result"]
)
REFUSALS = Counter(
    "numrep_refusals",
    "Calls or items refused to protect the platform, by reason "
    "(rate_limited, resource_exhausted, unauthenticated, unavailable).",
    ["reason"],
)
STORE_ERRORS = Counter("numrep_store_errors", "Store operations that failed, by component.", ["component"])
RULES_VERSION = Gauge("numrep_rules_version", "Rules version held by this serving process.", multiprocess_mode="all")
FILTER_VERSION = Gauge("numrep_filter_version", "Filter version held by this serving process.", multiprocess_mode="all")
PIPELINE_LAG = Gauge(
    "numrep_pipeline_lag_seconds",
    "Age of the oldest subject waiting to be rescored, when the rescorer last looked (0: none waiting).",
    multiprocess_mode="max",
)
TASK_SECONDS = Histogram(
    "numrep_task_duration_seconds", "Celery task run time, by task.", ["task"], buckets=TASK_BUCKETS
)
TASK_FAILURES = Counter("numrep_task_failures", "Celery task runs that raised, by task.", ["task"])
TASK_REDELIVERIES = Counter(
    "numrep_task_redeliveries",
    "Celery tasks received again after a worker died or timed out holding them, by task.",
    ["task"],
)

METRIC_NAMES = frozenset(
    {
        "numrep_rpcs_total",
        "numrep_rpc_duration_seconds",
        "numrep_lookups_total",
        "numrep_failsafe_answers_total",
        "numrep_reports_total",
        "numrep_call_records_total",
        "numrep_refusals_total",
        "numrep_store_errors_total",
        "numrep_rules_version",
        "numrep_filter_version",
        "numrep_pipeline_lag_seconds",
        "numrep_task_duration_seconds",
        "numrep_task_failures_total",
        "numrep_task_redeliveries_total",
    }
)
"""The series names exposed (counters with their ``_total``); the Grafana dashboard is checked against them."""


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def registry() -> CollectorRegistry:
    """What to serve: this process's metrics, or every process's when in multiprocess mode."""
    if not multiprocess():
        return DEFAULT_REGISTRY
    from prometheus_client import multiprocess as mp

    reg = CollectorRegistry()
    mp.MultiProcessCollector(reg)
    return reg


def serve_metrics(settings: Settings, port: int | None = None) -> int | None:
    """Serve ``/metrics`` on ``port`` (default: the configured one); the port, or None when metrics are off."""
    port = settings.metrics_port if port is None else port
    if port is None:
        return None
    server, _thread = start_http_server(port, addr=settings.metrics_host, registry=registry())
    bound = int(server.server_address[1])
    log.info("metrics served", extra={"address": f"{settings.metrics_host}:{bound}", "multiprocess": multiprocess()})
    return bound


@contextmanager
def multiprocess_dir() -> Iterator[str]:
    """A fresh multiprocess directory in the environment, for child processes started inside the block."""
    import shutil
    import tempfile

    given = os.environ.get(MULTIPROC_ENV)
    if given:
        yield given
        return
    path = tempfile.mkdtemp(prefix="numrep-metrics-")
    os.environ[MULTIPROC_ENV] = path
    try:
        yield path
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(path, ignore_errors=True)


def process_exited(pid: int) -> None:
    """Drop a finished process's live gauges (multiprocess mode)."""
    if multiprocess():
        from prometheus_client import multiprocess as mp

        mp.mark_process_dead(pid)
