"""Noticing that Redis lost the publisher's state, and restoring it from Kafka.

Redis holds a marker, ``{p}:publisher:state`` = ``ready:<epoch>``. Consuming instances check it every
``NOF_PUBLISHER_STATE_CHECK_SECONDS`` and before every batch, and every append is committed only while the
marker still holds the value checked (event_log.StateLost otherwise), so nothing is appended to a Redis
that lost its state. When the marker is missing (a flush, a Redis that restarted empty, the first start),
one instance (the holder of the ``{p}:publisher:recovery`` lease) restores the state:

1. marks the state ``rebuilding:<epoch>`` (a crash from here on makes the next instance start over);
2. deletes what is left of the publisher's keys (the event log, subscriptions, cursors, dead letters);
3. restores the subscriptions from the subscriptions topic (the source of truth), each with its cursor at
   the start of the log, so each is owed every event of the rebuilt log again (the same ids);
4. rebuilds the event log from the earliest retained offset of nof.changes.v1 up to its current end (the
   appender drops duplicates and older league versions as always and derives the same alerts with the
   same ids). Skipped when the consumer group never committed an offset: a first start, where the group
   reads from ``NOF_PUBLISHER_CONSUMER_OFFSET_RESET`` as before;
5. marks the state ``ready:<new epoch>``.

Every instance that sees the epoch change (the recovering one included) runs its ``on_change`` callbacks:
the hub drops its in-memory ring and the dispatcher restarts its workers from the restored cursors.
Non-consuming instances (``NOF_PUBLISHER_CONSUME=false``) only watch; the consuming ones recover. A marker
missing while the log has entries (state written before markers existed) is adopted as it is.

A Redis restored from an older snapshot keeps a marker, so the check above cannot see it. Each append records
the consumed offsets in the same commit (event_log.py); at start-up a consuming instance compares them with the
consumer group's committed offsets (``kafka_behind``), and when Kafka says more was consumed than Redis holds,
it marks the state ``stale:<epoch>``, so the state is restored as after a loss: the log rebuilt, and the subscriptions taken
from their topic again (a subscription deleted after the snapshot does not come back).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition

from services.publisher import alerts, appender
from services.publisher.change_records import decode
from services.publisher.event_log import EventLog
from services.publisher.settings import PublisherSettings
from services.publisher.subscription_log import SubscriptionLog
from services.publisher.subscriptions import SubscriptionStore
from shared.topic_reader import partitions_async, read_batches_to_end
from shared.kafka_security import aiokafka_options

log = logging.getLogger(__name__)

#: Rebuilds the event log; called with the marker every append must expect; returns how many events it appended.
Rebuild = Callable[[str], Awaitable[int]]

#: Whether Redis holds less than the consumer group has committed (a restore from an older snapshot).
Behind = Callable[[], Awaitable[bool]]

READY, REBUILDING, STALE = "ready:", "rebuilding:", "stale:"


class Recovery:
    def __init__(self, event_log: EventLog, store: SubscriptionStore, sub_log: SubscriptionLog, rebuild: Rebuild,
                 *, recover: bool = True, lock_ms: int = 30_000, wait_seconds: float = 0.5,
                 behind: Behind | None = None) -> None:
        self.event_log, self.store, self.sub_log, self.rebuild = event_log, store, sub_log, rebuild
        self.behind = behind
        self.recover, self.lock_ms, self.wait_seconds = recover, lock_ms, wait_seconds
        self.owner = f"publisher-{uuid.uuid4().hex[:12]}"
        self.epoch: str | None = None  # the ready epoch this instance works with
        self.recovering = False
        self.recoveries = 0  # how many times this instance restored the state
        self.on_change: list[Callable[[], None]] = []
        self._lock = asyncio.Lock()

    @property
    def expected(self) -> str:
        return f"{READY}{self.epoch}"

    @property
    def ready(self) -> bool:
        return self.epoch is not None and not self.recovering

    async def check(self) -> bool:
        """True when Redis holds the state (after restoring it, on a recovering instance, if it was lost)."""
        async with self._lock:
            marker = await self.event_log.state()
            if marker is not None and marker.startswith(READY):
                self._adopt(marker.removeprefix(READY))
                return True
            if not self.recover:
                return False
            if marker is None and await self.event_log.first() is not None:
                await self.event_log.set_state(f"{READY}{uuid.uuid4().hex}")  # state from before markers existed
                log.info("publisher state marker written for an existing event log")
                return await self._recheck()
            if not await self.event_log.lock(self.owner, self.lock_ms):
                return False  # another instance is restoring it
            try:
                if (await self.event_log.state() or "").startswith(READY):
                    return await self._recheck()
                await self._restore(marker)
            finally:
                await self.event_log.unlock(self.owner)
            return await self._recheck()

    async def _recheck(self) -> bool:
        marker = await self.event_log.state()
        if marker is not None and marker.startswith(READY):
            self._adopt(marker.removeprefix(READY))
            return True
        return False

    def _adopt(self, epoch: str) -> None:
        if epoch == self.epoch:
            return
        previous, self.epoch = self.epoch, epoch
        if previous is not None:
            log.warning("the publisher's Redis state was restored; readers restart from the rebuilt log",
                        extra={"epoch": epoch})
            for callback in self.on_change:
                callback()

    async def _restore(self, marker: str | None) -> None:
        epoch = uuid.uuid4().hex
        rebuilding = f"{REBUILDING}{epoch}"
        self.recovering = True
        renew = asyncio.create_task(self._renew(), name="recovery-lease")
        try:
            log.info("the publisher's state marker is missing in Redis; building the state from Kafka",
                     extra={"marker": marker or "missing"})
            await self.event_log.set_state(rebuilding)
            subs = await self.sub_log.load()
            await self.event_log.reset()
            await self.store.reset()
            for sub in subs:
                await self.store.create(sub, "0-0")  # owed every event of the rebuilt log
            appended = await self.rebuild(rebuilding)
            if await self.event_log.state() != rebuilding:
                raise RuntimeError("the state marker changed during the rebuild; starting over")
            await self.event_log.set_state(f"{READY}{epoch}")
            self.recoveries += 1
            if subs or appended or marker is not None:  # something was there to lose, or a rebuild was cut short
                log.warning("Redis lost the publisher's state; restored it from Kafka",
                            extra={"subscriptions": len(subs), "events": appended, "marker": marker or "missing"})
            else:  # a first start: nothing anywhere to restore
                log.info("publisher state initialised: nothing to restore")
        finally:
            self.recovering = False
            renew.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await renew

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self.lock_ms / 3000)
            with contextlib.suppress(Exception):
                await self.event_log.lock(self.owner, self.lock_ms)

    async def ensure(self) -> str:
        """Wait until Redis holds the state; return the marker the next append must expect."""
        while True:
            try:
                if await self.check():
                    return self.expected
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("restoring the publisher's state failed; retrying")
            await asyncio.sleep(self.wait_seconds)

    async def distrust_an_old_snapshot(self) -> bool:
        """At start-up: drop the marker when Redis is behind what Kafka says was consumed. True if it was."""
        if not self.recover or self.behind is None or not await self.behind():
            return False
        log.warning("Redis holds less than the publisher consumed (restored from an older snapshot?); "
                    "restoring its state from Kafka")
        await self.event_log.set_state(f"{STALE}{uuid.uuid4().hex}")  # not ready: the next check restores it
        return True

    async def run(self, every: float = 1.0) -> None:
        """Check the marker periodically (a recovering instance restores a lost state here too)."""
        try:
            await self.distrust_an_old_snapshot()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("could not compare Redis with the consumer group's offsets; carrying on")
        while True:
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("checking the publisher's state failed; retrying")
            await asyncio.sleep(every)


def kafka_rebuild(settings: PublisherSettings, event_log: EventLog, hold: alerts.HoldDown,
                  regions: Mapping[str, str]) -> Rebuild:
    """Re-read nof.changes.v1 from its earliest retained offset to its current end into the log."""
    async def rebuild(expect: str) -> int:
        k, topic = settings.common.kafka, settings.changes_topic
        reader = AIOKafkaConsumer(bootstrap_servers=k.bootstrap_list, group_id=settings.consumer_group,
                                  enable_auto_commit=False, client_id=f"{k.client_id}-publisher-rebuild",
                                  request_timeout_ms=k.request_timeout_ms, **aiokafka_options(k))
        await reader.start()
        appended = 0
        try:
            parts = await partitions_async(reader, topic)
            committed = [await reader.committed(tp) for tp in parts]
            if not any(c is not None for c in committed):
                log.info("the consumer group has no committed offsets: nothing to rebuild (a first start)")
                return 0
            # Assigned, not subscribed: no group membership, so the group's offsets are left alone.
            async for batch in read_batches_to_end(reader, parts, timeout_s=settings.kafka_read_timeout_seconds):
                events = decode(batch)
                if events:
                    result = await appender.append_changes(event_log, events, hold, regions, settings.source,
                                                           expect=expect)
                    appended += result.appended
        finally:
            await reader.stop()
        return appended

    return rebuild


def kafka_behind(settings: PublisherSettings, event_log: EventLog) -> Behind:
    """Compare the offsets Redis recorded with the consumer group's committed offsets on nof.changes.v1."""

    async def behind() -> bool:
        recorded = await event_log.offsets()
        if not recorded:
            return False  # nothing recorded yet (a first start, or a state from before offsets were kept)
        k = settings.common.kafka
        reader = AIOKafkaConsumer(bootstrap_servers=k.bootstrap_list, group_id=settings.consumer_group,
                                  enable_auto_commit=False, client_id=f"{k.client_id}-publisher-offsets",
                                  request_timeout_ms=k.request_timeout_ms, **aiokafka_options(k))
        await reader.start()
        try:
            for key, next_offset in recorded.items():
                topic, _, partition = key.rpartition(":")
                committed = await reader.committed(TopicPartition(topic, int(partition)))
                if committed is not None and committed > next_offset:
                    log.warning("Redis is behind the consumer group", extra={
                        "partition": key, "redis_offset": next_offset, "committed_offset": committed})
                    return True
            return False
        finally:
            await reader.stop()

    return behind
