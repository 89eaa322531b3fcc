"""ASGI middleware: a request that carries a body must name a known API key before a byte of it is read.

FastAPI reads and parses a request body before it runs the route's dependencies, so without this gate an
anonymous client could make ingest read and decode megabytes of JSON only to answer 401. The gate checks
who is asking (the key is known); the route still checks what that key may do (its scope, 403).
"""

from __future__ import annotations

from shared import problems
from shared.api_keys import KeyRing
from shared.errors import AuthError

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class KeyGate:
    def __init__(self, app, keys: KeyRing, prefix: str = "/v1/") -> None:  # noqa: ANN001 - an ASGI app
        self.app, self.keys, self.prefix = app, keys, prefix

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] == "http" and scope["method"] in BODY_METHODS and scope["path"].startswith(self.prefix):
            headers = dict(scope.get("headers") or [])
            authorization = headers.get(b"authorization", b"").decode("latin-1") or None
            try:
                self.keys.identify(authorization)
            except AuthError as exc:
                return await _unauthorized(send, exc, problems.instance(scope))
        await self.app(scope, receive, send)


async def _unauthorized(send, exc: AuthError, instance: str) -> None:  # noqa: ANN001
    """The 401 as a problem (shared/problems.py), sent without reading the request."""
    body = problems.encode(exc.status, exc.message, instance)
    await send({"type": "http.response.start", "status": exc.status,
                "headers": [(b"content-type", problems.MEDIA_TYPE.encode()),
                            (b"content-length", str(len(body)).encode()),
                            (b"www-authenticate", b"Bearer"), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
