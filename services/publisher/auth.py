"""Admin bearer token: compared in constant time with a SHA-256 hash; a local token file outside production."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from services.publisher.errors import ConfigurationError, Unauthorized
from services.publisher.settings import PublisherSettings

TOKEN_FILE = "publisher-admin-token"


def sha256_hex(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def local_token(local_dir: Path) -> str:
    """Read ``<local_dir>/publisher-admin-token``, creating it (mode 600) with a random token if missing."""
    path = local_dir / TOKEN_FILE
    if not path.exists():
        local_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32) + "\n")
    return path.read_text().strip()


def admin_token_hash(settings: PublisherSettings) -> str:
    if settings.admin_token_sha256:
        return settings.admin_token_sha256.lower()
    if settings.common.production:
        raise ConfigurationError("NOF_PUBLISHER_ADMIN_TOKEN_SHA256 is required in production")
    settings.common.allow_local_credentials("local admin token (NOF_PUBLISHER_ADMIN_TOKEN_SHA256)")
    return sha256_hex(local_token(settings.common.local_dir))


def check_bearer(authorization: str | None, expected_sha256: str) -> None:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("an admin bearer token is required (Authorization: Bearer <token>)")
    if not hmac.compare_digest(sha256_hex(token.strip()), expected_sha256):
        raise Unauthorized("the admin token is not valid")
