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

class CategoryCount(_message.Message):
    __slots__ = ("category", "reporters")
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    REPORTERS_FIELD_NUMBER: _ClassVar[int]
    category: Category
    reporters: int
    def __init__(self, category: _Optional[_Union[Category, str]] = ..., reporters: _Optional[int] = ...) -> None: ...
