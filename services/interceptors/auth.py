"""API-key authentication and scope checks for every call but health and reflection.

The check runs inside the call (where the caller's address is known), before
the method and before any other interceptor takes a resource for it, so that
failed authentications can be limited per peer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

from numrep.auth import Authenticator, allowed_scopes, api_key_in, peer_label
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

    def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Any], details: grpc.HandlerCallDetails
    ) -> Any:
        handler = continuation(details)
        if handler is None or not allowed_scopes(details.method):
            return handler
        raw, method = api_key_in(details.invocation_metadata), details.method

        def checked(
            behaviour: Callable[[Any, grpc.ServicerContext], Any],
        ) -> Callable[[Any, grpc.ServicerContext], Any]:
            def wrapped(request: Any, context: grpc.ServicerContext) -> Any:
                try:
                    self.auth.check(raw, method, peer_label(context.peer()))
                except NumrepError as exc:
                    context.abort(getattr(grpc.StatusCode, exc.status), exc.message)
                return behaviour(request, context)  # a stream's iterator is returned as it is

            return wrapped

        for kind in ("unary_unary", "unary_stream", "stream_unary", "stream_stream"):
            behaviour = getattr(handler, kind)
            if behaviour is not None:
                return handler._replace(**{kind: checked(behaviour)})
        return handler
