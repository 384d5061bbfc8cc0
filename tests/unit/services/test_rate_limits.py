"""Report rate limits per reporter and per operator: RESOURCE_EXHAUSTED, nothing stored, nothing leaked."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import grpc
import pytest

from numrep import auth
from numrep.config import Settings
from numrep.errors import RateLimited
from numrep.models import Scope
from numrep.ratelimit import TokenBuckets
from numrep.sdk.client import Client
from numrep.store.base import Store
from numrep.v1 import report_pb2
from services.server import Server


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    clock = FakeClock()
    b = TokenBuckets(rate=0.5, burst=3, what="reporter", clock=clock)
    for _ in range(3):
        b.take("h1:a")
    with pytest.raises(RateLimited) as exc:
        b.take("h1:a")
    assert exc.value.retry_after == pytest.approx(2.0) and "retry in 2.0 s" in exc.value.message
    b.take("h1:b")  # another key has its own bucket
    clock.now += 2.0
    b.take("h1:a")  # one token back after 1/rate seconds
    with pytest.raises(RateLimited):
        b.take("h1:a")
    with pytest.raises(RateLimited, match="send at most 3 per call"):
        b.take("h1:c", 4)  # more than the burst can ever hold
    clock.now += 100
    b.take("h1:a", 3)  # refills up to the burst, not beyond
    with pytest.raises(RateLimited):
        b.take("h1:a")


def test_idle_buckets_are_swept() -> None:
    clock = FakeClock()
    b = TokenBuckets(rate=1.0, burst=2, what="reporter", clock=clock, max_keys=10)
    for i in range(10):
        b.take(f"k{i}")
    clock.now += 5  # all refilled
    b.take("k-new")  # the 11th key triggers a sweep of refilled buckets
    assert len(b._buckets) == 1


@pytest.fixture
def limited(settings: Settings, store: Store) -> Iterator[Server]:
    s = settings.model_copy(
        update={
            "reporter_reports_per_minute": 1.0,
            "reporter_report_burst": 2,
            "operator_reports_per_second": 0.01,
            "operator_report_burst": 8,
        }
    )
    srv = Server(s, store=store, nudge=lambda: None).start()
    yield srv
    srv.stop(grace=1)


def test_a_reporter_over_its_limit_gets_resource_exhausted_and_nothing_is_stored(limited: Server) -> None:
    store = limited.store
    with Client(limited.address, timeout=5) as c:
        c.report("13800138000", "reporter-13912345678")
        c.report("13800138001", "reporter-13912345678")
        before = store.count_reports()
        with pytest.raises(grpc.RpcError) as exc:
            c.report("13800138002", "reporter-13912345678")
        assert exc.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        details = exc.value.details() or ""
        assert "rate limit of the reporter" in details and "retry in" in details
        assert "13912345678" not in details  # the raw reporter id never comes back
        assert store.count_reports() == before
        c.report("13800138002", "another-reporter")  # others are not affected


def test_an_operator_over_its_limit_is_refused_whole(limited: Server) -> None:
    store = limited.store
    msgs = [
        report_pb2.Report(report_id=str(uuid.uuid4()), reporter_id=f"r{i}", subject=f"1380013{i:04d}") for i in range(6)
    ]
    with Client(limited.address, timeout=5) as c:
        assert all(r.accepted for r in c.submit_reports(msgs))
        before = store.count_reports()
        more = [
            report_pb2.Report(report_id=str(uuid.uuid4()), reporter_id=f"s{i}", subject=f"1390013{i:04d}")
            for i in range(3)
        ]
        with pytest.raises(grpc.RpcError) as exc:  # 6 + 3 > the operator's burst of 8: none of the 3 is taken
            c.submit_reports(more)
        assert exc.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "rate limit of the operator" in (exc.value.details() or "")
        assert store.count_reports() == before
    # another operator (its own API key) has its own budget
    key, _ = auth.create_key(store, limited.settings, "China Unicom complaint desk", [Scope.REPORT])
    with Client(limited.address, timeout=5, api_key=key) as c:
        assert all(r.accepted for r in c.submit_reports(more))


def test_in_a_batch_a_reporter_over_its_limit_is_rejected_as_retryable(limited: Server) -> None:
    msgs = [
        report_pb2.Report(report_id=str(uuid.uuid4()), reporter_id="busy", subject=f"1380013{i:04d}") for i in range(3)
    ]
    msgs.append(report_pb2.Report(report_id=str(uuid.uuid4()), reporter_id="calm", subject="not a number"))
    with Client(limited.address, timeout=5) as c:
        results = c.submit_reports(msgs)
    assert [(r.accepted, r.retryable) for r in results] == [(True, False), (True, False), (False, True), (False, False)]
    assert "rate limit of the reporter" in results[2].error and "invalid report: subject" in results[3].error


def test_sweeping_busy_buckets_is_amortised() -> None:
    clock = FakeClock()
    b = TokenBuckets(rate=0.001, burst=2, what="reporter", clock=clock, max_keys=10)
    for i in range(11):
        b.take(f"k{i}")  # none refills: the sweep at the 11th keeps them all
    assert len(b._buckets) == 11 and b._sweep_at == 22
    for i in range(11, 22):
        b.take(f"k{i}")
    assert len(b._buckets) == 22  # no sweep until more than 22 are held
