"""Scoring service composition root: the faust app, its input agent, state table, timers and web pages.

Partitioning: every input is keyed by its league's partition key (see Methodology.partition_key), so
one league's inputs arrive in order at exactly one worker, which owns that league's table partition
and engine. Workers scale with partitions up to one per league; the table's changelog is
co-partitioned with both input topics (shared/topics.py).

Positions (docs/ARCHITECTURE.md, "Where a partition resumes"): the scorer's own commit records say where
each input partition resumes. When partitions are assigned, the worker recovers its state and commits
those positions to its consumer group before faust seeks to the group's offsets, so faust itself starts
each partition exactly there; nothing seeks while a fetch is in flight.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from services.scoring.batcher import Batcher, PartitionBatchers
from services.scoring.gate import RebuildGate
from services.scoring.positions import Repositioner, commit_positions
from services.scoring.progress import Progress
from services.scoring.read_model import ReadModelWriter
from services.scoring.recorder import ProcessRecorder
from services.scoring.settings import ScoringSettings
from services.scoring.stages import StageClock
from services.scoring.trail import InputTrail
from services.scoring.worker import Record, ScoringWorker
from shared import redis_store
from shared.kafka_security import faust_credentials
from shared.league_cache import LeagueCache
from shared.methodology import get_methodology
from shared.telemetry import logging_config, metrics_payload
from shared.topics import CHANGES, INPUT_PARTITIONS, OBSERVATIONS, SCORER_STATE_CHANGELOG, SCORING_APP_ID, TRUST_STATUS

log = logging.getLogger(__name__)

INPUT_TOPICS = (OBSERVATIONS.name, TRUST_STATUS.name)
#: The largest record the scorer writes: a commit record (the events of a batch).
MAX_RECORD_BYTES = 16 * 1024 * 1024


class ProducerSink:
    """Sends through faust's producer directly (not the Topic path: no per-record faust bookkeeping)."""

    def __init__(self, app: faust.App) -> None:
        self.app = app

    async def send(self, topic: str, key: bytes, value: bytes | None, partition: int | None = None):  # noqa: ANN201
        return await self.app.producer.send(topic, key, value, partition, None, None)


def bounded_fetch_wait(consumer_class: type, wait_ms: int) -> type:
    """faust's aiokafka consumer with the broker's long-poll bounded to ``wait_ms`` (faust fixes it at 1.5 s).

    aiokafka keeps at most one fetch in flight per broker, and leaves out of it every partition whose
    fetched records the agent has not consumed yet. While a busy partition's records are being
    consumed, the one fetch in flight is therefore a long-poll on the idle partitions only; the busy
    partition's next records wait until that poll returns, for up to its wait time.
    """

    class Thread(faust_aiokafka.AIOKafkaConsumerThread):
        def _create_worker_consumer(self, transport):  # noqa: ANN001, ANN202 - faust's signature
            consumer = super()._create_worker_consumer(transport)
            consumer._fetch_max_wait_ms = wait_ms  # read when the consumer starts and builds its fetcher
            return consumer

    class Consumer(consumer_class):
        def _new_consumer_thread(self):  # noqa: ANN202 - faust's signature
            return Thread(self, loop=self.loop, beacon=self.beacon)

    return Consumer


