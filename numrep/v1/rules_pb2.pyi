import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from numrep.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RuleKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RULE_KIND_UNSPECIFIED: _ClassVar[RuleKind]
    RULE_KIND_EXACT: _ClassVar[RuleKind]
    RULE_KIND_RANGE: _ClassVar[RuleKind]
    RULE_KIND_PORT: _ClassVar[RuleKind]
    RULE_KIND_ALLOW: _ClassVar[RuleKind]
RULE_KIND_UNSPECIFIED: RuleKind
RULE_KIND_EXACT: RuleKind
RULE_KIND_RANGE: RuleKind
RULE_KIND_PORT: RuleKind
RULE_KIND_ALLOW: RuleKind

class Rule(_message.Message):
    __slots__ = ("rule_id", "kind", "subject", "channel", "action", "category", "reason", "issued_at", "expires_at", "reason_code")
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    rule_id: str
    kind: RuleKind
    subject: str
    channel: _common_pb2.Channel
    action: _common_pb2.Action
    category: _common_pb2.Category
    reason: str
    issued_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    reason_code: _common_pb2.ReasonCode
    def __init__(self, rule_id: _Optional[str] = ..., kind: _Optional[_Union[RuleKind, str]] = ..., subject: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., action: _Optional[_Union[_common_pb2.Action, str]] = ..., category: _Optional[_Union[_common_pb2.Category, str]] = ..., reason: _Optional[str] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason_code: _Optional[_Union[_common_pb2.ReasonCode, str]] = ...) -> None: ...

class GetRulesRequest(_message.Message):
    __slots__ = ("since_version", "page_token", "page_size")
    SINCE_VERSION_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    since_version: int
    page_token: str
    page_size: int
    def __init__(self, since_version: _Optional[int] = ..., page_token: _Optional[str] = ..., page_size: _Optional[int] = ...) -> None: ...

class RulesUpdate(_message.Message):
    __slots__ = ("version", "from_version", "full_snapshot", "added", "removed", "checksum", "min_wait", "signature", "key_id", "next_page_token", "epoch", "issued_at")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    FROM_VERSION_FIELD_NUMBER: _ClassVar[int]
    FULL_SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    ADDED_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    CHECKSUM_FIELD_NUMBER: _ClassVar[int]
    MIN_WAIT_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    version: int
    from_version: int
    full_snapshot: bool
    added: _containers.RepeatedCompositeFieldContainer[Rule]
    removed: _containers.RepeatedScalarFieldContainer[str]
    checksum: str
    min_wait: _duration_pb2.Duration
    signature: bytes
    key_id: str
    next_page_token: str
    epoch: int
    issued_at: _timestamp_pb2.Timestamp
    def __init__(self, version: _Optional[int] = ..., from_version: _Optional[int] = ..., full_snapshot: _Optional[bool] = ..., added: _Optional[_Iterable[_Union[Rule, _Mapping]]] = ..., removed: _Optional[_Iterable[str]] = ..., checksum: _Optional[str] = ..., min_wait: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., signature: _Optional[bytes] = ..., key_id: _Optional[str] = ..., next_page_token: _Optional[str] = ..., epoch: _Optional[int] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetSigningKeyRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SigningKey(_message.Message):
    __slots__ = ("key_id", "algorithm", "public_key")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    algorithm: str
    public_key: bytes
    def __init__(self, key_id: _Optional[str] = ..., algorithm: _Optional[str] = ..., public_key: _Optional[bytes] = ...) -> None: ...

class GetFilterSnapshotRequest(_message.Message):
    __slots__ = ("known_epoch", "known_version")
    KNOWN_EPOCH_FIELD_NUMBER: _ClassVar[int]
    KNOWN_VERSION_FIELD_NUMBER: _ClassVar[int]
    known_epoch: int
    known_version: int
    def __init__(self, known_epoch: _Optional[int] = ..., known_version: _Optional[int] = ...) -> None: ...

class FilterChunk(_message.Message):
    __slots__ = ("version", "count", "error_rate", "data", "last", "epoch", "size", "sha256", "signature", "key_id")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_RATE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    version: int
    count: int
    error_rate: float
    data: bytes
    last: bool
    epoch: int
    size: int
    sha256: str
    signature: bytes
    key_id: str
    def __init__(self, version: _Optional[int] = ..., count: _Optional[int] = ..., error_rate: _Optional[float] = ..., data: _Optional[bytes] = ..., last: _Optional[bool] = ..., epoch: _Optional[int] = ..., size: _Optional[int] = ..., sha256: _Optional[str] = ..., signature: _Optional[bytes] = ..., key_id: _Optional[str] = ...) -> None: ...
