"""Kafka producer adapter (kafka-python): the one place producer durability and batching are chosen.

acks=all with the idempotent producer: a record the broker acknowledged is on every in-sync replica and
a retry can never write it twice. Small linger and gzip batch records headed for the same partition;
gzip needs no native library, and every consumer in the system (kafka-python, aiokafka) reads it.
"""

from __future__ import annotations

from kafka import KafkaProducer

from shared.kafka_security import kafka_python_options
from shared.settings import KafkaSettings

PRODUCER_DEFAULTS: dict[str, object] = {
    "acks": "all",
    "enable_idempotence": True,
    "max_in_flight_requests_per_connection": 5,
    "linger_ms": 5,
    "batch_size": 64 * 1024,
    "compression_type": "gzip",
    "delivery_timeout_ms": 30_000,
    "max_block_ms": 5_000,
    "max_request_size": 8 * 1024 * 1024,
}


def make_producer(settings: KafkaSettings, name: str, **overrides: object) -> KafkaProducer:
    config = {**PRODUCER_DEFAULTS, **overrides}
    return KafkaProducer(
        bootstrap_servers=settings.bootstrap_list,
        client_id=f"{settings.client_id}-{name}",
        request_timeout_ms=settings.request_timeout_ms,
        **kafka_python_options(settings),
        **config,
    )
