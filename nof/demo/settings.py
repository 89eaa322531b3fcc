"""Where the demo sends inputs and with which key (prefix ``NOF_DEMO_``), read once."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import CommonSettings

DEV_KEY_FILE = "ingest-dev-key"


class DemoSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOF_DEMO_", extra="ignore")

    ingest_url: str = "http://127.0.0.1:8001"
    publisher_url: str = "http://127.0.0.1:8003"
    api_key: SecretStr | None = Field(default=None, description="bearer key for the ingest API")
    common: CommonSettings = Field(default_factory=CommonSettings)

    @property
    def dev_key_path(self) -> Path:
        return self.common.local_dir / DEV_KEY_FILE

    def resolve_key(self, given: str | None) -> str:
        """``--api-key``, else NOF_DEMO_API_KEY, else the local development key file."""
        if given:
            return given
        if self.api_key is not None:
            return self.api_key.get_secret_value()
        try:
            key = self.dev_key_path.read_text().strip()
        except OSError:
            key = ""
        if not key:
            raise ValueError(
                f"no ingest API key: pass --api-key, set NOF_DEMO_API_KEY, or start the local "
                f"stack (make up), which writes {self.dev_key_path}")
        return key
