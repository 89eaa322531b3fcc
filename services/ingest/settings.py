"""Ingest service settings (prefix ``NOF_INGEST_``); unsafe values are refused in production."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.api_keys import ApiKey, KeyRing, development_key, hash_key
from shared.settings import CommonSettings

SCOPES = frozenset({"observations:write", "status:write", "trusts:write", "retractions:write"})


class IngestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOF_INGEST_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8001, ge=1, le=65535)
    methodology: str = "nof-2025-26"
    max_batch: int = Field(default=5_000, ge=1, le=100_000)
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    max_csv_bytes: int = Field(default=2 * 1024**3, ge=1024)
    csv_chunk_rows: int = Field(default=5_000, ge=1)
    publish_timeout_s: float = Field(default=15.0, gt=0)
    idempotency_ttl_days: int = Field(default=400, ge=1, description="how long a client's observation_id is kept")
    trust_sync_seconds: float = Field(default=1.0, gt=0, description="how often the shared trust register is read")
    period_horizon_months: int = Field(default=1, ge=0, le=120,
                                       description="how many months after the current month a period may end")
    api_keys: list[ApiKey] = Field(default_factory=list, description="JSON list of {name, sha256, scopes}")
    common: CommonSettings = Field(default_factory=CommonSettings)

    @model_validator(mode="after")
    def _keys_in_production(self) -> "IngestSettings":
        if self.common.production and not self.api_keys:
            raise ValueError("NOF_INGEST_API_KEYS must list at least one hashed key in production")
        return self

    def key_ring(self) -> KeyRing:
        """Configured keys; outside production with none configured, the local development key (all scopes)."""
        if self.api_keys:
            return KeyRing(self.api_keys)
        self.common.allow_local_credentials("local development API key (NOF_INGEST_API_KEYS)")
        key = development_key(self.common.local_dir / "ingest-dev-key")
        return KeyRing([ApiKey(name="local-development", sha256=hash_key(key), scopes=SCOPES)])
