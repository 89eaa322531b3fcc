"""Kafka → event log: reads the scorer's change events (consumer group, manual commits) into the log.

Offsets are committed only after a batch is in the log, so a crash re-reads it; the log's dedupe by
event id and its per-league version high-water mark make that harmless. Undecodable records are
logged and counted, then skipped (they are the scorer's output, not a subscriber's input). Starting the
consumer is inside the retry loop, so a publisher started while the broker is down consumes once it is back
(and /healthz says ``consumer: down`` until then).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping

from aiokafka import AIOKafkaConsumer

from shared.events import utcnow

from services.publisher import alerts, appender, metrics
from services.publisher.change_records import decode
from services.publisher.event_log import EventLog, StateLost
from services.publisher.recovery import Recovery

log = logging.getLogger(__name__)


class Status:
    """What /healthz reports: ``running`` once the consumer started, else why not (``starting``, ``retrying: …``)."""

    def __init__(self) -> None:
        self.state = "starting"

    @property
    def running(self) -> bool:
        return self.state == "running"


async def consume(consumer: AIOKafkaConsumer, event_log: EventLog, hold: alerts.HoldDown,
                  regions: Mapping[str, str], source: str, recovery: Recovery | None = None) -> None:
    """Run until cancelled: poll, append, commit; release time-held alerts about once a second.

    With ``recovery``, every append first makes sure Redis still holds the publisher's state (restoring it
    when it was lost) and is committed only while it does; an append that raced a loss is made again after
    the state is restored (the rebuild already holds the batch, so it then appends nothing twice)."""
    last_tick = time.monotonic()
    while True:
        batches = await consumer.getmany(timeout_ms=500, max_records=500)
        events = decode(r for records in batches.values() for r in records)
        offsets = {f"{tp.topic}:{tp.partition}": records[-1].offset + 1 for tp, records in batches.items() if records}
        result = appender.AppendResult()
        if offsets:  # recorded with the append, so a Redis restored from an older snapshot shows it
            while True:
                expect = await recovery.ensure() if recovery else None
                try:
                    result = await appender.append_changes(event_log, events, hold, regions, source, expect=expect,
                                                           offsets=offsets)
                    break
                except StateLost:
                    log.warning("Redis lost the publisher's state during an append; appending after the restore")
        if events:
            metrics.consumed.labels("appended").inc(result.appended)
            metrics.consumed.labels("duplicate").inc(result.duplicates)
            metrics.consumed.labels("stale").inc(result.stale)
            for a in result.alerts:
                metrics.alerts.labels(a.type).inc()
            for cid, count in result.by_correlation.items():  # one line per input request, not per event
                log.info("change events appended to the event log",
                         extra={"events": count, **({"correlation_id": cid} if cid else {})})
        if batches:
            await consumer.commit()
        if hold.seconds > 0 and time.monotonic() - last_tick >= 1.0:
            last_tick = time.monotonic()
            expect = await recovery.ensure() if recovery else None
            try:
                fired = await appender.tick(event_log, hold, regions, utcnow(), source, expect=expect)
            except StateLost:
                fired = []  # the restore rebuilt the hold-down state; the next tick decides again
            for a in fired:
                metrics.alerts.labels(a.type).inc()


async def run(new_consumer: Callable[[], AIOKafkaConsumer], event_log: EventLog, hold: alerts.HoldDown,
              regions: Mapping[str, str], source: str, recovery: Recovery | None = None,
              status: Status | None = None, retry_seconds: float = 2.0) -> None:
    """Start a consumer and keep consuming. A failure, starting included (the broker down when the publisher
    starts), is retried after a pause with a new consumer; ``status`` says which state it is in."""
    status = status or Status()
    while True:
        consumer = new_consumer()
        try:
            status.state = "starting"
            await consumer.start()
            status.state = "running"
            await consume(consumer, event_log, hold, regions, source, recovery)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            status.state = f"retrying: {type(exc).__name__}"
            log.exception("change consumer failed; retrying in %s s with a new consumer", retry_seconds)
            await asyncio.sleep(retry_seconds)
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()
