"""Typed settings for every service: read once from the environment, passed down, unsafe values refused in production."""

from __future__ import annotations

import ipaddress
from enum import Enum
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Environment(str, Enum):
    development = "development"
    test = "test"
    production = "production"


class KafkaSettings(BaseSettings):
    """Where the broker is and how clients identify themselves (prefix ``NOF_KAFKA_``)."""

    model_config = SettingsConfigDict(env_prefix="NOF_KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"
    client_id: str = "nof-live"
    request_timeout_ms: int = Field(default=10_000, ge=1_000)
    # Authentication and encryption (shared/kafka_security.py turns these into client options).
    security_protocol: Literal["PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = "SCRAM-SHA-512"
    sasl_username: str | None = Field(default=None, min_length=1, description="this service's principal")
    sasl_password_file: Path | None = Field(default=None, description="file holding the principal's password")
    ssl_ca_file: Path | None = Field(default=None, description="PEM CA bundle the broker's certificate chains to; "
                                                               "unset means the system's trust store")
    # Durability of the topics the admin step creates.
    replication_factor: int = Field(default=1, ge=1, le=32)
    min_insync_replicas: int = Field(default=1, ge=1, le=32)

    @property
    def bootstrap_list(self) -> list[str]:
        return [s.strip() for s in self.bootstrap_servers.split(",") if s.strip()]

    @property
    def sasl_password(self) -> SecretStr | None:
        """The password, read from its file (checked readable when the settings were made)."""
        if self.sasl_password_file is None:
            return None
        return SecretStr(self.sasl_password_file.read_text().strip())

    @model_validator(mode="after")
    def _credentials_complete(self) -> "KafkaSettings":
        if self.security_protocol == "SASL_SSL":
            if not self.sasl_username:
                raise ValueError("NOF_KAFKA_SASL_USERNAME is required when NOF_KAFKA_SECURITY_PROTOCOL is SASL_SSL")
            if self.sasl_password_file is None:
                raise ValueError("NOF_KAFKA_SASL_PASSWORD_FILE is required when NOF_KAFKA_SECURITY_PROTOCOL is SASL_SSL")
            if not _readable_nonempty(self.sasl_password_file):
                raise ValueError(f"NOF_KAFKA_SASL_PASSWORD_FILE: {self.sasl_password_file} is missing, unreadable or empty")
        if self.ssl_ca_file is not None and not _readable_nonempty(self.ssl_ca_file):
            raise ValueError(f"NOF_KAFKA_SSL_CA_FILE: {self.ssl_ca_file} is missing, unreadable or empty")
        if self.min_insync_replicas > self.replication_factor:
            raise ValueError(f"NOF_KAFKA_MIN_INSYNC_REPLICAS ({self.min_insync_replicas}) exceeds "
                             f"NOF_KAFKA_REPLICATION_FACTOR ({self.replication_factor}): no write could succeed")
        return self


def _readable_nonempty(path: Path) -> bool:
    try:
        return path.is_file() and bool(path.read_text().strip())
    except OSError:
        return False


def is_loopback_host(host: str) -> bool:
    """``localhost``, any 127/8 address, ``::1`` (bracketed or not) and IPv4-mapped loopback."""
    host = host.strip().strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def _host_of(server: str) -> str:
    """The host of ``host:port``, ``[v6]:port`` or a bare host."""
    server = server.strip()
    if server.startswith("["):
        return server[1:].split("]", 1)[0]
    return server.rsplit(":", 1)[0] if server.count(":") == 1 else server


class RedisSettings(BaseSettings):
    """The league-table read model (prefix ``NOF_REDIS_``)."""

    model_config = SettingsConfigDict(env_prefix="NOF_REDIS_", extra="ignore")

    url: str = "redis://127.0.0.1:6379/0"
    key_prefix: str = "nof"
    timeout_s: float = Field(default=5.0, gt=0, description="longest a Redis command or connection attempt of the "
                             "scorer may take before it counts as failed (a hung Redis never holds the worker)")


class CredentialsRefused(RuntimeError):
    """A service was asked to make local development credentials where that is not explicitly allowed."""


class CommonSettings(BaseSettings):
    """Settings every process shares (prefix ``NOF_``)."""

    model_config = SettingsConfigDict(env_prefix="NOF_", extra="ignore")

    environment: Environment = Environment.development
    log_level: str = "INFO"
    log_json: bool = True
    local_dir: Path = REPO_ROOT / ".local"
    topic_namespace: str = Field(
        default="", pattern=r"^[a-z0-9-]*$",
        description="prefix for every topic and consumer group, so several pipelines can share one cluster",
    )
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)

    @property
    def production(self) -> bool:
        return self.environment is Environment.production

    def allow_local_credentials(self, what: str) -> None:
        """Raise CredentialsRefused unless this is explicitly a developer's or a test machine: the local
        scripts, the tests and compose set NOF_ENVIRONMENT; a server that forgot it gets no made-up keys."""
        if self.production:
            raise CredentialsRefused(f"{what} must be configured in production; none is created")
        if "environment" not in self.model_fields_set:
            raise CredentialsRefused(f"NOF_ENVIRONMENT is unset, so no {what} is created on this machine: set "
                                     "NOF_ENVIRONMENT=development (or test) on a developer's machine, or configure it")

    @model_validator(mode="after")
    def _refuse_local_infrastructure_in_production(self) -> "CommonSettings":
        if not self.production:
            return self
        if any(is_loopback_host(_host_of(s)) for s in self.kafka.bootstrap_list):
            raise ValueError("NOF_KAFKA_BOOTSTRAP_SERVERS points at a loopback broker in production")
        if is_loopback_host(urlsplit(self.redis.url).hostname or "localhost"):
            raise ValueError("NOF_REDIS_URL points at a loopback Redis in production")
        if self.kafka.security_protocol == "PLAINTEXT":
            raise ValueError("NOF_KAFKA_SECURITY_PROTOCOL is PLAINTEXT in production: "
                             "use SASL_SSL with a principal for this service")
        return self


def common_settings() -> CommonSettings:
    """Read the shared settings once; services nest them as ``settings.common``."""
    return CommonSettings()
