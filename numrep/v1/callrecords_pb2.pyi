import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from numrep.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CallRecord(_message.Message):
    __slots__ = ("record_id", "caller", "callee", "channel", "start_time", "ring_ms", "talk_seconds", "international")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    CALLEE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    RING_MS_FIELD_NUMBER: _ClassVar[int]
    TALK_SECONDS_FIELD_NUMBER: _ClassVar[int]
    INTERNATIONAL_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    caller: str
    callee: str
    channel: _common_pb2.Channel
    start_time: _timestamp_pb2.Timestamp
    ring_ms: int
    talk_seconds: int
    international: bool
    def __init__(self, record_id: _Optional[str] = ..., caller: _Optional[str] = ..., callee: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ring_ms: _Optional[int] = ..., talk_seconds: _Optional[int] = ..., international: _Optional[bool] = ...) -> None: ...

class SubmitCallRecordsRequest(_message.Message):
    __slots__ = ("records", "errors_only")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_ONLY_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[CallRecord]
    errors_only: bool
    def __init__(self, records: _Optional[_Iterable[_Union[CallRecord, _Mapping]]] = ..., errors_only: _Optional[bool] = ...) -> None: ...

class CallRecordResult(_message.Message):
    __slots__ = ("record_id", "accepted", "duplicate", "error", "index")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    accepted: bool
    duplicate: bool
    error: str
    index: int
    def __init__(self, record_id: _Optional[str] = ..., accepted: _Optional[bool] = ..., duplicate: _Optional[bool] = ..., error: _Optional[str] = ..., index: _Optional[int] = ...) -> None: ...

class SubmitCallRecordsResponse(_message.Message):
    __slots__ = ("results", "accepted", "duplicates", "rejected")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[CallRecordResult]
    accepted: int
    duplicates: int
    rejected: int
    def __init__(self, results: _Optional[_Iterable[_Union[CallRecordResult, _Mapping]]] = ..., accepted: _Optional[int] = ..., duplicates: _Optional[int] = ..., rejected: _Optional[int] = ...) -> None: ...

class CallAggregate(_message.Message):
    __slots__ = ("caller", "channel", "hour", "calls", "answered", "short_calls", "ring_once_calls", "international_calls", "callee_sketch", "callee_prefix_sketch")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    HOUR_FIELD_NUMBER: _ClassVar[int]
    CALLS_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_FIELD_NUMBER: _ClassVar[int]
    SHORT_CALLS_FIELD_NUMBER: _ClassVar[int]
    RING_ONCE_CALLS_FIELD_NUMBER: _ClassVar[int]
    INTERNATIONAL_CALLS_FIELD_NUMBER: _ClassVar[int]
    CALLEE_SKETCH_FIELD_NUMBER: _ClassVar[int]
    CALLEE_PREFIX_SKETCH_FIELD_NUMBER: _ClassVar[int]
    caller: str
    channel: _common_pb2.Channel
    hour: _timestamp_pb2.Timestamp
    calls: int
    answered: int
    short_calls: int
    ring_once_calls: int
    international_calls: int
    callee_sketch: bytes
    callee_prefix_sketch: bytes
    def __init__(self, caller: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., hour: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., calls: _Optional[int] = ..., answered: _Optional[int] = ..., short_calls: _Optional[int] = ..., ring_once_calls: _Optional[int] = ..., international_calls: _Optional[int] = ..., callee_sketch: _Optional[bytes] = ..., callee_prefix_sketch: _Optional[bytes] = ...) -> None: ...

class SubmitCallAggregatesRequest(_message.Message):
    __slots__ = ("aggregates",)
    AGGREGATES_FIELD_NUMBER: _ClassVar[int]
    aggregates: _containers.RepeatedCompositeFieldContainer[CallAggregate]
    def __init__(self, aggregates: _Optional[_Iterable[_Union[CallAggregate, _Mapping]]] = ...) -> None: ...

class CallAggregateResult(_message.Message):
    __slots__ = ("caller", "accepted", "error")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    caller: str
    accepted: bool
    error: str
    def __init__(self, caller: _Optional[str] = ..., accepted: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class SubmitCallAggregatesResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[CallAggregateResult]
    def __init__(self, results: _Optional[_Iterable[_Union[CallAggregateResult, _Mapping]]] = ...) -> None: ...
