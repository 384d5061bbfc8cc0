"""Prometheus metrics: the counters move as calls are made, scraped over HTTP from /metrics."""

from __future__ import annotations

import json
import logging
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from numrep import metrics
from numrep.config import Settings
from numrep.logs import JsonFormatter
from numrep.sdk.client import Client
from numrep.store.base import Store
from numrep.v1 import report_pb2, reputation_pb2
from services.server import Server
from tests.unit.services.helpers import block


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        assert resp.status == 200
        text = resp.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def metrics_port(settings: Settings) -> int:
    port = metrics.serve_metrics(settings, port=0)
    assert port
    return port


@pytest.fixture
def served(sqlite_store: Store, settings: Settings) -> Iterator[tuple[Server, Client]]:
    srv = Server(
        settings.model_copy(update={"refresh_interval_seconds": 0.05}), store=sqlite_store, nudge=lambda: None
    ).start()
    with Client(srv.address, timeout=10) as c:
        c.wait_ready()
        yield srv, c
    srv.stop(grace=1)


def test_metrics_are_off_unless_a_port_is_set(settings: Settings) -> None:
    assert settings.metrics_port is None
    assert metrics.serve_metrics(settings) is None


def test_counters_move_as_calls_are_made(served: tuple[Server, Client], metrics_port: int) -> None:
    server, c = served
    before = scrape(metrics_port)

    c.lookup("13912345678")
    c.lookup("95588")  # protected
    c.batch_lookup(["13912345670", "13912345671"])
    with pytest.raises(grpc.RpcError) as err:
        c.lookup("12")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    rid = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"metrics/{i}")) for i in range(3)]
    c.report("17012345678", "reporter-a", "fraud", report_id=rid[0])
    c.report("17012345678", "reporter-a", "fraud", report_id=rid[0])  # the same id again
    results = c.submit_reports(
        [
            report_pb2.Report(report_id=rid[1], reporter_id="reporter-b", subject="17012345679"),
            report_pb2.Report(report_id=rid[2], reporter_id="reporter-c", subject="not a number"),
        ]
    )
    assert [r.accepted for r in results] == [True, False]
    at = datetime.now(UTC) - timedelta(hours=1)
    c.submit_call_records(
        [c.call_record("cr-1", "17012345678", "13900001111", at), c.call_record("cr-2", "bad", "13900001111", at)]
    )

    after = scrape(metrics_port)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("numrep_lookups_total", method="ReputationService/Lookup", action="allow", source="filter") == 1
    assert moved("numrep_lookups_total", method="ReputationService/Lookup", action="allow", source="protected") == 1
    assert moved("numrep_lookups_total", method="ReputationService/BatchLookup", action="allow", source="filter") == 2
    assert moved("numrep_rpcs_total", method="ReputationService/Lookup", code="OK") == 2
    assert moved("numrep_rpcs_total", method="ReputationService/Lookup", code="INVALID_ARGUMENT") == 1
    assert moved("numrep_rpc_duration_seconds_count", method="ReputationService/Lookup") == 3
    assert moved("numrep_reports_total", result="accepted") == 2
    assert moved("numrep_reports_total", result="duplicate") == 1
    assert moved("numrep_reports_total", result="invalid") == 1
    assert moved("numrep_call_records_total", result="accepted") == 1
    assert moved("numrep_call_records_total", result="invalid") == 1
    assert value(after, "numrep_rules_version") == server.engine.version


def test_store_errors_and_failsafe_answers_are_counted(served: tuple[Server, Client], metrics_port: int) -> None:
    server, c = served
    block(c, server)  # a number the filter and the rules both hold
    server.engine.refresh()
    before = scrape(metrics_port)
    server.engine._cache.clear()

    def broken(*_a: object, **_k: object) -> None:
        raise OSError("store down")

    server.store.get_reputation = broken  # type: ignore[method-assign]  # the store fails under the serving process
    answer = c.lookup("17012345678")
    after = scrape(metrics_port)
    assert answer.source == reputation_pb2.VERDICT_SOURCE_PUBLISHED_RULES
    assert (
        value(after, "numrep_failsafe_answers_total", method="ReputationService/Lookup")
        - value(before, "numrep_failsafe_answers_total", method="ReputationService/Lookup")
        == 1
    )
    assert value(after, "numrep_store_errors_total", component="lookup") > value(
        before, "numrep_store_errors_total", component="lookup"
    )


def test_json_logs_are_one_object_a_line_with_the_fields() -> None:
    record = logging.LogRecord("numrep.x", logging.WARNING, __file__, 1, "rules loaded", (), None)
    record.version = 7
    line = JsonFormatter().format(record)
    out = json.loads(line)
    assert (
        out["msg"] == "rules loaded"
        and out["level"] == "WARNING"
        and out["version"] == 7
        and out["logger"] == "numrep.x"
    )
    assert "\n" not in line
