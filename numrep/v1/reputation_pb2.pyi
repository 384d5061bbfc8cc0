from numrep.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VerdictSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VERDICT_SOURCE_UNSPECIFIED: _ClassVar[VerdictSource]
    VERDICT_SOURCE_PROTECTED: _ClassVar[VerdictSource]
    VERDICT_SOURCE_RANGE_RULE: _ClassVar[VerdictSource]
    VERDICT_SOURCE_FILTER: _ClassVar[VerdictSource]
    VERDICT_SOURCE_STORE: _ClassVar[VerdictSource]
    VERDICT_SOURCE_PUBLISHED_RULES: _ClassVar[VerdictSource]
VERDICT_SOURCE_UNSPECIFIED: VerdictSource
VERDICT_SOURCE_PROTECTED: VerdictSource
VERDICT_SOURCE_RANGE_RULE: VerdictSource
VERDICT_SOURCE_FILTER: VerdictSource
VERDICT_SOURCE_STORE: VerdictSource
VERDICT_SOURCE_PUBLISHED_RULES: VerdictSource

class LookupRequest(_message.Message):
    __slots__ = ("subject", "channel", "request_id")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    subject: str
    channel: _common_pb2.Channel
    request_id: str
    def __init__(self, subject: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class ItemError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class LookupResponse(_message.Message):
    __slots__ = ("subject", "action", "score", "top_category", "categories", "reasons", "protected", "source", "version", "request_id", "error", "channel", "reason_code", "redress")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    TOP_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    PROTECTED_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    REDRESS_FIELD_NUMBER: _ClassVar[int]
    subject: str
    action: _common_pb2.Action
    score: int
    top_category: _common_pb2.Category
    categories: _containers.RepeatedCompositeFieldContainer[_common_pb2.CategoryCount]
    reasons: _containers.RepeatedScalarFieldContainer[str]
    protected: bool
    source: VerdictSource
    version: int
    request_id: str
    error: ItemError
    channel: _common_pb2.Channel
    reason_code: _common_pb2.ReasonCode
    redress: _common_pb2.Redress
    def __init__(self, subject: _Optional[str] = ..., action: _Optional[_Union[_common_pb2.Action, str]] = ..., score: _Optional[int] = ..., top_category: _Optional[_Union[_common_pb2.Category, str]] = ..., categories: _Optional[_Iterable[_Union[_common_pb2.CategoryCount, _Mapping]]] = ..., reasons: _Optional[_Iterable[str]] = ..., protected: _Optional[bool] = ..., source: _Optional[_Union[VerdictSource, str]] = ..., version: _Optional[int] = ..., request_id: _Optional[str] = ..., error: _Optional[_Union[ItemError, _Mapping]] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., reason_code: _Optional[_Union[_common_pb2.ReasonCode, str]] = ..., redress: _Optional[_Union[_common_pb2.Redress, _Mapping]] = ...) -> None: ...

class BatchLookupRequest(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[LookupRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[LookupRequest, _Mapping]]] = ...) -> None: ...

class BatchLookupResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[LookupResponse]
    def __init__(self, results: _Optional[_Iterable[_Union[LookupResponse, _Mapping]]] = ...) -> None: ...
