"""The service error tree, grouped by how each error is handled; shared/http.py maps them to HTTP.

    ServiceError
    ├── BadRequest            the client's input is wrong: 4xx with one entry per problem
    │   ├── ValidationFailed  422, field-level errors (index, field, reason)
    │   └── PayloadTooLarge   413
    │       └── BodyTooLarge  raised while a body is read past its path's limit (shared/http.py BodyLimit)
    ├── AuthError             401 (no or unknown credentials) / 403 (credentials lack the scope)
    ├── NotFound              404
    ├── Conflict              409, the request contradicts an earlier one (a reused idempotency key)
    └── RetryLater            the client should try again after Retry-After
        ├── TooManyRequests   429: the client is over a connection cap
        └── Unavailable       503: a dependency is down
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: str
    index: int | None = None

    def as_dict(self) -> dict[str, object]:
        entry: dict[str, object] = {"field": self.field, "reason": self.reason}
        if self.index is not None:
            entry["index"] = self.index
        return entry


class ServiceError(Exception):
    status = 500
    code = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ServiceError):
    status = 400
    code = "bad_request"


class ValidationFailed(BadRequest):
    status = 422
    code = "validation_failed"

    def __init__(self, errors: list[FieldError], message: str = "the request was rejected; nothing was accepted") -> None:
        super().__init__(message)
        self.errors = errors


class PayloadTooLarge(BadRequest):
    status = 413
    code = "payload_too_large"


class BodyTooLarge(PayloadTooLarge):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body exceeds {limit} bytes")
        self.limit = limit


class AuthError(ServiceError):
    status = 401
    code = "unauthorized"

    def __init__(self, message: str, *, forbidden: bool = False) -> None:
        super().__init__(message)
        if forbidden:
            self.status, self.code = 403, "forbidden"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class RetryLater(ServiceError):
    """An answer that tells the client when to try again (``Retry-After``)."""

    def __init__(self, message: str, retry_after_s: int = 5) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class TooManyRequests(RetryLater):
    status = 429
    code = "too_many_requests"


class Unavailable(RetryLater):
    status = 503
    code = "unavailable"
