"""Ingest service composition root: builds the FastAPI app and opens its clients in the lifespan."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis
from fastapi import FastAPI

from services.ingest.accept import Acceptor
from services.ingest.ledger import Ledger, RedisLedger
from services.ingest.period_window import PeriodWindow
from services.ingest.trust_log import KafkaTrustLog, TrustLog
from services.ingest.trust_register import TrustRegister
from services.ingest.key_gate import KeyGate
from services.ingest.routes import IngestContext, router
from services.ingest.settings import IngestSettings
from services.ingest.sink import InputSink, KafkaInputSink
from shared import api_docs, problems, redis_store
from shared.http import BodyLimit, operational_router
from shared.errors import Unavailable
from shared.methodology import get_methodology, load_trust_register
from shared.topics import TRUSTS


log = logging.getLogger(__name__)


def create_app(settings: IngestSettings | None = None, sink: InputSink | None = None,
               ledger: Ledger | None = None, trust_log: TrustLog | None = None) -> FastAPI:
    """The app; ``sink``, ``ledger`` and ``trust_log`` default to Kafka, Redis and the TRUSTS topic (tests pass
    the in-memory twins). The lifespan reads the shared trust register, then follows it in a thread."""
    settings = settings or IngestSettings()
    trust_log = trust_log or KafkaTrustLog(settings.common.kafka, TRUSTS.name)
    trusts = TrustRegister(trust_log, load_trust_register(), settings.publish_timeout_s)
    sink = sink or KafkaInputSink(settings.common.kafka)
    redis_ledger = None
    if ledger is None:
        ledger = redis_ledger = RedisLedger(
            redis.Redis.from_url(settings.common.redis.url, socket_timeout=settings.publish_timeout_s),
            settings.common.redis.key_prefix, settings.idempotency_ttl_days * 86_400)
    methodology = get_methodology(settings.methodology)
    ctx = IngestContext(
        settings=settings,
        acceptor=Acceptor(methodology, trusts.entries,
                          PeriodWindow(methodology.first_period, settings.period_horizon_months, methodology.version)),
        sink=sink,
        keys=settings.key_ring(),
        ledger=ledger,
        trusts=trusts,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        follower = threading.Thread(target=trusts.follow, args=(stop, settings.trust_sync_seconds),
                                    name="trust-register", daemon=True)
        try:
            await asyncio.to_thread(trusts.sync)  # the shared entries before the first request, when Kafka answers
        except Unavailable as exc:
            log.warning("trust register topic unreadable at start; using the shipped file until it answers",
                        extra={"error": str(exc)})
        follower.start()
        yield
        stop.set()
        await asyncio.to_thread(follower.join, 10)
        await asyncio.to_thread(trust_log.close)
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
    problems.install(app, unanswered=redis_store.UNANSWERED)
    app.include_router(router)
    app.include_router(operational_router("ingest", {"kafka": kafka_ok, "redis": redis_ok}))
    csv_path = "/v1/observations/csv"
    app.add_middleware(BodyLimit, limit_for=lambda p: settings.max_csv_bytes if p == csv_path else settings.max_body_bytes)
    app.add_middleware(KeyGate, keys=ctx.keys)  # outermost: an unknown key is refused before the body is read
    return app
