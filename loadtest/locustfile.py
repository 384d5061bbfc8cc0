"""Locust load test of numrep over gRPC (loopback targets only).

    locust -f loadtest/locustfile.py --headless -u 50 -r 10 --run-time 1m --host 127.0.0.1:50051

Scenarios, weighted like real traffic:
* ``SwitchUser`` — an operator's call switch: unary Lookup and BatchLookup of
  mostly clean numbers, about 1 % flagged, a few malformed (INVALID_ARGUMENT
  is the expected answer for those and counts as a success).
* ``ReportBurstUser`` — an app backend sending report bursts with SubmitReports.
* ``RulesSubscriberUser`` — an operator following the rules feed with GetRules,
  honouring ``min_wait``.

Every RPC goes through ``LocustInterceptor``, which reports it to Locust's
request event (name = the gRPC method), so the usual statistics, CSV output
and distributed runs (``--master`` / ``--worker``) work unchanged.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import grpc
import grpc.experimental.gevent as grpc_gevent
from locust import User, between, events, task
from locust.exception import LocustError

from numrep.v1 import (
    common_pb2,
    report_pb2,
    report_pb2_grpc,
    reputation_pb2,
    reputation_pb2_grpc,
    rules_pb2,
    rules_pb2_grpc,
)

grpc_gevent.init_gevent()  # let gRPC cooperate with Locust's gevent loop

EXPECTED = {grpc.StatusCode.INVALID_ARGUMENT}  # what malformed input must get: a success for the scenario
MALFORMED = ["abc", "1380013800012345", "+", "\u200f13800138000", "13800138000' OR '1'='1"]


class LocustInterceptor(grpc.UnaryUnaryClientInterceptor):
    """Reports every unary RPC to Locust's request event, with its latency and outcome."""

    def __init__(self, environment: Any) -> None:
        self.env = environment

    def intercept_unary_unary(
        self, continuation: Callable, client_call_details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        start = time.perf_counter()
        exception: BaseException | None = None
        response = continuation(client_call_details, request)
        try:
            result = response.result()
            length = result.ByteSize()
        except grpc.RpcError as exc:
            length = 0
            if exc.code() not in EXPECTED:
                exception = exc
        self.env.events.request.fire(
            request_type="grpc",
            name=client_call_details.method,
            response_time=(time.perf_counter() - start) * 1000,
            response_length=length,
            exception=exception,
            context={},
            response=response,
        )
        return response


class GrpcUser(User):
    """A Locust user with a gRPC channel to ``host`` (host:port) whose calls are all reported."""

    abstract = True
    stub_classes: dict[str, Any] = {}

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        if not self.host:
            raise LocustError("set --host to the numrep gRPC address, e.g. 127.0.0.1:50051")
        target = self.host.removeprefix("http://").removeprefix("grpc://")
        self._channel = grpc.intercept_channel(grpc.insecure_channel(target), LocustInterceptor(environment))
        for name, stub_class in self.stub_classes.items():
            setattr(self, name, stub_class(self._channel))

    def on_stop(self) -> None:
        self._channel.close()


FLAGGED: list[str] = []


@events.test_start.add_listener
def _load_flagged(environment: Any, **_kw: Any) -> None:
    """Take a sample of flagged subjects from the rules feed, for the ~1 % flagged lookups."""
    if not environment.host:
        return
    with grpc.insecure_channel(environment.host.removeprefix("http://").removeprefix("grpc://")) as ch:
        try:
            update = rules_pb2_grpc.RulesServiceStub(ch).GetRules(
                rules_pb2.GetRulesRequest(since_version=0), timeout=10
            )
        except grpc.RpcError:
            return
    FLAGGED[:] = [r.subject for r in update.added if r.kind in (rules_pb2.RULE_KIND_EXACT, rules_pb2.RULE_KIND_PORT)][
        :1000
    ]


def subject() -> str:
    roll = random.random()
    if roll < 0.01 and FLAGGED:
        return random.choice(FLAGGED)
    if roll < 0.015:
        return random.choice(MALFORMED)
    return f"1{random.choice('38')}{random.randrange(10**9):09d}"  # 13x/18x: always valid mobile blocks


class SwitchUser(GrpcUser):
    weight = 10
    wait_time = between(0.001, 0.01)
    stub_classes = {"reputation": reputation_pb2_grpc.ReputationServiceStub}
    reputation: reputation_pb2_grpc.ReputationServiceStub

    @task(10)
    def lookup(self) -> None:
        try:
            self.reputation.Lookup(
                reputation_pb2.LookupRequest(subject=subject(), channel=common_pb2.CHANNEL_VOICE), timeout=1
            )
        except grpc.RpcError as exc:
            if exc.code() not in EXPECTED:  # malformed input is meant to be refused; anything else is a failure
                raise

    @task(1)
    def batch_lookup(self) -> None:
        reqs = [reputation_pb2.LookupRequest(subject=subject()) for _ in range(100)]
        self.reputation.BatchLookup(reputation_pb2.BatchLookupRequest(requests=reqs), timeout=2)


class ReportBurstUser(GrpcUser):
    weight = 1
    wait_time = between(0.5, 2)
    stub_classes = {"reports": report_pb2_grpc.ReportServiceStub}
    reports: report_pb2_grpc.ReportServiceStub

    @task
    def burst(self) -> None:
        target = f"170{random.randrange(10**8):08d}"
        batch = [
            report_pb2.Report(
                report_id=str(uuid.uuid4()),
                reporter_id=f"load-{uuid.uuid4().hex[:8]}",
                subject=target,
                category=common_pb2.CATEGORY_LOANS_FINANCE,
            )
            for _ in range(20)
        ]
        self.reports.SubmitReports(report_pb2.SubmitReportsRequest(reports=batch), timeout=5)


class RulesSubscriberUser(GrpcUser):
    weight = 1
    stub_classes = {"rules": rules_pb2_grpc.RulesServiceStub}
    rules: rules_pb2_grpc.RulesServiceStub
    version = 0
    min_wait = 1.0

    def wait_time(self) -> float:  # type: ignore[override]
        return self.min_wait

    @task
    def poll(self) -> None:
        update = self.rules.GetRules(rules_pb2.GetRulesRequest(since_version=self.version), timeout=5)
        self.version = update.version
        self.min_wait = max(0.2, update.min_wait.ToTimedelta().total_seconds())
