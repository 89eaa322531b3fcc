"""Decoding the scorer's change events from nof.changes.v1 records, for the consumer and the rebuild alike."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiokafka import ConsumerRecord
from pydantic import ValidationError

from services.publisher import metrics
from shared.events import ChangeEvent

log = logging.getLogger(__name__)


def decode(records: Iterable[ConsumerRecord]) -> list[ChangeEvent]:
    """The change events among ``records``; undecodable ones are logged, counted and skipped."""
    events: list[ChangeEvent] = []
    for record in records:
        try:
            events.append(ChangeEvent.model_validate_json(record.value))
        except (ValidationError, ValueError, TypeError) as exc:
            metrics.consumed.labels("undecodable").inc()
            log.error("undecodable change event skipped", extra={
                "topic": record.topic, "partition": record.partition, "offset": record.offset, "error": str(exc)[:500]})
    return events
