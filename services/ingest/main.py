"""Entrypoint: `nof-ingest` serves the ingest API."""

from __future__ import annotations

import uvicorn

from services.ingest.app import create_app
from services.ingest.settings import IngestSettings
from shared.telemetry import configure_logging


def main() -> None:
    settings = IngestSettings()
    configure_logging("ingest", settings.common.log_level, settings.common.log_json)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
