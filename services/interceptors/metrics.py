"""Count and time every gRPC call, and what the answers say, into :mod:`numrep.metrics`.

The outermost interceptor, so it sees the final status whatever the inner
ones (auth, errors) decided. Besides calls by method and status, it reads the
answers it passes on: lookup verdicts by action and verdict source, fail-safe
answers, and per-item results of report and call-record intake. Nothing it
records names a subject or a reporter.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import grpc

from numrep import metrics
from numrep.v1 import callrecords_pb2, common_pb2, report_pb2, reputation_pb2
from services.interceptors import wrap_handler

_ACTIONS = {v.number: v.name.removeprefix("ACTION_").lower() for v in common_pb2.Action.DESCRIPTOR.values}
_SOURCES = {
    v.number: v.name.removeprefix("VERDICT_SOURCE_").lower() for v in reputation_pb2.VerdictSource.DESCRIPTOR.values
}
_FAILSAFE = reputation_pb2.VERDICT_SOURCE_PUBLISHED_RULES
_REFUSED = {
    grpc.StatusCode.RESOURCE_EXHAUSTED: "resource_exhausted",
    grpc.StatusCode.UNAUTHENTICATED: "unauthenticated",
    grpc.StatusCode.UNAVAILABLE: "unavailable",
}


def _short(method: str) -> str:
    """``/numrep.v1.ReputationService/Lookup`` -> ``ReputationService/Lookup``."""
    service, _, name = method.rpartition("/")
    return f"{service.rsplit('.', 1)[-1]}/{name}"


def _lookups(method: str, answers: Iterable[reputation_pb2.LookupResponse]) -> None:
    for a in answers:
        if a.subject or a.action:  # a per-item error carries neither
            metrics.LOOKUPS.labels(method, _ACTIONS.get(a.action, "unknown"), _SOURCES.get(a.source, "unknown")).inc()
            if a.source == _FAILSAFE:
                metrics.FAILSAFE.labels(method).inc()


def _intake(results: Iterable[Any], counter: Any) -> None:
    for r in results:
        if r.accepted:
            counter.labels("duplicate" if r.duplicate else "accepted").inc()
        elif getattr(r, "retryable", False):
            counter.labels("rate_limited").inc()
            metrics.REFUSALS.labels("rate_limited").inc()
        else:
            counter.labels("invalid").inc()


def observe_answer(method: str, answer: Any) -> None:
    """Record what one response message says (lookups and intake results)."""
    if isinstance(answer, reputation_pb2.LookupResponse):
        _lookups(method, (answer,))
    elif isinstance(answer, reputation_pb2.BatchLookupResponse):
        _lookups(method, answer.results)
    elif isinstance(answer, report_pb2.SubmitReportResponse):
        metrics.REPORTS.labels("duplicate" if answer.duplicate else "accepted").inc()
    elif isinstance(answer, report_pb2.SubmitReportsResponse):
        _intake(answer.results, metrics.REPORTS)
    elif isinstance(
        answer, callrecords_pb2.SubmitCallRecordsResponse
    ):  # totals: errors_only answers list no accepted ones
        for result, n in (
            ("accepted", answer.accepted),
            ("duplicate", answer.duplicates),
            ("invalid", answer.rejected),
        ):
            if n:
                metrics.CALL_RECORDS.labels(result).inc(n)


def _finished(method: str, context: grpc.ServicerContext, otherwise: grpc.StatusCode) -> None:
    code = context.code() or otherwise  # set by abort() or set_code(); else how the handler ended
    metrics.RPCS.labels(method, code.name).inc()
    if code in _REFUSED:
        metrics.REFUSALS.labels(_REFUSED[code]).inc()
    if code == grpc.StatusCode.INVALID_ARGUMENT and method == "ReportService/SubmitReport":
        metrics.REPORTS.labels("invalid").inc()
    elif code == grpc.StatusCode.RESOURCE_EXHAUSTED and method == "ReportService/SubmitReport":
        metrics.REPORTS.labels("rate_limited").inc()


class MetricsInterceptor(grpc.ServerInterceptor):
    def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Any], details: grpc.HandlerCallDetails
    ) -> Any:
        handler = continuation(details)
        if handler is None:
            return None
        method = _short(details.method)
        timer = metrics.RPC_SECONDS.labels(method)

        def unary(behaviour: Callable) -> Callable:
            def wrapped(request: Any, context: grpc.ServicerContext) -> Any:
                start = time.perf_counter()
                ended = grpc.StatusCode.UNKNOWN
                try:
                    answer = behaviour(request, context)
                    ended = grpc.StatusCode.OK
                    observe_answer(method, answer)
                    return answer
                finally:
                    timer.observe(time.perf_counter() - start)
                    _finished(method, context, ended)

            return wrapped

        def streaming(behaviour: Callable) -> Callable:
            def wrapped(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                ended = grpc.StatusCode.UNKNOWN
                try:
                    for answer in behaviour(request, context):
                        observe_answer(method, answer)
                        yield answer
                    ended = grpc.StatusCode.OK
                except GeneratorExit:  # the client went away mid-stream
                    ended = grpc.StatusCode.CANCELLED
                    raise
                finally:
                    _finished(method, context, ended)

            return wrapped

        return wrap_handler(handler, unary, streaming)
