"""Typed settings for every service: read once from the environment, passed down, unsafe values refused in production."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from pydantic import Field, model_validator
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

    @property
    def bootstrap_list(self) -> list[str]:
        return [s.strip() for s in self.bootstrap_servers.split(",") if s.strip()]


class RedisSettings(BaseSettings):
    """The league-table read model (prefix ``NOF_REDIS_``)."""

    model_config = SettingsConfigDict(env_prefix="NOF_REDIS_", extra="ignore")

    url: str = "redis://127.0.0.1:6379/0"
    key_prefix: str = "nof"


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

    @model_validator(mode="after")
    def _refuse_local_infrastructure_in_production(self) -> "CommonSettings":
        if self.production and "127.0.0.1" in self.kafka.bootstrap_servers:
            raise ValueError("NOF_KAFKA_BOOTSTRAP_SERVERS points at a loopback broker in production")
        return self


def common_settings() -> CommonSettings:
    """Read the shared settings once; services nest them as ``settings.common``."""
    return CommonSettings()
