"""Ingest service settings (prefix ``NOF_INGEST_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import CommonSettings


class IngestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOF_INGEST_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8001, ge=1, le=65535)
    common: CommonSettings = Field(default_factory=CommonSettings)
