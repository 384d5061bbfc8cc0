import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DisputeState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISPUTE_STATE_UNSPECIFIED: _ClassVar[DisputeState]
    DISPUTE_STATE_FILED: _ClassVar[DisputeState]
    DISPUTE_STATE_ACKNOWLEDGED: _ClassVar[DisputeState]
    DISPUTE_STATE_UNDER_REVIEW: _ClassVar[DisputeState]
    DISPUTE_STATE_UPHELD: _ClassVar[DisputeState]
    DISPUTE_STATE_REJECTED: _ClassVar[DisputeState]
    DISPUTE_STATE_WITHDRAWN: _ClassVar[DisputeState]
    DISPUTE_STATE_EXPIRED: _ClassVar[DisputeState]

class DisputeDecision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISPUTE_DECISION_UNSPECIFIED: _ClassVar[DisputeDecision]
    DISPUTE_DECISION_UPHOLD: _ClassVar[DisputeDecision]
    DISPUTE_DECISION_REJECT: _ClassVar[DisputeDecision]
DISPUTE_STATE_UNSPECIFIED: DisputeState
DISPUTE_STATE_FILED: DisputeState
DISPUTE_STATE_ACKNOWLEDGED: DisputeState
DISPUTE_STATE_UNDER_REVIEW: DisputeState
DISPUTE_STATE_UPHELD: DisputeState
DISPUTE_STATE_REJECTED: DisputeState
DISPUTE_STATE_WITHDRAWN: DisputeState
DISPUTE_STATE_EXPIRED: DisputeState
DISPUTE_DECISION_UNSPECIFIED: DisputeDecision
DISPUTE_DECISION_UPHOLD: DisputeDecision
DISPUTE_DECISION_REJECT: DisputeDecision

class DisputeTransition(_message.Message):
    __slots__ = ("state", "at", "actor", "note")
    STATE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    state: DisputeState
    at: _timestamp_pb2.Timestamp
    actor: str
    note: str
    def __init__(self, state: _Optional[_Union[DisputeState, str]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class Dispute(_message.Message):
    __slots__ = ("dispute_id", "subject", "state", "statement", "proof", "holder", "filed_at", "transitions", "reason", "authoritative", "ack_due", "decide_due")
    DISPUTE_ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    PROOF_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    FILED_AT_FIELD_NUMBER: _ClassVar[int]
    TRANSITIONS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    AUTHORITATIVE_FIELD_NUMBER: _ClassVar[int]
    ACK_DUE_FIELD_NUMBER: _ClassVar[int]
    DECIDE_DUE_FIELD_NUMBER: _ClassVar[int]
    dispute_id: str
    subject: str
    state: DisputeState
    statement: str
    proof: str
    holder: str
    filed_at: _timestamp_pb2.Timestamp
    transitions: _containers.RepeatedCompositeFieldContainer[DisputeTransition]
    reason: str
    authoritative: _containers.RepeatedScalarFieldContainer[str]
    ack_due: _timestamp_pb2.Timestamp
    decide_due: _timestamp_pb2.Timestamp
    def __init__(self, dispute_id: _Optional[str] = ..., subject: _Optional[str] = ..., state: _Optional[_Union[DisputeState, str]] = ..., statement: _Optional[str] = ..., proof: _Optional[str] = ..., holder: _Optional[str] = ..., filed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., transitions: _Optional[_Iterable[_Union[DisputeTransition, _Mapping]]] = ..., reason: _Optional[str] = ..., authoritative: _Optional[_Iterable[str]] = ..., ack_due: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decide_due: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RequestCodeRequest(_message.Message):
    __slots__ = ("subject",)
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    subject: str
    def __init__(self, subject: _Optional[str] = ...) -> None: ...

class RequestCodeResponse(_message.Message):
    __slots__ = ("challenge_id", "expires_at", "holder")
    CHALLENGE_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    challenge_id: str
    expires_at: _timestamp_pb2.Timestamp
    holder: str
    def __init__(self, challenge_id: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., holder: _Optional[str] = ...) -> None: ...

class FileDisputeRequest(_message.Message):
    __slots__ = ("subject", "statement", "challenge_id", "code")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    CHALLENGE_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    subject: str
    statement: str
    challenge_id: str
    code: str
    def __init__(self, subject: _Optional[str] = ..., statement: _Optional[str] = ..., challenge_id: _Optional[str] = ..., code: _Optional[str] = ...) -> None: ...

class FileDisputeResponse(_message.Message):
    __slots__ = ("dispute", "owner_token")
    DISPUTE_FIELD_NUMBER: _ClassVar[int]
    OWNER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    dispute: Dispute
    owner_token: str
    def __init__(self, dispute: _Optional[_Union[Dispute, _Mapping]] = ..., owner_token: _Optional[str] = ...) -> None: ...

class GetDisputeRequest(_message.Message):
    __slots__ = ("dispute_id", "owner_token")
    DISPUTE_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    dispute_id: str
    owner_token: str
    def __init__(self, dispute_id: _Optional[str] = ..., owner_token: _Optional[str] = ...) -> None: ...

class WithdrawDisputeRequest(_message.Message):
    __slots__ = ("dispute_id", "owner_token", "note")
    DISPUTE_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    dispute_id: str
    owner_token: str
    note: str
    def __init__(self, dispute_id: _Optional[str] = ..., owner_token: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class ListDisputesRequest(_message.Message):
    __slots__ = ("limit", "subject")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    subject: str
    def __init__(self, limit: _Optional[int] = ..., subject: _Optional[str] = ...) -> None: ...

class ListDisputesResponse(_message.Message):
    __slots__ = ("disputes",)
    DISPUTES_FIELD_NUMBER: _ClassVar[int]
    disputes: _containers.RepeatedCompositeFieldContainer[Dispute]
    def __init__(self, disputes: _Optional[_Iterable[_Union[Dispute, _Mapping]]] = ...) -> None: ...

class DisputeStepRequest(_message.Message):
    __slots__ = ("dispute_id", "actor", "note")
    DISPUTE_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    dispute_id: str
    actor: str
    note: str
    def __init__(self, dispute_id: _Optional[str] = ..., actor: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class DecideDisputeRequest(_message.Message):
    __slots__ = ("dispute_id", "decision", "actor", "reason")
    DISPUTE_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    dispute_id: str
    decision: DisputeDecision
    actor: str
    reason: str
    def __init__(self, dispute_id: _Optional[str] = ..., decision: _Optional[_Union[DisputeDecision, str]] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...
