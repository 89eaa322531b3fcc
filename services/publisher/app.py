"""Publisher service composition root: builds the FastAPI app and opens its clients in the lifespan.

The lifespan opens Redis and an HTTP client, then runs the background tasks: the event-log tail (hub),
the Kafka change consumer with the state check that restores Redis after a loss (recovery.py), the
webhook dispatcher and the public-topic relay (each can be switched off in settings, e.g. to run a
read/SSE-only instance). ``create_app(settings, event_log=…, store=…, sub_log=…, rebuild=…,
new_consumer=…)`` accepts the in-memory twins for tests.
"""

from __future__ import annotations

import asyncio
import contextlib

import redis.asyncio as aioredis
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from shared import api_docs, problems, redis_store
from shared.http import BodyLimit, operational_router
from shared.kafka_security import aiokafka_options
from shared.league_cache import LeagueCache
from shared.methodology.register import load_trust_register

from services.publisher import alerts, consumer, relay
from services.publisher.auth import admin_token_hash
from services.publisher.dispatcher import Dispatcher
from services.publisher.event_log import EventLog, RedisEventLog
from services.publisher.hub import Hub
from services.publisher.recovery import Rebuild, Recovery, kafka_behind, kafka_rebuild
from services.publisher.retry import RetryPolicy
from services.publisher.routes import leagues, pages, stream, subscriptions
from services.publisher.runtime import Runtime
from services.publisher.league_views import LeagueViews
from services.publisher.secret_box import secret_box
from services.publisher.settings import PublisherSettings
from services.publisher.sse_limits import ConnectionLimits
from services.publisher.ssrf import TargetGuard
from services.publisher.subscription_log import KafkaSubscriptionLog, SubscriptionLog
from services.publisher.subscriptions import RedisSubscriptionStore, SubscriptionStore
from services.publisher.webhook_client import WebhookClient


def _kafka_consumer(s: PublisherSettings) -> AIOKafkaConsumer:
    k = s.common.kafka
    return AIOKafkaConsumer(
        s.changes_topic, bootstrap_servers=k.bootstrap_list, client_id=f"{k.client_id}-publisher",
        group_id=s.consumer_group, enable_auto_commit=False, auto_offset_reset=s.consumer_offset_reset,
        request_timeout_ms=k.request_timeout_ms, **aiokafka_options(k))


def _kafka_producer(s: PublisherSettings) -> AIOKafkaProducer:
    k = s.common.kafka
    return AIOKafkaProducer(bootstrap_servers=k.bootstrap_list, client_id=f"{k.client_id}-publisher",
                            acks="all", enable_idempotence=True, linger_ms=5, request_timeout_ms=k.request_timeout_ms,
                            **aiokafka_options(k))


def _const(value: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return value()
    return check


def create_app(settings: PublisherSettings | None = None, *, event_log: EventLog | None = None,
               store: SubscriptionStore | None = None, sub_log: SubscriptionLog | None = None,
               rebuild: Rebuild | None = None, new_consumer: Callable[[], AIOKafkaConsumer] | None = None) -> FastAPI:
    settings = settings or PublisherSettings()
    admin_sha256 = admin_token_hash(settings)  # refuses to start without a token hash in production
    # Sized for one connection per webhook worker at a burst (the library's default cap is lower).
    redis = aioredis.from_url(settings.common.redis.url, max_connections=settings.redis_max_connections,
                              health_check_interval=30)
    prefix = settings.common.redis.key_prefix
    event_log = event_log or RedisEventLog(redis, prefix, settings.retained_events, settings.seen_ids_max_age_seconds)
    box = secret_box(settings)  # refuses to start without keys in production
    store = store or RedisSubscriptionStore(redis, prefix, box, settings.dead_letters_max)
    sub_log = sub_log or KafkaSubscriptionLog(settings, box)
    hub = Hub(event_log, settings.ring_size)
    guard = TargetGuard(settings.webhook_allow_private_targets, settings.allowlist)
    register = load_trust_register()
    runtime = Runtime(settings, LeagueCache(redis, prefix), event_log, hub, store, guard, admin_sha256, sub_log,
                      LeagueViews(register),
                      ConnectionLimits(settings.sse_max_clients, settings.sse_max_clients_per_address))
    regions = {code: t.region for code, t in register.items()}
    hold = alerts.HoldDown(settings.alert_hold_updates, settings.alert_hold_seconds)
    recovery = Recovery(event_log, store, sub_log, rebuild or kafka_rebuild(settings, event_log, hold, regions),
                        recover=settings.consume,
                        behind=None if rebuild else kafka_behind(settings, event_log))
    status = consumer.Status()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        http = await WebhookClient(settings.webhook_timeout_seconds, guard).open()
        policy = RetryPolicy(settings.retry_base_seconds, settings.retry_max_seconds, settings.retry_max_attempts)
        dispatcher = Dispatcher(store, hub, http, policy, guard, lease_seconds=settings.lease_seconds,
                                disable_after_seconds=settings.webhook_disable_after_seconds)
        recovery.on_change += [hub.reset, dispatcher.restart]
        tasks = [asyncio.create_task(hub.run(), name="hub")]
        await asyncio.wait_for(hub.ready.wait(), 10)
        tasks.append(asyncio.create_task(recovery.run(settings.state_check_seconds), name="state-check"))
        if settings.consume:
            tasks.append(asyncio.create_task(consumer.run(
                new_consumer or (lambda: _kafka_consumer(settings)), event_log, hold, regions, settings.source,
                recovery, status), name="consumer"))
        if settings.dispatch:
            tasks.append(asyncio.create_task(dispatcher.run(), name="dispatcher"))
        if settings.public_topic_enabled:
            tasks.append(asyncio.create_task(relay.run(
                lambda: _kafka_producer(settings), settings.public_topic, hub, store, dispatcher.owner,
                int(settings.lease_seconds * 1000)), name="relay"))
        app.state.tasks = tasks
        try:
            yield
        finally:
            for task in reversed(tasks):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await http.close()
            await sub_log.close()
            await redis.aclose()

    app = api_docs.build_app(title="NOF live: publisher", version="1", lifespan=lifespan,
                  description="Read API, webhook subscriptions, Server-Sent Events and segment alerts. "
                              "See docs/PUBLISHER.md.")
    app.state.runtime = runtime
    app.state.recovery, app.state.consumer_status = recovery, status
    problems.install(app, unanswered=redis_store.UNANSWERED)
    app.add_middleware(BodyLimit, limit_for=lambda path: settings.max_body_bytes)
    checks = {"redis": lambda: redis_store.answers(redis)}
    if settings.consume:  # a consuming instance is healthy once it consumes and Redis holds its state
        checks["consumer"] = _const(lambda: status.running)
        checks["state"] = _const(lambda: recovery.ready)
    app.include_router(operational_router("publisher", checks))
    app.include_router(leagues.router)
    app.include_router(subscriptions.router)
    app.include_router(stream.router)
    if settings.static_dir.is_dir():
        app.include_router(pages.router)
        app.mount("/static", StaticFiles(directory=settings.static_dir), name="static")
        app.mount("/", StaticFiles(directory=settings.static_dir, html=True), name="dashboard")
    return app
