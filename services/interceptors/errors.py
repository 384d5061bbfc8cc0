"""Translate domain errors into gRPC statuses, in one place.

Servicers raise :class:`numrep.errors.NumrepError` subclasses; this
interceptor aborts the call with the error's status and message. Anything
else is logged with its traceback and answered INTERNAL without details, so
no internal state (or personal data) leaks to callers. A call whose client
has gone (cancelled, or ended by the server's idle timeout) is no error of
the server's: it is logged at DEBUG, without a traceback, so that clients
cannot flood the log by cancelling streams.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from numrep.errors import NumrepError
from services.interceptors import wrap_handler

log = logging.getLogger(__name__)


def _status(err: NumrepError) -> grpc.StatusCode:
    return getattr(grpc.StatusCode, err.status, grpc.StatusCode.INTERNAL)


def _handle(exc: BaseException, context: grpc.ServicerContext, method: str) -> None:
    if isinstance(exc, NumrepError):
        context.abort(_status(exc), exc.message)
    log.exception("unhandled error in %s", method)
    context.abort(grpc.StatusCode.INTERNAL, "internal error")


class ErrorInterceptor(grpc.ServerInterceptor):
    """Wraps every handler so that NumrepError becomes its gRPC status."""

    def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Any], details: grpc.HandlerCallDetails
    ) -> Any:
        handler = continuation(details)
        if handler is None:
            return None
        method = details.method

        def unary(behaviour: Callable) -> Callable:
            def wrapped(request: Any, context: grpc.ServicerContext) -> Any:
                try:
                    return behaviour(request, context)
                except Exception as exc:
                    if _is_abort(exc) or _client_gone(exc, context, method):
                        raise
                    _handle(exc, context, method)

            return wrapped

        def streaming(behaviour: Callable) -> Callable:
            def wrapped(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                try:
                    yield from behaviour(request, context)
                except Exception as exc:
                    if _is_abort(exc) or _client_gone(exc, context, method):
                        raise
                    _handle(exc, context, method)

            return wrapped

        return wrap_handler(handler, unary, streaming)


def _client_gone(exc: BaseException, context: grpc.ServicerContext, method: str) -> bool:
    """True for the error gRPC raises in a handler reading from (or writing to) a call that has ended.

    gRPC itself stays quiet about that error once it reaches it, so it is re-raised as it is.
    """
    if isinstance(exc, grpc.RpcError) and not context.is_active():
        log.debug("call ended by the client", extra={"method": method})
        return True
    return False


def _is_abort(exc: BaseException) -> bool:
    # ServicerContext.abort() signals by raising a bare, argument-less Exception.
    return type(exc) is Exception and not exc.args
