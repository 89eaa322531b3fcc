"""Ingest service composition root: builds the FastAPI app and opens its clients in the lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.ingest.accept import Acceptor
from services.ingest.key_gate import KeyGate
from services.ingest.routes import IngestContext, router
from services.ingest.settings import IngestSettings
from services.ingest.sink import InputSink, KafkaInputSink
from shared.http import BodyLimit, install_error_handlers, operational_router
from shared.methodology import get_methodology, load_trust_register


def create_app(settings: IngestSettings | None = None, sink: InputSink | None = None) -> FastAPI:
    settings = settings or IngestSettings()
    sink = sink or KafkaInputSink(settings.common.kafka)
    ctx = IngestContext(
        settings=settings,
        acceptor=Acceptor(get_methodology(settings.methodology), load_trust_register()),
        sink=sink,
        keys=settings.key_ring(),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await asyncio.to_thread(sink.close)

    async def kafka_ok() -> bool:
        return await asyncio.to_thread(sink.healthy)

    app = FastAPI(
        title="NOF live: ingest",
        version="1",
        description="Accepts metric observations and trust status changes and publishes them to Kafka.",
        lifespan=lifespan,
    )
    app.state.ingest = ctx
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(operational_router("ingest", {"kafka": kafka_ok}))
    csv_path = "/v1/observations/csv"
    app.add_middleware(BodyLimit, limit_for=lambda p: settings.max_csv_bytes if p == csv_path else settings.max_body_bytes)
    app.add_middleware(KeyGate, keys=ctx.keys)  # outermost: an unknown key is refused before the body is read
    return app
