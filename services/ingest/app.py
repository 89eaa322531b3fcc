"""Ingest service composition root: builds the FastAPI app and opens its clients in the lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.ingest.settings import IngestSettings
from shared.http import operational_router
from shared.kafka_admin import broker_answers


def create_app(settings: IngestSettings | None = None) -> FastAPI:
    settings = settings or IngestSettings()

    async def kafka_ok() -> bool:
        return await asyncio.to_thread(broker_answers, settings.common.kafka)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield

    app = FastAPI(title="NOF live: ingest", version="1", lifespan=lifespan)
    app.include_router(operational_router("ingest", {"kafka": kafka_ok}))
    return app
