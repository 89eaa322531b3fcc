"""The publisher's errors, grouped by how they are handled; shared/problems.py maps them to HTTP once.

ServiceError (shared/errors.py)
├── BadRequest        the caller's input is wrong: 400, or 422 with the field and the reason
│   └── TargetRefused a webhook URL points at a private or loopback address (422, field ``url``)
├── NotFound          unknown league, trust or subscription: 404
├── Unauthorized      missing or wrong admin token: 401
├── TooManyRequests   a client is over a connection cap (SSE): 429 with Retry-After
└── Unavailable       a dependency (the subscriptions topic, Redis) did not answer: 503 with Retry-After
ConfigurationError    unsafe or missing settings: the service refuses to start
Transient delivery failures are not exceptions here: the dispatcher retries them with backoff.
"""

from __future__ import annotations

from shared.errors import AuthError, BadRequest, FieldError, NotFound, TooManyRequests, Unavailable, ValidationFailed

__all__ = ["BadRequest", "ConfigurationError", "NotFound", "TargetRefused", "TooManyRequests", "Unauthorized",
           "Unavailable"]


class TargetRefused(ValidationFailed):
    def __init__(self, reason: str) -> None:
        super().__init__([FieldError("url", reason)], reason)


class Unauthorized(AuthError):
    pass


class ConfigurationError(Exception):
    """Unsafe or missing settings: raised at start, never answered over HTTP."""
