from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Channel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANNEL_UNSPECIFIED: _ClassVar[Channel]
    CHANNEL_VOICE: _ClassVar[Channel]
    CHANNEL_SMS: _ClassVar[Channel]

class Action(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTION_UNSPECIFIED: _ClassVar[Action]
    ACTION_ALLOW: _ClassVar[Action]
    ACTION_LABEL: _ClassVar[Action]
    ACTION_BLOCK: _ClassVar[Action]

class Category(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CATEGORY_UNSPECIFIED: _ClassVar[Category]
    CATEGORY_FRAUD: _ClassVar[Category]
    CATEGORY_LOANS_FINANCE: _ClassVar[Category]
    CATEGORY_RETAIL: _ClassVar[Category]
    CATEGORY_INSURANCE: _ClassVar[Category]
    CATEGORY_EDUCATION_TRAINING: _ClassVar[Category]
    CATEGORY_REAL_ESTATE: _ClassVar[Category]
    CATEGORY_HARASSMENT: _ClassVar[Category]
    CATEGORY_OTHER: _ClassVar[Category]

class ReasonCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REASON_CODE_UNSPECIFIED: _ClassVar[ReasonCode]
    REASON_CODE_COMPLAINTS: _ClassVar[ReasonCode]
    REASON_CODE_CORROBORATED_COMPLAINTS: _ClassVar[ReasonCode]
    REASON_CODE_BEHAVIOUR: _ClassVar[ReasonCode]
    REASON_CODE_PORT_BLACKLIST: _ClassVar[ReasonCode]
    REASON_CODE_CONFIRMED_FRAUD: _ClassVar[ReasonCode]
    REASON_CODE_RANGE_RULE: _ClassVar[ReasonCode]
    REASON_CODE_MANUAL_RULE: _ClassVar[ReasonCode]
    REASON_CODE_HONEYPOT: _ClassVar[ReasonCode]
CHANNEL_UNSPECIFIED: Channel
CHANNEL_VOICE: Channel
CHANNEL_SMS: Channel
ACTION_UNSPECIFIED: Action
ACTION_ALLOW: Action
ACTION_LABEL: Action
ACTION_BLOCK: Action
CATEGORY_UNSPECIFIED: Category
CATEGORY_FRAUD: Category
CATEGORY_LOANS_FINANCE: Category
CATEGORY_RETAIL: Category
CATEGORY_INSURANCE: Category
CATEGORY_EDUCATION_TRAINING: Category
CATEGORY_REAL_ESTATE: Category
CATEGORY_HARASSMENT: Category
CATEGORY_OTHER: Category
REASON_CODE_UNSPECIFIED: ReasonCode
REASON_CODE_COMPLAINTS: ReasonCode
REASON_CODE_CORROBORATED_COMPLAINTS: ReasonCode
REASON_CODE_BEHAVIOUR: ReasonCode
REASON_CODE_PORT_BLACKLIST: ReasonCode
REASON_CODE_CONFIRMED_FRAUD: ReasonCode
REASON_CODE_RANGE_RULE: ReasonCode
REASON_CODE_MANUAL_RULE: ReasonCode
REASON_CODE_HONEYPOT: ReasonCode

class CategoryCount(_message.Message):
    __slots__ = ("category", "reporters")
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    REPORTERS_FIELD_NUMBER: _ClassVar[int]
    category: Category
    reporters: int
    def __init__(self, category: _Optional[_Union[Category, str]] = ..., reporters: _Optional[int] = ...) -> None: ...

class Redress(_message.Message):
    __slots__ = ("url", "hotline", "case_id")
    URL_FIELD_NUMBER: _ClassVar[int]
    HOTLINE_FIELD_NUMBER: _ClassVar[int]
    CASE_ID_FIELD_NUMBER: _ClassVar[int]
    url: str
    hotline: str
    case_id: str
    def __init__(self, url: _Optional[str] = ..., hotline: _Optional[str] = ..., case_id: _Optional[str] = ...) -> None: ...
