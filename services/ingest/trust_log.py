"""The shared trust register's storage: the compacted topic ``TRUSTS`` (shared/topics.py), one record per
trust code, read by every ingest replica. A port with a Kafka adapter and an in-memory twin.

``read()`` answers the records after the last one read (from the beginning on the first call) up to the
topic's end as it was when called; ``put`` writes one entry and returns once the broker acknowledged it.
"""

from __future__ import annotations

import json
import threading
from typing import Protocol

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from shared.errors import Unavailable
from shared.kafka_producer import make_producer
from shared.methodology import TrustInfo
from shared.settings import KafkaSettings


def encode(info: TrustInfo) -> bytes:
    return json.dumps({"code": info.code, "name": info.name, "trust_type": info.trust_type, "subtype": info.subtype,
                       "region": info.region, "source": info.source}).encode()


def decode(raw: bytes) -> TrustInfo:
    d = json.loads(raw)
    return TrustInfo(d["code"], d["name"], d["trust_type"], d.get("subtype", ""), d.get("region", ""),
                     d.get("source", ""))


class TrustLog(Protocol):
    def read(self) -> list[TrustInfo]: ...

    def put(self, info: TrustInfo, timeout_s: float) -> None: ...

    def close(self) -> None: ...


class MemoryTrustLog:
    """In-memory twin: ``shared`` (a list) may be given to several twins, as replicas share one topic."""

    def __init__(self, shared: list[TrustInfo] | None = None) -> None:
        self.records = shared if shared is not None else []
        self.position = 0
        self.down = False

    def read(self) -> list[TrustInfo]:
        if self.down:
            raise Unavailable("the trust register topic is unavailable")
        new, self.position = self.records[self.position:], len(self.records)
        return list(new)

    def put(self, info: TrustInfo, timeout_s: float) -> None:
        if self.down:
            raise Unavailable("the trust register topic is unavailable; nothing was changed")
        self.records.append(info)

    def close(self) -> None:
        pass


class KafkaTrustLog:
    """kafka-python adapter: a group-less consumer assigned every partition, and an acks=all producer."""

    def __init__(self, settings: KafkaSettings, topic: str) -> None:
        self.settings, self.topic = settings, topic
        self._consumer: KafkaConsumer | None = None
        self._producer = None
        self._lock = threading.Lock()

    def _reader(self) -> KafkaConsumer:
        if self._consumer is None:
            consumer = KafkaConsumer(bootstrap_servers=self.settings.bootstrap_list, enable_auto_commit=False,
                                     client_id=f"{self.settings.client_id}-ingest-trusts", group_id=None,
                                     request_timeout_ms=self.settings.request_timeout_ms)
            partitions = consumer.partitions_for_topic(self.topic)
            if not partitions:
                consumer.close()
                raise Unavailable(f"the trust register topic {self.topic} does not exist (run `nof topics declare`)")
            consumer.assign([TopicPartition(self.topic, p) for p in sorted(partitions)])
            consumer.seek_to_beginning()
            self._consumer = consumer
        return self._consumer

    def read(self) -> list[TrustInfo]:
        try:
            consumer = self._reader()
            parts = list(consumer.assignment())
            end = consumer.end_offsets(parts)
            found: list[TrustInfo] = []
            while any(consumer.position(tp) < end[tp] for tp in parts):
                for records in consumer.poll(timeout_ms=500).values():
                    found += [decode(r.value) for r in records if r.value is not None]
            return found
        except KafkaError as exc:
            self._reset()
            raise Unavailable(f"the trust register topic is unavailable ({type(exc).__name__})") from exc

    def put(self, info: TrustInfo, timeout_s: float) -> None:
        try:
            with self._lock:
                if self._producer is None:
                    self._producer = make_producer(self.settings, "ingest-trusts")
            self._producer.send(self.topic, key=info.code.encode(), value=encode(info)).get(timeout=timeout_s)
        except KafkaError as exc:
            raise Unavailable(f"the trust register topic did not acknowledge ({type(exc).__name__}); "
                              "nothing was changed") from exc

    def _reset(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            consumer.close()

    def close(self) -> None:
        self._reset()
        if self._producer is not None:
            self._producer.close(timeout=5)
