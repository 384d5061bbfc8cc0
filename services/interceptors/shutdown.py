"""The last phase of a graceful shutdown: refuse new calls with a retryable status.

After the drain period, new calls are answered UNAVAILABLE ("retry
elsewhere", which the SDK's retry policy does) by the application itself for
a moment, so that calls already queued inside gRPC get an answer instead of
being cancelled when the server stops. In-flight calls are not touched.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import grpc

from services.interceptors.auth import denied

HEALTH = "/grpc.health.v1.Health/"


class ShutdownInterceptor(grpc.ServerInterceptor):
    def __init__(self, refusing: threading.Event) -> None:
        self.refusing = refusing

    def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Any], details: grpc.HandlerCallDetails
    ) -> Any:
        handler = continuation(details)
        if handler is None or not self.refusing.is_set() or details.method.startswith(HEALTH):
            return handler
        return denied(handler, grpc.StatusCode.UNAVAILABLE, "server shutting down: retry on another server")