def create_app(settings: ScoringSettings | None = None) -> faust.App:
    settings = settings or ScoringSettings()
    app = faust.App(
        SCORING_APP_ID,
        broker=[f"kafka://{s}" for s in settings.common.kafka.bootstrap_list],
        broker_credentials=faust_credentials(settings.common.kafka),
        # The table lives in memory and is recovered from its compacted changelog, which the worker
        # writes itself, per input partition (services/scoring/recorder.py). See docs/ARCHITECTURE.md.
        store="memory://",
        datadir=settings.state_dir,
        web_host=settings.host,
        web_bind=settings.host,  # faust listens on web_bind (0.0.0.0 by default), not web_host
        web_port=settings.port,
        topic_allow_declare=False,
        topic_disable_leader=True,
        topic_partitions=INPUT_PARTITIONS,
        producer_acks=-1,
        producer_compression_type=None if settings.producer_compression == "none" else settings.producer_compression,
        producer_linger_ms=2,
        producer_max_request_size=MAX_RECORD_BYTES,
        consumer_max_fetch_size=MAX_RECORD_BYTES,
        table_standby_replicas=0,
        # The scorer's positions are its own (commit records), so a rebalance need not wait for faust's
        # unacknowledged events: the revoke handler finishes the batch in hand instead.
        stream_wait_empty=False,
        broker_session_timeout=10.0,  # a worker killed without leaving the group is replaced within ~10 s
        broker_heartbeat_interval=2.0,
        consumer_auto_offset_reset="earliest",
        # The worker installs this when it starts (instead of faust's own text format): JSON lines with
        # the correlation id, as every service logs.
        logging_config=logging_config("scoring", settings.common.log_level, settings.common.log_json),
    )
    app.transport.Consumer = bounded_fetch_wait(app.transport.Consumer, round(settings.fetch_max_wait_s * 1000))
    inputs = app.topic(*INPUT_TOPICS, key_serializer="raw", value_serializer="raw",
                       partitions=INPUT_PARTITIONS, internal=False)
    table = app.Table("league_state", key_type=str, value_type=bytes, partitions=INPUT_PARTITIONS)
    redis = redis_store.connect(settings.common.redis)
    sink = ProducerSink(app)
    worker = ScoringWorker(get_methodology(settings.methodology),
                           ProcessRecorder(sink, SCORER_STATE_CHANGELOG.name, table.data),
                           sink, CHANGES.name, INPUT_PARTITIONS, settings.batch_events_max)
    progress = Progress(settings.stall_after_s)
    trail = InputTrail()  # one log line per correlation id per batch (services/scoring/trail.py)
    gate = RebuildGate()  # no batch meets a stale engine: closed from a revocation until the rebuild
    repositioner = Repositioner(app.consumer, TP, lambda tp: worker.positions[tp], worker.skip_to,
                                settings.reposition_drain_s)
    app.scoring_worker = worker  # tests and the web views read it

    clock = StageClock()  # where each record's time goes (nof_scoring_input_stage_seconds)

    async def process(events: list) -> None:
        async with gate.entered():
            started = time.time()
            done = await worker.process(
                [Record(e.message.topic, e.message.partition, e.message.offset, e.key, e.value) for e in events])
            clock.durable(events, started, time.time())
            for event in events:
                m = event.message
                held = done.held.get((m.topic, m.partition, m.offset))
                if held:
                    trail.note(m.headers, m.topic, m.partition, m.offset, held)
            trail.emit(trail.take())
            progress.track(worker.positions, time.monotonic())
            for tp, expected in done.gaps.items():
                repositioner.gap(tp, expected)

    batchers = PartitionBatchers(range(INPUT_PARTITIONS), lambda: Batcher(
        process, settings.batch_max, settings.batch_max_bytes, settings.batch_within_s))
    # A league's write holds its input partition's batcher lock while it reads the engine: no batch of that
    # partition changes it meanwhile, and other partitions' batches go on.
    writer = ReadModelWriter(worker, LeagueCache(redis, settings.common.redis.key_prefix),
                             hold=lambda pk: batchers[worker.partition_of(pk)].lock,
                             share=settings.cache_flush_max_share)

    # One agent, one record at a time into the batchers (faust issue 606: a higher concurrency can commit
    # past unprocessed records). noack: an event is acknowledged only once its batch is durable.
    @app.agent(inputs, concurrency=1)
    async def score(stream):  # noqa: ANN001
        async for event in stream.noack().events():
            clock.received(event.message)
            await batchers[event.message.partition].add(event, len(event.value or b""))

    @app.timer(settings.batch_within_s / 2)
    async def close_batches() -> None:
        await batchers.tick()

    @app.on_partitions_revoked.connect
    async def on_revoked(sender, revoked, **kwargs) -> None:  # noqa: ANN001
        gate.revoked()
        if gate.is_open:
            await writer.stop()
            await batchers.drain()  # what this worker fetched is applied and durable: less to read again
        await gate.close()  # batches started from now on wait for the rebuild, and none is inside it
        await writer.stop()

    @app.on_rebalance_complete.connect
    async def on_rebalanced(sender, **kwargs) -> None:  # noqa: ANN001
        # faust sends this from its recovery task, which a newer rebalance may overtake: each step after an
        # await checks that no revocation came meanwhile, and an overtaken rebuild stops where it is (the
        # newer one rebuilds again) without committing positions, writing state or opening the gate.
        since = gate.revocations
        overtaken = lambda: gate.overtaken(since)  # noqa: E731
        await gate.close()  # already closed by the revocation; never rebuild beside a batch in any case
        await writer.stop()
        if overtaken():
            return
        owned = {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == OBSERVATIONS.name}
        gc.unfreeze()  # the previous engine may now be garbage: let the collector see it again
        clock.forget()
        resume = worker.recover(owned, INPUT_TOPICS)
        fresh = [TP(t, p) for (t, p), offset in resume.items() if offset is None]
        if fresh:
            for tp, offset in (await app.consumer.earliest_offsets(*fresh)).items():
                worker.start_at((tp.topic, tp.partition), offset)
                resume[(tp.topic, tp.partition)] = offset
            if overtaken():
                return
        # faust seeks to the group's committed offsets right after this handler returns (before any
        # fetch): make them the durable positions, so the seek is the only one and lands exactly there.
        await commit_positions(app.consumer._commit, TP, resume)
        if overtaken():
            return
        # The rebuilt engine is most of the heap and lives until the next rebalance: keep it out of
        # the collector's full scans, which otherwise cost the worker about a tenth of its time under load.
        gc.collect()
        gc.freeze()
        await worker.redo_last_batches()
        if overtaken():
            return
        progress.forget(set(worker.positions))
        progress.track(worker.positions, time.monotonic())
        progress.restart_clock(time.monotonic())
        gate.open()

    @app.timer(settings.cache_flush_interval_s)
    async def flush_cache() -> None:
        if gate.is_open:
            writer.start_due(time.monotonic())  # each league on its own task, paced on its own

    @app.timer(settings.cache_check_interval_s)
    async def check_cache_and_progress() -> None:
        if not gate.is_open:
            return
        await writer.check()
        tps = [TP(t, p) for t, p in worker.positions]
        if tps:
            ends = await app.consumer.highwaters(*tps)
            progress.ends({(tp.topic, tp.partition): end for tp, end in ends.items()}, time.monotonic())
        progress.stalled(time.monotonic())

    @app.page("/healthz")
    async def healthz(self, request):  # noqa: ANN001 - faust view signature
        checks = {"recovered": "ok" if gate.is_open else "recovering"}
        try:
            checks["redis"] = "ok" if await redis_store.answers(redis) else "down"
        except Exception as exc:  # a probe reports, it never raises
            checks["redis"] = f"down: {type(exc).__name__}"
        stalled = progress.stalled(time.monotonic()) if gate.is_open else []
        checks["progress"] = "ok" if not stalled else "stalled: " + ", ".join(
            f"{t}:{p} at {progress.position.get((t, p))} of {progress.end_offset.get((t, p))}" for t, p in stalled)
        healthy = all(v == "ok" for v in checks.values())
        return self.json({"service": "scoring", "status": "ok" if healthy else "degraded", "checks": checks,
                          "leagues": {lg: v for s in worker.scorers.values() for lg, v in s.versions.items()},
                          "applied_lag": {f"{t}:{p}": progress.lag((t, p)) for t, p in sorted(progress.end_offset)}},
                         status=200 if healthy else 503)

    @app.page("/metrics")
    async def prometheus(self, request):  # noqa: ANN001
        body, content_type = metrics_payload()
        return self.bytes(body, content_type=content_type.split(";")[0])

    return app

