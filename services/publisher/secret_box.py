"""Webhook secrets at rest: sealed with Fernet (AES-128-CBC and HMAC-SHA256) in the topic and in Redis.

A reader of ``nof.publisher-subscriptions.v1`` or of the publisher's Redis keys sees only the token, so it
cannot sign webhooks. The key comes from ``NOF_PUBLISHER_SECRETS_KEYS`` (comma-separated Fernet keys: the
first seals, every one opens, so keys rotate by putting a new one first); production refuses to start
without it. Outside production a local key is kept in ``<local_dir>/publisher-secrets-key``.
Make a key with ``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from services.publisher.errors import ConfigurationError
from services.publisher.settings import PublisherSettings

KEY_FILE = "publisher-secrets-key"


class SecretBox:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ConfigurationError("NOF_PUBLISHER_SECRETS_KEYS: at least one Fernet key is required")
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        except (ValueError, TypeError) as exc:
            raise ConfigurationError("NOF_PUBLISHER_SECRETS_KEYS: each key must be 32 url-safe base64-encoded "
                                     f"bytes, as Fernet.generate_key() makes ({exc})") from exc

    @classmethod
    def generate(cls) -> "SecretBox":
        return cls([Fernet.generate_key().decode()])

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ConfigurationError("a stored webhook secret does not open with any key in "
                                     "NOF_PUBLISHER_SECRETS_KEYS (a key was removed before every secret was "
                                     "sealed with its successor, or the record was altered)") from exc


def local_key(local_dir: Path) -> str:
    """Read ``<local_dir>/publisher-secrets-key``, creating it (mode 600) with a new Fernet key if missing."""
    path = local_dir / KEY_FILE
    if not path.exists():
        local_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(Fernet.generate_key().decode() + "\n")
    return path.read_text().strip()


def secret_box(settings: PublisherSettings) -> SecretBox:
    if settings.secrets_keys is not None:
        keys = [k.strip() for k in settings.secrets_keys.get_secret_value().split(",") if k.strip()]
        return SecretBox(keys)
    if settings.common.production:
        raise ConfigurationError("NOF_PUBLISHER_SECRETS_KEYS is required in production")
    settings.common.allow_local_credentials("local webhook-secrets key (NOF_PUBLISHER_SECRETS_KEYS)")
    return SecretBox([local_key(settings.common.local_dir)])
