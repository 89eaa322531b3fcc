"""API keys: configured as SHA-256 hashes with scopes, checked in constant time; a development key on disk."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from pydantic import BaseModel, Field

from shared.errors import AuthError


class ApiKey(BaseModel):
    name: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    scopes: frozenset[str]


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def development_key(path: Path) -> str:
    """The local development key in ``path``, created (mode 600) on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = "nofdev_" + secrets.token_urlsafe(24)
    path.touch(mode=0o600)
    path.write_text(key + "\n")
    return key


class KeyRing:
    def __init__(self, keys: list[ApiKey]) -> None:
        self.keys = keys

    def authorise(self, authorization: str | None, scope: str) -> ApiKey:
        """The key behind an ``Authorization: Bearer`` header, if it carries ``scope``; else AuthError."""
        match = self.identify(authorization)
        if scope not in match.scopes:
            raise AuthError(f"key {match.name!r} lacks the scope {scope!r}", forbidden=True)
        return match

    def identify(self, authorization: str | None) -> ApiKey:
        """The key behind an ``Authorization: Bearer`` header, whatever its scopes; else AuthError."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise AuthError("missing bearer token: send 'Authorization: Bearer <key>'")
        digest = hash_key(authorization[7:].strip())
        match = None
        for key in self.keys:  # compare with every key so timing says nothing about which matched
            if hmac.compare_digest(key.sha256, digest):
                match = key
        if match is None:
            raise AuthError("unknown API key")
        return match
