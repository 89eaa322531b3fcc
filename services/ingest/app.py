"""Ingest service composition root: builds the FastAPI app and opens its clients in the lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis
from fastapi import FastAPI

from services.ingest.accept import Acceptor
from services.ingest.ledger import Ledger, RedisLedger
from services.ingest.period_window import PeriodWindow
from services.ingest.routes import IngestContext, router
from services.ingest.settings import IngestSettings
from services.ingest.sink import InputSink, KafkaInputSink
from shared import api_docs, problems
from shared.http import BodyLimit, operational_router
from shared.methodology import get_methodology, load_trust_register


def create_app(settings: IngestSettings | None = None, sink: InputSink | None = None,
               ledger: Ledger | None = None) -> FastAPI:
    """The app; ``sink`` and ``ledger`` default to Kafka and Redis (tests pass the in-memory twins)."""
    settings = settings or IngestSettings()
    sink = sink or KafkaInputSink(settings.common.kafka)
    redis_ledger = None
    if ledger is None:
        ledger = redis_ledger = RedisLedger(
            redis.Redis.from_url(settings.common.redis.url, socket_timeout=settings.publish_timeout_s),
            settings.common.redis.key_prefix, settings.idempotency_ttl_days * 86_400)
    methodology = get_methodology(settings.methodology)
    ctx = IngestContext(
        settings=settings,
        acceptor=Acceptor(methodology, load_trust_register(),
                          PeriodWindow(methodology.first_period, settings.period_horizon_months, methodology.version)),
        sink=sink,
        keys=settings.key_ring(),
        ledger=ledger,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await asyncio.to_thread(sink.close)
        if redis_ledger is not None:
            redis_ledger.close()

    async def kafka_ok() -> bool:
        return await asyncio.to_thread(sink.healthy)

    async def redis_ok() -> bool:
        return await asyncio.to_thread(ledger.healthy)

    app = api_docs.build_app(
        title="NOF live: ingest",
        version="1",
        description="Accepts metric observations and trust status changes and publishes them to Kafka.",
        lifespan=lifespan,
    )
    app.state.ingest = ctx
    problems.install(app)
    app.include_router(router)
    app.include_router(operational_router("ingest", {"kafka": kafka_ok, "redis": redis_ok}))
    csv_path = "/v1/observations/csv"
    app.add_middleware(BodyLimit, limit_for=lambda p: settings.max_csv_bytes if p == csv_path else settings.max_body_bytes)
    return app
