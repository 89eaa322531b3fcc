"""Publisher service composition root: builds the FastAPI app and opens its clients in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.publisher.settings import PublisherSettings
from shared import redis_store
from shared.http import operational_router


def create_app(settings: PublisherSettings | None = None) -> FastAPI:
    settings = settings or PublisherSettings()
    redis = redis_store.connect(settings.common.redis)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await redis.aclose()

    app = FastAPI(title="NOF live: publisher", version="1", lifespan=lifespan)
    app.include_router(operational_router("publisher", {"redis": lambda: redis_store.answers(redis)}))
    return app
