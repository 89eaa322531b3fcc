"""Kafka → event log: reads the scorer's change events (consumer group, manual commits) into the log.

Offsets are committed only after a batch is in the log, so a crash re-reads it; the log's dedupe by
event id and its per-league version high-water mark make that harmless. Undecodable records are
logged and counted, then skipped (they are the scorer's output, not a subscriber's input).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

from aiokafka import AIOKafkaConsumer
from pydantic import ValidationError

from shared.events import ChangeEvent, utcnow

from services.publisher import alerts, appender, metrics
from services.publisher.event_log import EventLog

log = logging.getLogger(__name__)


async def consume(consumer: AIOKafkaConsumer, event_log: EventLog, hold: alerts.HoldDown,
                  regions: Mapping[str, str], source: str) -> None:
    """Run until cancelled: poll, append, commit; release time-held alerts about once a second."""
    last_tick = time.monotonic()
    while True:
        batches = await consumer.getmany(timeout_ms=500, max_records=500)
        events: list[ChangeEvent] = []
        for records in batches.values():
            for record in records:
                try:
                    events.append(ChangeEvent.model_validate_json(record.value))
                except (ValidationError, ValueError, TypeError) as exc:
                    metrics.consumed.labels("undecodable").inc()
                    log.error("undecodable change event skipped", extra={
                        "topic": record.topic, "partition": record.partition, "offset": record.offset, "error": str(exc)[:500]})
        if events:
            result = await appender.append_changes(event_log, events, hold, regions, source)
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
            for a in await appender.tick(event_log, hold, regions, utcnow(), source):
                metrics.alerts.labels(a.type).inc()


async def run(consumer: AIOKafkaConsumer, event_log: EventLog, hold: alerts.HoldDown,
              regions: Mapping[str, str], source: str) -> None:
    """Start the consumer and keep consuming; transient failures are retried after a pause."""
    await consumer.start()
    try:
        while True:
            try:
                await consume(consumer, event_log, hold, regions, source)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("change consumer failed; retrying in 2 s")
                await asyncio.sleep(2)
    finally:
        await consumer.stop()
