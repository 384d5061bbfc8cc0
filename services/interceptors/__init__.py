"""Server interceptors, one concern per module."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Wrap = Callable[[Callable[..., Any]], Callable[..., Any]]


def wrap_handler(handler: Any, unary: Wrap, streaming: Wrap) -> Any:
    """``handler`` with its behaviour wrapped: ``unary`` for calls that answer once, ``streaming`` for those that stream."""
    if handler.unary_unary:
        return handler._replace(unary_unary=unary(handler.unary_unary))
    if handler.unary_stream:
        return handler._replace(unary_stream=streaming(handler.unary_stream))
    if handler.stream_unary:
        return handler._replace(stream_unary=unary(handler.stream_unary))
    if handler.stream_stream:
        return handler._replace(stream_stream=streaming(handler.stream_stream))
    return handler
