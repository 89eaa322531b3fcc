"""Publisher service settings (prefix ``NOF_PUBLISHER_``); unsafe values are refused in production."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import CommonSettings
from shared.topics import CHANGES, PUBLIC_EVENTS, PUBLISHER_GROUP, PUBLISHER_SUBSCRIPTIONS

STATIC_DIR = Path(__file__).resolve().parent / "static"


class PublisherSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOF_PUBLISHER_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8003, ge=1, le=65535)
    common: CommonSettings = Field(default_factory=CommonSettings)

    # Admin API (subscriptions). Unset outside production: a token in <local_dir>/publisher-admin-token.
    admin_token_sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")

    # Fernet keys sealing webhook secrets at rest (secret_box.py); unset outside production: a local key file.
    secrets_keys: SecretStr | None = Field(default=None, description="comma-separated Fernet keys, newest first")

    max_body_bytes: int = Field(default=64 * 1024, ge=1024, description="largest request body (admin API); 413 above")

    # Webhooks
    webhook_allow_private_targets: bool = False
    webhook_allowlist: str = Field(default="", description="comma-separated CIDRs or host names always allowed")
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    retry_base_seconds: float = Field(default=0.5, gt=0)
    retry_max_seconds: float = Field(default=60.0, gt=0)
    retry_max_attempts: int = Field(default=8, ge=1, le=50)
    dispatch: bool = True
    lease_seconds: float = Field(default=15.0, ge=1)
    dead_letters_max: int = Field(default=10_000, ge=1, description="dead letters kept per subscription (oldest dropped)")
    webhook_disable_after_seconds: float = Field(
        default=3 * 24 * 3600, gt=0, description="a subscription failing this long without a success is disabled")

    # Event log, SSE
    retained_events: int = Field(default=100_000, ge=100)
    seen_ids_max_age_seconds: float = Field(default=14 * 24 * 3600, gt=0,
                                            description="appended event ids kept for deduplication this long")
    ring_size: int = Field(default=20_000, ge=100)
    sse_heartbeat_seconds: float = Field(default=15.0, gt=0)
    sse_queue_size: int = Field(default=1_000, ge=1)
    sse_send_timeout_seconds: float = Field(default=30.0, gt=0)
    sse_max_clients: int = Field(default=10_000, ge=1, description="event streams served at once, in total")
    sse_max_clients_per_address: int = Field(default=20, ge=1, description="event streams from one client address")

    # Alerts hold-down: a new segment must hold for this many updates AND this many seconds.
    alert_hold_updates: int = Field(default=1, ge=1)
    alert_hold_seconds: float = Field(default=0.0, ge=0)

    # Kafka
    consume: bool = True
    consumer_group: str = PUBLISHER_GROUP
    consumer_offset_reset: Literal["earliest", "latest"] = "earliest"
    changes_topic: str = CHANGES.name
    public_topic: str = PUBLIC_EVENTS.name
    public_topic_enabled: bool = True
    subscriptions_topic: str = PUBLISHER_SUBSCRIPTIONS.name  # the source of truth for subscriptions
    subscriptions_write_timeout_seconds: float = Field(default=10.0, gt=0)
    # Restoring Redis reads the subscriptions topic and nof.changes.v1 to their end; a read that takes longer
    # gives up, and the restore starts over.
    kafka_read_timeout_seconds: float = Field(default=600.0, gt=0)
    # How often a consuming instance checks that Redis still holds its state (it also checks on every batch).
    state_check_seconds: float = Field(default=1.0, gt=0)
    source: str = "urn:nof-live:publisher"

    redis_max_connections: int = Field(default=1_000, ge=4)
    static_dir: Path = STATIC_DIR

    @property
    def allowlist(self) -> list[str]:
        return [s.strip() for s in self.webhook_allowlist.split(",") if s.strip()]

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> "PublisherSettings":
        if self.common.production:
            if not self.admin_token_sha256:
                raise ValueError("NOF_PUBLISHER_ADMIN_TOKEN_SHA256 is required in production")
            if self.secrets_keys is None:
                raise ValueError("NOF_PUBLISHER_SECRETS_KEYS is required in production (Fernet keys that seal "
                                 "webhook secrets in the subscriptions topic and in Redis)")
            if self.webhook_allow_private_targets:
                raise ValueError("NOF_PUBLISHER_WEBHOOK_ALLOW_PRIVATE_TARGETS must not be set in production; "
                                 "use NOF_PUBLISHER_WEBHOOK_ALLOWLIST for specific private networks")
            for item in self.allowlist:
                try:
                    network = ipaddress.ip_network(item, strict=False)
                except ValueError:
                    continue  # a host name
                if network.prefixlen == 0:
                    raise ValueError(f"NOF_PUBLISHER_WEBHOOK_ALLOWLIST: {item} allows every address, which turns the "
                                     "webhook target guard off; list the specific private networks instead")
        return self
