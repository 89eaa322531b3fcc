"""Where accepted inputs go: the Kafka adapter (kafka-python), and an in-memory twin for unit tests.

``publish`` returns only when the broker has acknowledged every record (acks=all), or raises
Unavailable. A fresh producer is made on demand, so the service starts, and recovers, while Kafka
is down.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from kafka.errors import KafkaError

from services.ingest.accept import Keyed
from services.ingest.metrics import PRODUCE_LATENCY
from shared.errors import Unavailable
from shared.events import MAX_BATCHED_OBSERVATIONS, InputRetracted, ObservationReceived, ObservationsReceived
from shared.kafka_admin import broker_answers
from shared.kafka_producer import make_producer
from shared.settings import KafkaSettings
from shared.telemetry import kafka_headers
from shared.topics import OBSERVATIONS, TRUST_STATUS

log = logging.getLogger(__name__)


def topic_for(record: Keyed) -> str:
    e = record.event
    if isinstance(e, ObservationReceived) or (isinstance(e, InputRetracted) and e.target == "observation"):
        return OBSERVATIONS.name  # a retraction follows the observation it withdraws, in its partition
    return TRUST_STATUS.name


def wire_records(records: Sequence[Keyed]) -> list[tuple[str, bytes, bytes, str | None]]:
    """(topic, key, value, correlation id) to produce for a request's inputs: its observations of one league
    as one ObservationsReceived record (in order, at most MAX_BATCHED_OBSERVATIONS a record; a lone one as
    itself), every other input as its own record. The scorer pays its per-record costs once per league
    and request, not once per observation."""
    out: list[tuple[str, bytes, bytes, str | None]] = []
    groups: dict[str, list[ObservationReceived]] = {}
    for r in records:
        if isinstance(r.event, ObservationReceived):
            groups.setdefault(r.key, []).append(r.event)
        else:
            out.append((topic_for(r), r.key.encode(), r.event.to_bytes(), r.event.correlation_id))
    for key, observations in groups.items():
        for i in range(0, len(observations), MAX_BATCHED_OBSERVATIONS):
            chunk = observations[i:i + MAX_BATCHED_OBSERVATIONS]
            cid = chunk[0].correlation_id
            event = chunk[0] if len(chunk) == 1 else ObservationsReceived(observations=chunk, correlation_id=cid)
            out.append((OBSERVATIONS.name, key.encode(), event.to_bytes(), cid))
    return out


class InputSink(Protocol):
    def publish(self, records: Sequence[Keyed], timeout_s: float) -> None: ...
    def healthy(self) -> bool: ...
    def close(self) -> None: ...


class KafkaInputSink:
    #: How long a broker that answered counts as up. kafka-python closes its bootstrap connection once
    #: it knows the cluster, so ``bootstrap_connected()`` is usually False; asking the broker on every
    #: request (a new admin client each time) cost ~10 ms of CPU per request.
    ANSWERED_FOR_S = 1.0

    def __init__(self, settings: KafkaSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self._producer = None
        self._lock = threading.Lock()
        self._answered_at: float | None = None

    def _broker_answers(self) -> bool:
        now = self.clock()
        if self._answered_at is not None and now - self._answered_at < self.ANSWERED_FOR_S:
            return True
        ok = broker_answers(self.settings, timeout_s=1.0)
        self._answered_at = now if ok else None
        return ok

    def _ensure_producer(self):
        with self._lock:
            if self._producer is None:
                if not self._broker_answers():
                    raise Unavailable("Kafka is unavailable; nothing was accepted", retry_after_s=5)
                try:
                    self._producer = make_producer(self.settings, "ingest")
                except KafkaError as exc:
                    raise Unavailable(f"Kafka is unavailable ({type(exc).__name__}); nothing was accepted") from exc
            return self._producer

    def _discard_producer(self) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=0)
            except Exception:  # closing a broken producer must not mask the original failure
                log.debug("closing a failed producer raised", exc_info=True)

    def publish(self, records: Sequence[Keyed], timeout_s: float) -> None:
        if not records:
            return
        producer = self._ensure_producer()
        if not producer.bootstrap_connected() and not self._broker_answers():
            self._discard_producer()
            raise Unavailable("Kafka is unavailable; nothing was accepted", retry_after_s=5)
        started = time.perf_counter()
        try:
            futures = [producer.send(topic, key=key, value=value, headers=kafka_headers(cid))
                       for topic, key, value, cid in wire_records(records)]
            producer.flush(timeout=timeout_s)
            for future in futures:
                future.get(timeout=max(0.1, timeout_s - (time.perf_counter() - started)))
        except KafkaError as exc:
            # Records acknowledged before the failure stay; their ids are stable, so the client's
            # retry of the whole request is idempotent at the scorer.
            self._answered_at = None
            self._discard_producer()
            raise Unavailable(f"Kafka did not acknowledge the request ({type(exc).__name__}); retry it") from exc
        PRODUCE_LATENCY.observe(time.perf_counter() - started)

    def healthy(self) -> bool:
        producer = self._producer
        if producer is not None and producer.bootstrap_connected():
            return True
        return self._broker_answers()

    def close(self) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=5)


class MemoryInputSink:
    """Keeps published records in order; ``down`` makes it behave as an unavailable broker."""

    def __init__(self) -> None:
        self.records: list[tuple[str, Keyed]] = []
        self.down = False

    def publish(self, records: Sequence[Keyed], timeout_s: float) -> None:
        if self.down:
            raise Unavailable("Kafka is unavailable; nothing was accepted", retry_after_s=5)
        self.records.extend((topic_for(r), r) for r in records)

    def healthy(self) -> bool:
        return not self.down

    def close(self) -> None:
        pass
