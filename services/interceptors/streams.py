"""Long-lived calls may not starve the server: a cap per process, an idle timeout, and items per stream.

The sync gRPC server gives every call one thread of ``grpc_max_workers`` for
its whole life. A stream (``StreamLookup``, the ``Import*`` uploads,
``GetFilterSnapshot``, health ``Watch``, reflection) holds its thread for as
long as the client likes, so a few idle streams would leave no thread for
unary lookups and the health check, and Kubernetes would restart the pod.

- **Cap.** At most ``grpc_max_streams`` streams per process (``WatchRules``
  has its own cap, ``grpc_max_watch_streams``, in the rules servicer); beyond
  it a stream is refused at once with RESOURCE_EXHAUSTED. Together the two
  caps leave threads for unary calls (checked in ``Settings``).
- **Idle timeout.** A stream that waits on its client — for the next request,
  or for the client to take a response — longer than
  ``grpc_stream_idle_seconds`` is ended with DEADLINE_EXCEEDED and a message
  saying so. Time the server spends itself (``WatchRules`` waiting for a new
  rules version) is not idle.
- **Items.** A request stream answers at most ``grpc_stream_max_items``
  requests, then ends with RESOURCE_EXHAUSTED asking for a new stream, so one
  busy client cannot keep a slot forever.

A thread blocked reading a request cannot be woken from inside the handler,
so one watchdog thread ends idle calls by cancelling them with a status
(``grpc_call_cancel_with_status`` through grpcio's call object; where that is
not reachable, a plain cancel, which the client sees as CANCELLED).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc

log = logging.getLogger(__name__)

# WatchRules is capped by the rules servicer (its own refusal tells watchers to poll instead).
OWN_CAP = frozenset({"/numrep.v1.RulesService/WatchRules"})


class _Call:
    """One stream in progress: since when (if at all) it has been waiting on its client."""

    __slots__ = ("context", "method", "waiting_since", "items", "idled")

    def __init__(self, context: grpc.ServicerContext, method: str) -> None:
        self.context = context
        self.method = method
        self.waiting_since: float | None = None
        self.items = 0
        self.idled = False


def _cancel_with_status(context: grpc.ServicerContext, code: grpc.StatusCode, details: str) -> None:
    """End a call from another thread with ``code`` and ``details`` (the handler's thread may be blocked reading)."""
    call = getattr(getattr(context, "_rpc_event", None), "call", None)
    try:
        if call is not None:
            call.cancel(code.value[0], details)
            return
    except (TypeError, ValueError, AttributeError):  # a grpcio whose call object takes no status
        pass
    context.cancel()


class StreamLimits(grpc.ServerInterceptor):
    """Caps streaming calls, ends idle ones and bounds the requests one stream may send."""

    def __init__(
        self, max_streams: int, idle_seconds: float, max_items: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_streams = max_streams
        self.idle_seconds = idle_seconds
        self.max_items = max_items
        self._clock = clock
        self._slots = threading.BoundedSemaphore(max_streams)
        self._calls: dict[int, _Call] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="numrep-stream-watchdog", daemon=True)
        self._watchdog.start()

    def close(self) -> None:
        self._closed.set()

    @property
    def active(self) -> int:
        return len(self._calls)

    # ---- the watchdog -------------------------------------------------------
    def _watch(self) -> None:
        period = min(1.0, self.idle_seconds / 4)
        while not self._closed.wait(period):
            now = self._clock()
            with self._lock:
                idle = [
                    c
                    for c in self._calls.values()
                    if c.waiting_since is not None and now - c.waiting_since > self.idle_seconds and not c.idled
                ]
                for c in idle:
                    c.idled = True
            for c in idle:
                log.info("idle stream ended", extra={"method": c.method, "idle_seconds": self.idle_seconds})
                _cancel_with_status(
                    c.context,
                    grpc.StatusCode.DEADLINE_EXCEEDED,
                    f"stream idle for more than {self.idle_seconds:g} s (waiting on the client): "
                    "closed; open a new stream when there is more to send",
                )

    # ---- wrapping -----------------------------------------------------------
    def _enter(self, context: grpc.ServicerContext, method: str, capped: bool) -> _Call:
        if capped and not self._slots.acquire(blocking=False):
            context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"this server already serves {self.max_streams} streams; retry later or on another server "
                "(unary calls are still served)",
            )
        call = _Call(context, method)
        with self._lock:
            self._calls[id(call)] = call
        return call

    def _leave(self, call: _Call, capped: bool) -> None:
        with self._lock:
            self._calls.pop(id(call), None)
        if capped:
            self._slots.release()

    def _requests(self, call: _Call, requests: Iterator[Any]) -> Iterator[Any]:
        """The client's requests, counted, with the wait for each one marked as idle."""
        while True:
            call.waiting_since = self._clock()
            try:
                req = next(requests)
            except StopIteration:
                return
            finally:
                call.waiting_since = None
            call.items += 1
            if call.items > self.max_items:
                call.context.abort(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"a stream takes at most {self.max_items} requests (those before were "
                    "served): open a new stream for the rest",
                )
            yield req

    def _responses(self, call: _Call, responses: Iterator[Any]) -> Iterator[Any]:
        """The handler's responses, with the time the client takes to accept each one marked as idle."""
        for resp in responses:
            call.waiting_since = self._clock()
            yield resp
            call.waiting_since = None

    def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Any], details: grpc.HandlerCallDetails
    ) -> Any:
        handler = continuation(details)
        if handler is None or not (handler.request_streaming or handler.response_streaming):
            return handler
        method = details.method
        capped = method not in OWN_CAP

        if handler.stream_stream:
            inner_ss = handler.stream_stream

            def stream_stream(requests: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
                call = self._enter(context, method, capped)
                try:
                    yield from self._responses(call, inner_ss(self._requests(call, requests), context))
                finally:
                    self._leave(call, capped)

            return handler._replace(stream_stream=stream_stream)
        if handler.stream_unary:
            inner_su = handler.stream_unary

            def stream_unary(requests: Iterator[Any], context: grpc.ServicerContext) -> Any:
                call = self._enter(context, method, capped)
                try:
                    return inner_su(self._requests(call, requests), context)
                finally:
                    self._leave(call, capped)

            return handler._replace(stream_unary=stream_unary)
        inner_us = handler.unary_stream

        def unary_stream(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            call = self._enter(context, method, capped)
            try:
                yield from self._responses(call, inner_us(request, context))
            finally:
                self._leave(call, capped)

        return handler._replace(unary_stream=unary_stream)
