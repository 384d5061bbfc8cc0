"""API-key authentication and scope checks for every call but health and reflection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

from numrep.auth import Authenticator, api_key_in
from numrep.errors import NumrepError


def denied(handler: grpc.RpcMethodHandler, code: grpc.StatusCode, message: str) -> grpc.RpcMethodHandler:
    """The same kind of handler, answering ``code`` without running the method."""

    def abort(_request: Any, context: grpc.ServicerContext) -> Any:
        context.abort(code, message)

    if handler.unary_unary:
        return handler._replace(unary_unary=abort)
    if handler.unary_stream:
        return handler._replace(unary_stream=abort)
    if handler.stream_unary:
        return handler._replace(stream_unary=abort)
    return handler._replace(stream_stream=abort)


class AuthInterceptor(grpc.ServerInterceptor):
    def __init__(self, authenticator: Authenticator) -> None:
        self.auth = authenticator

    def intercept_service(self, continuation: Callable[[grpc.HandlerCallDetails], Any], details: grpc.HandlerCallDetails) -> Any:
        handler = continuation(details)
        if handler is None:
            return None
        try:
            self.auth.check(api_key_in(details.invocation_metadata), details.method)
        except NumrepError as exc:
            return denied(handler, getattr(grpc.StatusCode, exc.status), exc.message)
        return handler
