import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from numrep.v1 import cards_pb2 as _cards_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeleteReporterRequest(_message.Message):
    __slots__ = ("reporter_id",)
    REPORTER_ID_FIELD_NUMBER: _ClassVar[int]
    reporter_id: str
    def __init__(self, reporter_id: _Optional[str] = ...) -> None: ...

class DeleteReporterResponse(_message.Message):
    __slots__ = ("reports", "case_events", "outcomes", "subjects_affected", "subjects")
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    CASE_EVENTS_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    SUBJECTS_AFFECTED_FIELD_NUMBER: _ClassVar[int]
    SUBJECTS_FIELD_NUMBER: _ClassVar[int]
    reports: int
    case_events: int
    outcomes: int
    subjects_affected: int
    subjects: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, reports: _Optional[int] = ..., case_events: _Optional[int] = ..., outcomes: _Optional[int] = ..., subjects_affected: _Optional[int] = ..., subjects: _Optional[_Iterable[str]] = ...) -> None: ...

class AddHoneypotRequest(_message.Message):
    __slots__ = ("number", "operator", "note")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    number: str
    operator: str
    note: str
    def __init__(self, number: _Optional[str] = ..., operator: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class Honeypot(_message.Message):
    __slots__ = ("number", "operator", "note", "added_at")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    ADDED_AT_FIELD_NUMBER: _ClassVar[int]
    number: str
    operator: str
    note: str
    added_at: _timestamp_pb2.Timestamp
    def __init__(self, number: _Optional[str] = ..., operator: _Optional[str] = ..., note: _Optional[str] = ..., added_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RemoveHoneypotRequest(_message.Message):
    __slots__ = ("number",)
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    number: str
    def __init__(self, number: _Optional[str] = ...) -> None: ...

class ListHoneypotsRequest(_message.Message):
    __slots__ = ("operator",)
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    operator: str
    def __init__(self, operator: _Optional[str] = ...) -> None: ...

class ListHoneypotsResponse(_message.Message):
    __slots__ = ("honeypots",)
    HONEYPOTS_FIELD_NUMBER: _ClassVar[int]
    honeypots: _containers.RepeatedCompositeFieldContainer[Honeypot]
    def __init__(self, honeypots: _Optional[_Iterable[_Union[Honeypot, _Mapping]]] = ...) -> None: ...

class ConfirmFraudRequest(_message.Message):
    __slots__ = ("subject", "case_id", "expires_at", "actor", "reason")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    subject: str
    case_id: str
    expires_at: _timestamp_pb2.Timestamp
    actor: str
    reason: str
    def __init__(self, subject: _Optional[str] = ..., case_id: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ConfirmedFraud(_message.Message):
    __slots__ = ("subject", "case_id", "expires_at", "actor", "reason", "confirmed_at")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CONFIRMED_AT_FIELD_NUMBER: _ClassVar[int]
    subject: str
    case_id: str
    expires_at: _timestamp_pb2.Timestamp
    actor: str
    reason: str
    confirmed_at: _timestamp_pb2.Timestamp
    def __init__(self, subject: _Optional[str] = ..., case_id: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ..., confirmed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListReviewCasesRequest(_message.Message):
    __slots__ = ("state", "limit")
    STATE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    state: str
    limit: int
    def __init__(self, state: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ReviewCase(_message.Message):
    __slots__ = ("case_id", "subject", "kind", "summary", "opened_at", "state", "decision", "actor", "reason", "decided_at")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    subject: str
    kind: str
    summary: str
    opened_at: _timestamp_pb2.Timestamp
    state: str
    decision: str
    actor: str
    reason: str
    decided_at: _timestamp_pb2.Timestamp
    def __init__(self, case_id: _Optional[str] = ..., subject: _Optional[str] = ..., kind: _Optional[str] = ..., summary: _Optional[str] = ..., opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[str] = ..., decision: _Optional[str] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListReviewCasesResponse(_message.Message):
    __slots__ = ("cases",)
    CASES_FIELD_NUMBER: _ClassVar[int]
    cases: _containers.RepeatedCompositeFieldContainer[ReviewCase]
    def __init__(self, cases: _Optional[_Iterable[_Union[ReviewCase, _Mapping]]] = ...) -> None: ...

class DecideReviewCaseRequest(_message.Message):
    __slots__ = ("case_id", "decision", "actor", "reason", "expires_at")
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    case_id: str
    decision: str
    actor: str
    reason: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, case_id: _Optional[str] = ..., decision: _Optional[str] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SetBlockSwitchRequest(_message.Message):
    __slots__ = ("block_to_label", "actor", "reason")
    BLOCK_TO_LABEL_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    block_to_label: bool
    actor: str
    reason: str
    def __init__(self, block_to_label: _Optional[bool] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class BlockSwitch(_message.Message):
    __slots__ = ("block_to_label", "actor", "reason", "set_at")
    BLOCK_TO_LABEL_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SET_AT_FIELD_NUMBER: _ClassVar[int]
    block_to_label: bool
    actor: str
    reason: str
    set_at: _timestamp_pb2.Timestamp
    def __init__(self, block_to_label: _Optional[bool] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ..., set_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListComplaintsRequest(_message.Message):
    __slots__ = ("holder", "period")
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    holder: str
    period: str
    def __init__(self, holder: _Optional[str] = ..., period: _Optional[str] = ...) -> None: ...

class Complaint(_message.Message):
    __slots__ = ("report_id", "subject", "holder", "received_at", "ack_due", "resolve_due", "acknowledged_at", "resolved_at", "state", "resolution")
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    ACK_DUE_FIELD_NUMBER: _ClassVar[int]
    RESOLVE_DUE_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_AT_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_AT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    subject: str
    holder: str
    received_at: _timestamp_pb2.Timestamp
    ack_due: _timestamp_pb2.Timestamp
    resolve_due: _timestamp_pb2.Timestamp
    acknowledged_at: _timestamp_pb2.Timestamp
    resolved_at: _timestamp_pb2.Timestamp
    state: str
    resolution: str
    def __init__(self, report_id: _Optional[str] = ..., subject: _Optional[str] = ..., holder: _Optional[str] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ack_due: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolve_due: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., acknowledged_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[str] = ..., resolution: _Optional[str] = ...) -> None: ...

class ListComplaintsResponse(_message.Message):
    __slots__ = ("complaints",)
    COMPLAINTS_FIELD_NUMBER: _ClassVar[int]
    complaints: _containers.RepeatedCompositeFieldContainer[Complaint]
    def __init__(self, complaints: _Optional[_Iterable[_Union[Complaint, _Mapping]]] = ...) -> None: ...

class ComplaintStepRequest(_message.Message):
    __slots__ = ("report_id", "holder", "note")
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    holder: str
    note: str
    def __init__(self, report_id: _Optional[str] = ..., holder: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class GetTimelinessRequest(_message.Message):
    __slots__ = ("period",)
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    period: str
    def __init__(self, period: _Optional[str] = ...) -> None: ...

class HolderTimeliness(_message.Message):
    __slots__ = ("holder", "due", "on_time", "share", "failed")
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    DUE_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_FIELD_NUMBER: _ClassVar[int]
    SHARE_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    holder: str
    due: int
    on_time: int
    share: float
    failed: bool
    def __init__(self, holder: _Optional[str] = ..., due: _Optional[int] = ..., on_time: _Optional[int] = ..., share: _Optional[float] = ..., failed: _Optional[bool] = ...) -> None: ...

class TimelinessResponse(_message.Message):
    __slots__ = ("period", "holders")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    HOLDERS_FIELD_NUMBER: _ClassVar[int]
    period: str
    holders: _containers.RepeatedCompositeFieldContainer[HolderTimeliness]
    def __init__(self, period: _Optional[str] = ..., holders: _Optional[_Iterable[_Union[HolderTimeliness, _Mapping]]] = ...) -> None: ...

class PublishSpamListRequest(_message.Message):
    __slots__ = ("period", "unmasked")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    UNMASKED_FIELD_NUMBER: _ClassVar[int]
    period: str
    unmasked: bool
    def __init__(self, period: _Optional[str] = ..., unmasked: _Optional[bool] = ...) -> None: ...

class SpamListPublication(_message.Message):
    __slots__ = ("period", "json", "csv", "html")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    JSON_FIELD_NUMBER: _ClassVar[int]
    CSV_FIELD_NUMBER: _ClassVar[int]
    HTML_FIELD_NUMBER: _ClassVar[int]
    period: str
    json: bytes
    csv: bytes
    html: bytes
    def __init__(self, period: _Optional[str] = ..., json: _Optional[bytes] = ..., csv: _Optional[bytes] = ..., html: _Optional[bytes] = ...) -> None: ...

class ResolveHolderRequest(_message.Message):
    __slots__ = ("subject",)
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    subject: str
    def __init__(self, subject: _Optional[str] = ...) -> None: ...

class Allocation(_message.Message):
    __slots__ = ("prefix", "holder", "holder_type", "size")
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    HOLDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    prefix: str
    holder: str
    holder_type: str
    size: int
    def __init__(self, prefix: _Optional[str] = ..., holder: _Optional[str] = ..., holder_type: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class ImportChunk(_message.Message):
    __slots__ = ("filename", "format", "data")
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    filename: str
    format: str
    data: bytes
    def __init__(self, filename: _Optional[str] = ..., format: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class ImportProblem(_message.Message):
    __slots__ = ("line", "message")
    LINE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    line: int
    message: str
    def __init__(self, line: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class ImportResult(_message.Message):
    __slots__ = ("applied", "rows", "changed", "problems", "more_problems")
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    MORE_PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    applied: bool
    rows: int
    changed: int
    problems: _containers.RepeatedCompositeFieldContainer[ImportProblem]
    more_problems: int
    def __init__(self, applied: _Optional[bool] = ..., rows: _Optional[int] = ..., changed: _Optional[int] = ..., problems: _Optional[_Iterable[_Union[ImportProblem, _Mapping]]] = ..., more_problems: _Optional[int] = ...) -> None: ...

class AllowlistEntry(_message.Message):
    __slots__ = ("subject", "reason", "added_by", "added_at")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ADDED_BY_FIELD_NUMBER: _ClassVar[int]
    ADDED_AT_FIELD_NUMBER: _ClassVar[int]
    subject: str
    reason: str
    added_by: str
    added_at: _timestamp_pb2.Timestamp
    def __init__(self, subject: _Optional[str] = ..., reason: _Optional[str] = ..., added_by: _Optional[str] = ..., added_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AddAllowlistRequest(_message.Message):
    __slots__ = ("subject", "reason", "added_by")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ADDED_BY_FIELD_NUMBER: _ClassVar[int]
    subject: str
    reason: str
    added_by: str
    def __init__(self, subject: _Optional[str] = ..., reason: _Optional[str] = ..., added_by: _Optional[str] = ...) -> None: ...

class RemoveAllowlistRequest(_message.Message):
    __slots__ = ("subject",)
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    subject: str
    def __init__(self, subject: _Optional[str] = ...) -> None: ...

class RemoveAllowlistResponse(_message.Message):
    __slots__ = ("subject",)
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    subject: str
    def __init__(self, subject: _Optional[str] = ...) -> None: ...

class ListAllowlistRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAllowlistResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[AllowlistEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[AllowlistEntry, _Mapping]]] = ...) -> None: ...

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StatusResponse(_message.Message):
    __slots__ = ("rules_version", "filter_version", "filter_count", "rules_count", "store", "store_healthy", "signing_key_id", "server_pid")
    RULES_VERSION_FIELD_NUMBER: _ClassVar[int]
    FILTER_VERSION_FIELD_NUMBER: _ClassVar[int]
    FILTER_COUNT_FIELD_NUMBER: _ClassVar[int]
    RULES_COUNT_FIELD_NUMBER: _ClassVar[int]
    STORE_FIELD_NUMBER: _ClassVar[int]
    STORE_HEALTHY_FIELD_NUMBER: _ClassVar[int]
    SIGNING_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SERVER_PID_FIELD_NUMBER: _ClassVar[int]
    rules_version: int
    filter_version: int
    filter_count: int
    rules_count: int
    store: str
    store_healthy: bool
    signing_key_id: str
    server_pid: int
    def __init__(self, rules_version: _Optional[int] = ..., filter_version: _Optional[int] = ..., filter_count: _Optional[int] = ..., rules_count: _Optional[int] = ..., store: _Optional[str] = ..., store_healthy: _Optional[bool] = ..., signing_key_id: _Optional[str] = ..., server_pid: _Optional[int] = ...) -> None: ...
