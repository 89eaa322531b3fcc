"""Scoring service composition root: the faust app, its input agent, table, timers and web endpoints.

Partitioning: every input is keyed by its league's partition key (see Methodology.partition_key), so
one league's inputs arrive in order at exactly one worker, which owns that league's table partition
and engine. Workers scale with partitions up to one per league; the table's changelog is
co-partitioned with both input topics (shared/topics.py).
"""

from __future__ import annotations

import logging

import faust

from services.scoring import metrics
from services.scoring.runtime import Record, ScoringRuntime
from services.scoring.settings import ScoringSettings
from shared import redis_store
from shared.league_cache import LeagueCache
from shared.methodology import get_methodology
from shared.telemetry import metrics_payload
from shared.topics import CHANGES, INPUT_PARTITIONS, OBSERVATIONS, SCORING_APP_ID, TRUST_STATUS

log = logging.getLogger(__name__)


def create_app(settings: ScoringSettings | None = None) -> faust.App:
    settings = settings or ScoringSettings()
    app = faust.App(
        SCORING_APP_ID,
        broker=[f"kafka://{s}" for s in settings.common.kafka.bootstrap_list],
        store=settings.store,
        datadir=settings.state_dir,
        web_host=settings.host,
        web_port=settings.port,
        topic_allow_declare=False,
        topic_disable_leader=True,
        topic_partitions=INPUT_PARTITIONS,
        producer_acks=-1,
        producer_compression_type="gzip",
        producer_linger_ms=2,
        table_standby_replicas=0,
        consumer_auto_offset_reset="earliest",
    )
    inputs = app.topic(OBSERVATIONS.name, TRUST_STATUS.name, key_serializer="raw", value_serializer="raw",
                       partitions=INPUT_PARTITIONS, internal=False)
    table = app.Table("league_inputs", key_type=str, value_type=bytes, partitions=INPUT_PARTITIONS)
    sinks = {name: app.topic(name, key_serializer="raw", value_serializer="raw")
             for name in (CHANGES.name, f"{OBSERVATIONS.name}.dlq", f"{TRUST_STATUS.name}.dlq")}
    redis = redis_store.connect(settings.common.redis)

    async def send(topic: str, key: bytes, value: bytes, on_ack) -> None:  # noqa: ANN001
        callback = None if on_ack is None else (lambda _fut: on_ack())
        await sinks[topic].send(key=key, value=value, callback=callback)

    runtime = ScoringRuntime(get_methodology(settings.methodology), table, send,
                             LeagueCache(redis, settings.common.redis.key_prefix), CHANGES.name)
    app.scoring_runtime = runtime  # tests and the web views read it
    ready = {"recovered": False}

    @app.agent(inputs, concurrency=1)  # one at a time: faust issue 606, a higher concurrency can lose records
    async def score(stream):  # noqa: ANN001
        async for event in stream.events():
            m = event.message
            await runtime.handle(Record(m.topic, m.partition, m.offset, event.key, event.value))

    @app.on_partitions_revoked.connect
    async def on_revoked(sender, revoked, **kwargs) -> None:  # noqa: ANN001
        ready["recovered"] = False

    @app.on_rebalance_complete.connect
    async def on_rebalanced(sender, **kwargs) -> None:  # noqa: ANN001
        runtime.rebuild((k.decode() if isinstance(k, bytes) else k, v) for k, v in table.items())
        await runtime.resend_outbox()
        ready["recovered"] = True

    @app.timer(settings.cache_flush_interval_s)
    async def flush_cache() -> None:
        if ready["recovered"]:
            await runtime.flush_cache()

    @app.timer(settings.cache_check_interval_s)
    async def check_cache_and_lag() -> None:
        if ready["recovered"]:
            await runtime.check_cache()
        monitor = app.monitor
        for tp, end in (monitor.tp_end_offsets or {}).items():
            committed = (monitor.tp_committed_offsets or {}).get(tp, 0)
            metrics.CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(max(0, end - committed))

    @app.page("/healthz")
    async def healthz(self, request):  # noqa: ANN001 - faust view signature
        checks = {"recovered": "ok" if ready["recovered"] else "recovering"}
        try:
            checks["redis"] = "ok" if await redis_store.answers(redis) else "down"
        except Exception as exc:  # a probe reports, it never raises
            checks["redis"] = f"down: {type(exc).__name__}"
        healthy = all(v == "ok" for v in checks.values())
        return self.json({"service": "scoring", "status": "ok" if healthy else "degraded", "checks": checks,
                          "leagues": {lg: v for s in runtime.scorers.values() for lg, v in s.versions.items()}},
                         status=200 if healthy else 503)

    @app.page("/metrics")
    async def prometheus(self, request):  # noqa: ANN001
        body, content_type = metrics_payload()
        return self.bytes(body, content_type=content_type)

    return app
