"""Requests that do not decode are the caller's error: INVALID_ARGUMENT naming the field, not INTERNAL.

gRPC Python answers INTERNAL ("Exception deserializing request!") when a
request message does not parse, e.g. a ``string`` field carrying invalid
UTF-8. This interceptor decodes requests itself; a message that does not
parse reaches the servicer as :class:`Undecodable`, which raises a
ValidationError naming the first string field with invalid UTF-8 (walking the
wire format against the message's descriptor) — or the message type when the
bytes are malformed otherwise. It must sit inside ErrorInterceptor, which
translates the ValidationError.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError

from numrep.errors import ValidationError


@dataclass(frozen=True, slots=True)
class Undecodable:
    """Stands for a request message that did not parse; ``reason`` says why."""

    reason: str

    def reject(self) -> ValidationError:
        return ValidationError(self.reason)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]  # an IndexError here: truncated, handled by the caller
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def bad_utf8_field(data: bytes, descriptor: Descriptor, prefix: str = "") -> str | None:
    """The dotted name of the first string field whose bytes are not UTF-8, or None."""
    pos = 0
    try:
        while pos < len(data):
            key, pos = _varint(data, pos)
            number, wire = key >> 3, key & 7
            if wire == 0:
                _, pos = _varint(data, pos)
            elif wire == 1:
                pos += 8
            elif wire == 5:
                pos += 4
            elif wire == 2:
                size, pos = _varint(data, pos)
                chunk, pos = data[pos : pos + size], pos + size
                field = descriptor.fields_by_number.get(number)
                if field is None:
                    continue
                name = prefix + field.name
                if field.type == FieldDescriptor.TYPE_STRING:
                    try:
                        chunk.decode("utf-8")
                    except UnicodeDecodeError:
                        return name
                elif field.type == FieldDescriptor.TYPE_MESSAGE:
                    if (inner := bad_utf8_field(chunk, field.message_type, name + ".")) is not None:
                        return inner
            else:
                return None  # groups or a bad wire type: malformed, not a UTF-8 problem
    except (IndexError, ValueError):
        return None
    return None


def safe_deserializer(deserialize: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    message_class = getattr(deserialize, "__self__", None)
    descriptor: Descriptor | None = getattr(message_class, "DESCRIPTOR", None)

    def decode(data: bytes) -> Any:
        try:
            return deserialize(data)
        except DecodeError:
            if descriptor is None:
                return Undecodable("request: malformed message")
            if (field := bad_utf8_field(data, descriptor)) is not None:
                return Undecodable(f"{field}: not valid UTF-8")
            return Undecodable(f"request: malformed {descriptor.full_name} message")

    return decode


def _checked(requests: Iterator[Any]) -> Iterator[Any]:
    for request in requests:
        if isinstance(request, Undecodable):
            raise request.reject()
        yield request


class DecodeInterceptor(grpc.ServerInterceptor):
    """Decodes requests so that undecodable ones are INVALID_ARGUMENT (via ErrorInterceptor)."""

    def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Any], details: grpc.HandlerCallDetails
    ) -> Any:
        handler = continuation(details)
        if handler is None or handler.request_deserializer is None:
            return handler
        decode = safe_deserializer(handler.request_deserializer)

        def unary(behaviour: Callable) -> Callable:
            def wrapped(request: Any, context: grpc.ServicerContext) -> Any:
                if isinstance(request, Undecodable):
                    raise request.reject()
                return behaviour(request, context)

            return wrapped

        def unary_streaming(behaviour: Callable) -> Callable:
            def wrapped(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                if isinstance(request, Undecodable):
                    raise request.reject()
                yield from behaviour(request, context)

            return wrapped

        def stream_in(behaviour: Callable) -> Callable:
            def wrapped(requests: Iterator[Any], context: grpc.ServicerContext) -> Any:
                return behaviour(_checked(requests), context)

            return wrapped

        if handler.unary_unary:
            return handler._replace(request_deserializer=decode, unary_unary=unary(handler.unary_unary))
        if handler.unary_stream:
            return handler._replace(request_deserializer=decode, unary_stream=unary_streaming(handler.unary_stream))
        if handler.stream_unary:
            return handler._replace(request_deserializer=decode, stream_unary=stream_in(handler.stream_unary))
        if handler.stream_stream:
            return handler._replace(request_deserializer=decode, stream_stream=stream_in(handler.stream_stream))
        return handler
