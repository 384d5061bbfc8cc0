from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class ReverificationListRequest(_message.Message):
    __slots__ = ("operator",)
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    operator: str
    def __init__(self, operator: _Optional[str] = ...) -> None: ...

class ReverificationEntry(_message.Message):
    __slots__ = ("number", "id_ref", "registered_on", "seller", "cards_at_operator", "cards_total", "reasons")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    ID_REF_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_ON_FIELD_NUMBER: _ClassVar[int]
    SELLER_FIELD_NUMBER: _ClassVar[int]
    CARDS_AT_OPERATOR_FIELD_NUMBER: _ClassVar[int]
    CARDS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    number: str
    id_ref: str
    registered_on: str
    seller: str
    cards_at_operator: int
    cards_total: int
    reasons: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, number: _Optional[str] = ..., id_ref: _Optional[str] = ..., registered_on: _Optional[str] = ..., seller: _Optional[str] = ..., cards_at_operator: _Optional[int] = ..., cards_total: _Optional[int] = ..., reasons: _Optional[_Iterable[str]] = ...) -> None: ...
