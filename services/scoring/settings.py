"""Scoring service settings (prefix ``NOF_SCORING_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import CommonSettings


class ScoringSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOF_SCORING_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8002, ge=1, le=65535)
    methodology: str = "nof-2025-26"
    data_dir: str | None = None
    batch_max: int = Field(default=500, ge=1, description="records handled between waits for broker acknowledgement")
    batch_within_s: float = Field(default=0.05, gt=0, description="longest time between those waits")
    cache_flush_interval_s: float = Field(default=0.05, gt=0, description="how often changed leagues go to Redis")
    cache_flush_max_share: float = Field(default=0.33, gt=0, le=1,
                                         description="most of the worker's time Redis writes may take under load")
    cache_check_interval_s: float = Field(default=1.0, gt=0, description="how often Redis is checked for lost leagues")
    common: CommonSettings = Field(default_factory=CommonSettings)

    @property
    def state_dir(self) -> str:
        return self.data_dir or str(self.common.local_dir / "scoring")
