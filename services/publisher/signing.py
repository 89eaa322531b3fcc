"""Standard Webhooks signatures: ``v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`` (pure)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh per-subscription secret in the Standard Webhooks form ``whsec_<base64 of 32 random bytes>``."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key: the base64 part of a ``whsec_`` secret, decoded."""
    return base64.b64decode(secret.removeprefix(PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one delivery."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
        "content-type": "application/cloudevents+json",
    }


def verify(secret: str, msg_id: str, timestamp: int, body: bytes, signature_header: str,
           *, now: int | None = None, tolerance: int = 300) -> bool:
    """What a receiver does: any space-separated ``v1,`` signature matches, and the timestamp is fresh."""
    if now is not None and abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, msg_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in signature_header.split(" "))
