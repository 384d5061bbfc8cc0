"""The exception hierarchy of numrep, in one place.

Every domain error carries the gRPC status code it maps to (by name, so the
domain package does not depend on grpc); ``services.interceptors.errors``
translates them at the edge.

    NumrepError
    ├── ValidationError              INVALID_ARGUMENT
    │   ├── InvalidSubject           a malformed phone number or SMS port
    │   └── InvalidReport            a report with a bad or missing field
    ├── NotFound                     NOT_FOUND
    ├── Forbidden                    PERMISSION_DENIED
    ├── RateLimited                  RESOURCE_EXHAUSTED
    ├── Overloaded                   RESOURCE_EXHAUSTED
    ├── Aborted                      ABORTED
    ├── StoreError                   UNAVAILABLE
    │   └── StoreUnavailable         the backend cannot be reached
    ├── Unconfirmed                  UNAVAILABLE (never leaves numrep.lookup.decide) a filter hit
    │                                could not be confirmed; the published rules answer
    └── ConfigError                  (start-up only) a bad setting
"""

from __future__ import annotations


class NumrepError(Exception):
    """Base class of every error numrep raises on purpose."""

    status: str = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(NumrepError, ValueError):
    """Input that can never succeed as sent."""

    status = "INVALID_ARGUMENT"


class InvalidSubject(ValidationError):
    """A subject (phone number or SMS port) that cannot be normalised.

    ``reason`` is a short precise explanation; the offending input is quoted
    only when it is safe to echo (it never contains a reporter identity).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid subject: {reason}")
        self.reason = reason


class InvalidReport(ValidationError):
    """A report with a missing or malformed field; ``field`` names it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"invalid report: {field}: {reason}")
        self.field = field
        self.reason = reason


class NotFound(NumrepError, LookupError):
    """The named object does not exist."""

    status = "NOT_FOUND"


class Conflict(NumrepError):
    """The object is not in a state that allows the call (e.g. a review case decided already)."""

    status = "FAILED_PRECONDITION"


class Forbidden(NumrepError, PermissionError):
    """The caller may not act on this object (e.g. a complaint routed to another holder)."""

    status = "PERMISSION_DENIED"


class RateLimited(NumrepError):
    """Too many requests from one reporter or operator; ``retry_after`` seconds until the next is allowed."""

    status = "RESOURCE_EXHAUSTED"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Overloaded(NumrepError):
    """This server cannot take more of this kind of call now; try later or another server."""

    status = "RESOURCE_EXHAUSTED"


class Aborted(NumrepError):
    """A multi-call read saw the data change under it; start it again."""

    status = "ABORTED"


class StoreError(NumrepError):
    """The store failed in a way the caller may retry."""

    status = "UNAVAILABLE"


class StoreUnavailable(StoreError):
    """The store backend cannot be reached."""


class Unconfirmed(NumrepError):
    """A lookup's ``confirm`` step (the store, or the service for the local list) cannot answer.

    Raised by the ``confirm`` callables of :func:`numrep.lookup.decide`, which
    catches it and answers from the published rules instead (fail safe).
    """

    status = "UNAVAILABLE"


class ConfigError(NumrepError):
    """A setting is missing or wrong; the message names the variable."""

    status = "FAILED_PRECONDITION"


class AlreadyExists(NumrepError):
    """What was to be created exists already (an open dispute of the same number)."""

    status = "ALREADY_EXISTS"


class DeliveryFailed(NumrepError):
    """A message could not be delivered through an operator's channel (a one-time dispute code)."""

    status = "UNAVAILABLE"
