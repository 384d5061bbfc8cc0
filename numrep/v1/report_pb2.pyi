import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from numrep.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReportSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPORT_SOURCE_UNSPECIFIED: _ClassVar[ReportSource]
    REPORT_SOURCE_APP: _ClassVar[ReportSource]
    REPORT_SOURCE_HOTLINE: _ClassVar[ReportSource]
    REPORT_SOURCE_WEB: _ClassVar[ReportSource]
    REPORT_SOURCE_OPERATOR: _ClassVar[ReportSource]
REPORT_SOURCE_UNSPECIFIED: ReportSource
REPORT_SOURCE_APP: ReportSource
REPORT_SOURCE_HOTLINE: ReportSource
REPORT_SOURCE_WEB: ReportSource
REPORT_SOURCE_OPERATOR: ReportSource

class Report(_message.Message):
    __slots__ = ("report_id", "reporter_id", "subject", "channel", "category", "occurred_at", "source", "text", "reporter_number")
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    REPORTER_ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    REPORTER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    reporter_id: str
    subject: str
    channel: _common_pb2.Channel
    category: _common_pb2.Category
    occurred_at: _timestamp_pb2.Timestamp
    source: ReportSource
    text: str
    reporter_number: str
    def __init__(self, report_id: _Optional[str] = ..., reporter_id: _Optional[str] = ..., subject: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., category: _Optional[_Union[_common_pb2.Category, str]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[_Union[ReportSource, str]] = ..., text: _Optional[str] = ..., reporter_number: _Optional[str] = ...) -> None: ...

class SubmitReportRequest(_message.Message):
    __slots__ = ("report",)
    REPORT_FIELD_NUMBER: _ClassVar[int]
    report: Report
    def __init__(self, report: _Optional[_Union[Report, _Mapping]] = ...) -> None: ...

class SubmitReportResponse(_message.Message):
    __slots__ = ("report_id", "duplicate", "subject")
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    duplicate: bool
    subject: str
    def __init__(self, report_id: _Optional[str] = ..., duplicate: _Optional[bool] = ..., subject: _Optional[str] = ...) -> None: ...

class SubmitReportsRequest(_message.Message):
    __slots__ = ("reports",)
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    reports: _containers.RepeatedCompositeFieldContainer[Report]
    def __init__(self, reports: _Optional[_Iterable[_Union[Report, _Mapping]]] = ...) -> None: ...

class ReportResult(_message.Message):
    __slots__ = ("report_id", "accepted", "duplicate", "subject", "error", "retryable")
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    accepted: bool
    duplicate: bool
    subject: str
    error: str
    retryable: bool
    def __init__(self, report_id: _Optional[str] = ..., accepted: _Optional[bool] = ..., duplicate: _Optional[bool] = ..., subject: _Optional[str] = ..., error: _Optional[str] = ..., retryable: _Optional[bool] = ...) -> None: ...

class SubmitReportsResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ReportResult]
    def __init__(self, results: _Optional[_Iterable[_Union[ReportResult, _Mapping]]] = ...) -> None: ...
