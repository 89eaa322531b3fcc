"""Scoring service composition root: the faust app, its input agent, table, timers and web endpoints.

Partitioning: every input is keyed by its league's partition key (see Methodology.partition_key), so
one league's inputs arrive in order at exactly one worker, which owns that league's table partition
and engine. Workers scale with partitions up to one per league; the table's changelog is
co-partitioned with both input topics (shared/topics.py).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

import faust
from faust.types import TP

from services.scoring import metrics
from services.scoring.runtime import FlushPacer, Record, ScoringRuntime
from services.scoring.settings import ScoringSettings
from services.scoring.store import FaustTableStore
from services.scoring.trail import InputTrail
from shared import redis_store
from shared.kafka_security import faust_credentials
from shared.league_cache import LeagueCache
from shared.methodology import get_methodology
from shared.telemetry import logging_config, metrics_payload
from shared.topics import CHANGES, INPUT_PARTITIONS, OBSERVATIONS, SCORING_APP_ID, TRUST_STATUS

log = logging.getLogger(__name__)


def create_app(settings: ScoringSettings | None = None) -> faust.App:
    settings = settings or ScoringSettings()
    app = faust.App(
        SCORING_APP_ID,
        broker=[f"kafka://{s}" for s in settings.common.kafka.bootstrap_list],
        broker_credentials=faust_credentials(settings.common.kafka),
        # The table lives in memory and is recovered from its compacted changelog: FaustTableStore
        # writes each key to an explicit changelog partition, which faust's RocksDB store cannot
        # follow (it files keys by the current event's partition and can run ahead of the changelog
        # after a SIGKILL). See docs/ARCHITECTURE.md.
        store="memory://",
        datadir=settings.state_dir,
        web_host=settings.host,
        web_bind=settings.host,  # faust listens on web_bind (0.0.0.0 by default), not web_host
        web_port=settings.port,
        topic_allow_declare=False,
        topic_disable_leader=True,
        topic_partitions=INPUT_PARTITIONS,
        producer_acks=-1,
        producer_compression_type="gzip",
        producer_linger_ms=2,
        table_standby_replicas=0,
        broker_session_timeout=10.0,  # a worker killed without leaving the group is replaced within ~10 s
        broker_heartbeat_interval=2.0,
        consumer_auto_offset_reset="earliest",
        # The worker installs this when it starts (instead of faust's own text format): JSON lines with
        # the correlation id, as every service logs.
        logging_config=logging_config("scoring", settings.common.log_level, settings.common.log_json),
    )
    inputs = app.topic(OBSERVATIONS.name, TRUST_STATUS.name, key_serializer="raw", value_serializer="raw",
                       partitions=INPUT_PARTITIONS, internal=False)
    table = app.Table("league_inputs", key_type=str, value_type=bytes, partitions=INPUT_PARTITIONS)
    sinks = {name: app.topic(name, key_serializer="raw", value_serializer="raw")
             for name in (CHANGES.name, f"{OBSERVATIONS.name}.dlq", f"{TRUST_STATUS.name}.dlq")}
    redis = redis_store.connect(settings.common.redis)

    async def send(topic: str, key: bytes, value: bytes):  # noqa: ANN202 - returns the ack future
        return await sinks[topic].send(key=key, value=value)

    runtime = ScoringRuntime(get_methodology(settings.methodology), FaustTableStore(table), send,
                             LeagueCache(redis, settings.common.redis.key_prefix), CHANGES.name, INPUT_PARTITIONS)
    app.scoring_runtime = runtime  # tests and the web views read it
    recovered = asyncio.Event()  # the agent waits for the rebuild, so no record meets a stale engine
    trail = InputTrail()  # one log line per correlation id per batch (services/scoring/trail.py)

    # One record at a time (faust issue 606: a higher concurrency can commit past unprocessed records).
    # The scorer's own applied offsets, not the group's committed offsets, say where each partition
    # resumes (see reposition below), so acknowledging a record before its writes are durable loses
    # nothing; commit_batch still waits for the broker now and then, to retire outbox entries.
    @app.agent(inputs, concurrency=1)
    async def score(stream):  # noqa: ANN001
        pending, last_sync = 0, time.monotonic()
        async for event in stream.events():
            await recovered.wait()
            m = event.message
            await runtime.handle(Record(m.topic, m.partition, m.offset, event.key, event.value))
            trail.note(m.headers, m.topic, m.partition, m.offset)
            pending += 1
            if pending >= settings.batch_max or time.monotonic() - last_sync >= settings.batch_within_s:
                handled = trail.take()
                await runtime.commit_batch()
                trail.emit(handled)
                pending, last_sync = 0, time.monotonic()
            for (topic, partition), offset in runtime.gaps.items():
                log.warning("re-reading a partition from its next unapplied offset",
                            extra={"topic": topic, "partition": partition, "offset": offset})
                await app.consumer.seek(TP(topic, partition), offset)
            runtime.gaps.clear()

    @app.on_partitions_revoked.connect
    async def on_revoked(sender, revoked, **kwargs) -> None:  # noqa: ANN001
        recovered.clear()

    @app.on_rebalance_complete.connect
    async def on_rebalanced(sender, **kwargs) -> None:  # noqa: ANN001
        owned = {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == OBSERVATIONS.name}
        gc.unfreeze()  # the previous engine may now be garbage: let the collector see it again
        runtime.rebuild(owns_partition=owned.__contains__)
        # The rebuilt engine is most of the heap and lives until the next rebalance: keep it out of
        # the collector's full scans, which otherwise cost the worker about a tenth of its time under load.
        gc.collect()
        gc.freeze()
        await runtime.resend_outbox()
        # faust seeks to its committed offsets after this handler; the scorer's own applied offsets
        # are the truth, so it seeks again once faust is done, before the agent may run.
        asyncio.ensure_future(reposition({TP(t, p) for t in (OBSERVATIONS.name, TRUST_STATUS.name) for p in owned}))

    async def reposition(tps: set) -> None:  # noqa: ANN001 - faust TPs
        await app.tables.recovery.completed.wait()
        earliest = await app.consumer.earliest_offsets(*tps) if tps else {}
        targets = runtime.resume_from({(tp.topic, tp.partition): off for tp, off in earliest.items()})
        committed = dict(app.consumer._committed_offset)  # what faust just sought to
        for (topic, partition), offset in targets.items():
            tp = TP(topic, partition)
            # Behind the applied offset is fine (handle() skips what is already applied); only a group
            # offset past it, or none at all, needs a seek. Seeking no more than that keeps clear of
            # an aiokafka fetcher race that a seek during a fetch can trigger.
            if committed.get(tp) is None or committed[tp] > offset:
                await app.consumer.seek(tp, offset)
        recovered.set()

    pacer = FlushPacer(settings.cache_flush_max_share)

    @app.timer(settings.cache_flush_interval_s)
    async def flush_cache() -> None:
        if recovered.is_set() and pacer.due(time.monotonic()):
            handled = trail.take()
            await runtime.commit_batch()  # an idle stream's last writes retire their outbox entries too
            trail.emit(handled)
            started = time.monotonic()
            await runtime.flush_cache()
            pacer.ran(started, time.monotonic())

    @app.timer(settings.cache_check_interval_s)
    async def check_cache_and_lag() -> None:
        if recovered.is_set():
            await runtime.check_cache()
        monitor = app.monitor
        for tp, end in (monitor.tp_end_offsets or {}).items():
            committed = (monitor.tp_committed_offsets or {}).get(tp, 0)
            metrics.CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(max(0, end - committed))

    @app.page("/healthz")
    async def healthz(self, request):  # noqa: ANN001 - faust view signature
        checks = {"recovered": "ok" if recovered.is_set() else "recovering"}
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
        return self.bytes(body, content_type=content_type.split(";")[0])

    return app
