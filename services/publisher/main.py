"""Entrypoint: `nof-publisher` serves the publisher API."""

from __future__ import annotations

import uvicorn

from services.publisher.app import create_app
from services.publisher.settings import PublisherSettings
from shared.telemetry import configure_logging


def main() -> None:
    settings = PublisherSettings()
    configure_logging("publisher", settings.common.log_level, settings.common.log_json)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
