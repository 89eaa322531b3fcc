"""Scoring service settings (prefix ``NOF_SCORING_``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import CommonSettings


class ScoringSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOF_SCORING_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8002, ge=1, le=65535)
    methodology: str = "nof-2025-26"
    data_dir: str | None = None
    batch_max: int = Field(default=500, ge=1, description="most input records in one durable batch")
    batch_max_bytes: int = Field(default=1_000_000, ge=1, description="most bytes of input records in one batch")
    batch_within_s: float = Field(default=0.02, gt=0, description="longest a batch stays open after its first record")
    batch_events_max: int = Field(default=2000, ge=1, description="change events after which a batch is closed "
                                  "early (they travel in its commit record)")
    fetch_max_wait_s: float = Field(default=0.05, gt=0, le=1.5, description="longest the broker holds a fetch "
                                    "while no new record is there (bounds how long a partition's next records wait "
                                    "for a fetch on the other partitions; lower costs more CPU while idle)")
    stall_after_s: float = Field(default=30.0, gt=0, description="how long records may wait on a partition whose "
                                 "applied offset does not move before /healthz says it stalled")
    reposition_drain_s: float = Field(default=1.0, gt=0, description="how long a partition is paused before it is "
                                      "sought back after a gap")
    producer_compression: Literal["none", "gzip"] = Field(
        default="none", description="compression of the records the scorer writes (commit records, state, change "
        "events); gzip costs the scorer's one core about a tenth of its time and saves bandwidth only where the "
        "broker is across a network (a topic's own compression.type can compress at the broker instead)")
    cache_flush_interval_s: float = Field(default=0.02, gt=0, description="how often changed leagues go to Redis")
    cache_flush_max_share: float = Field(default=0.33, gt=0, le=1,
                                         description="most of the worker's time one league's Redis writes may "
                                         "take under load")
    cache_check_interval_s: float = Field(default=1.0, gt=0, description="how often Redis is checked for lost leagues")
    common: CommonSettings = Field(default_factory=CommonSettings)

    @property
    def state_dir(self) -> str:
        return self.data_dir or str(self.common.local_dir / "scoring")
