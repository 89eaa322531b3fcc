"""The pipeline on a broker that authenticates (SCRAM-SHA-512 over TLS) and authorizes every request.

A private broker is started as deploy/local/kafka.sh starts it with NOF_KAFKA_SECURITY_PROTOCOL=SASL_SSL:
certificates from openssl, SCRAM users created at format time, StandardAuthorizer, ACLs from
shared/kafka_acls.py. Each service runs as its own principal. An observation posted to ingest reaches a
webhook through the scorer and the publisher; the ingest principal cannot read the subscriptions topic
(where webhook secrets live) nor write change events; a client without credentials, or with a wrong
password, gets nothing.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import TopicAuthorizationFailedError

from services.publisher.auth import sha256_hex
from shared.kafka_security import aiokafka_options, kafka_python_options
from shared.settings import KafkaSettings
from tests.integration.publisher.publisher_live import AUTH, TOKEN, receiver
from tests.support.broker import PrivateBroker
from tests.support.pipeline import ROOT, SERVICES, Pipeline
from tests.support.streams import generate


@pytest.fixture(scope="module")
def broker(tmp_path_factory) -> Iterator[PrivateBroker]:
    b = PrivateBroker(tmp_path_factory.mktemp("sasl-broker"), secure=True)
    b.start()
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture(scope="module")
def pipeline(broker: PrivateBroker, tmp_path_factory) -> Iterator[Pipeline]:
    p = Pipeline(tmp_path_factory.mktemp("sasl-pipeline"), bootstrap=broker.bootstrap,
                 extra_env={"NOF_PUBLISHER_ADMIN_TOKEN_SHA256": sha256_hex(TOKEN)},
                 service_env={s: broker.client_env(s) for s in SERVICES})
    admin_env = {**p.env, **broker.client_env("admin")}
    try:
        for module, command in (("shared.kafka_admin", "declare"), ("shared.kafka_acls", "apply")):
            subprocess.run([sys.executable, "-m", module, command], env=admin_env, cwd=ROOT, check=True,
                           capture_output=True, timeout=120)
        for service in SERVICES:
            p.start(service, timeout=120)
        yield p
    finally:
        p.stop()
        for key in p.redis.scan_iter(f"{p.namespace}:*", count=1000):
            p.redis.delete(key)


def as_principal(broker: PrivateBroker, principal: str, password_file: Path | None = None) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers=broker.bootstrap, security_protocol="SASL_SSL", sasl_username=principal,
                         sasl_password_file=password_file or broker.password_file(principal),
                         ssl_ca_file=broker.ca_file, request_timeout_ms=5_000)


async def test_the_pipeline_runs_with_one_principal_per_service(broker: PrivateBroker, pipeline: Pipeline):
    observations = [i.body for i in generate(seed=7, n=20, observations_only=True)]
    async with receiver() as rx, httpx.AsyncClient(timeout=30) as client:
        # The publisher writes the subscription to its topic before answering: its principal may.
        r = await client.post(f"{pipeline.url('publisher')}/v1/subscriptions", json={"url": rx.url("/hook")},
                              headers=AUTH)
        assert r.status_code == 201, r.text
        secret = r.json()["secret"]
        r = await client.post(f"{pipeline.url('ingest')}/v1/observations", json={"observations": observations},
                              headers={"Authorization": f"Bearer {pipeline.ingest_key}"})
        assert r.status_code == 202, r.text
        first = (await rx.wait_for("/hook", 1, timeout=90))[0]
    assert first.event["type"].startswith("uk.nhs.nof."), first.event
    leagues = httpx.get(f"{pipeline.url('publisher')}/v1/leagues", timeout=10).json()["leagues"]
    assert any(lg["version"] > 0 for lg in leagues), leagues
    # The secret is sealed at rest: neither Redis nor the subscriptions topic holds it in a form that signs.
    in_redis = pipeline.redis.hgetall(f"{pipeline.namespace}:subs")
    in_topic = read_all(as_principal(broker, "publisher"), pipeline.topic("nof.publisher-subscriptions.v1"))
    assert in_redis and in_topic
    assert not [v for v in [*in_redis.values(), *in_topic] if secret.encode() in v]


def read_all(settings: KafkaSettings, topic: str) -> list[bytes]:
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_list, enable_auto_commit=False,
                             **kafka_python_options(settings))
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        end = consumer.end_offsets(parts)
        values: list[bytes] = []
        while any(consumer.position(tp) < end[tp] for tp in parts):
            values += [r.value for batch in consumer.poll(timeout_ms=1000).values() for r in batch if r.value]
        return values
    finally:
        consumer.close()


def test_the_ingest_principal_cannot_read_subscriptions_or_write_change_events(broker: PrivateBroker,
                                                                                pipeline: Pipeline):
    ingest = as_principal(broker, "ingest")
    consumer = KafkaConsumer(bootstrap_servers=ingest.bootstrap_list, enable_auto_commit=False,
                             request_timeout_ms=5_000, **kafka_python_options(ingest))
    try:
        subscriptions = TopicPartition(pipeline.topic("nof.publisher-subscriptions.v1"), 0)
        with pytest.raises(TopicAuthorizationFailedError):
            consumer.end_offsets([subscriptions])
        assert consumer.partitions_for_topic(subscriptions.topic) in (None, set())
    finally:
        consumer.close()
    producer = KafkaProducer(bootstrap_servers=ingest.bootstrap_list, max_block_ms=10_000,
                             **kafka_python_options(ingest))
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            producer.send(pipeline.topic("nof.changes.v1"), key=b"acute", value=b"{}").get(timeout=15)
        # the same principal still writes its own topic: the refusal above is the ACL, not a broken client
        assert producer.send(pipeline.topic("nof.observations.v1"), key=b"k", value=b"{}").get(timeout=15)
    finally:
        producer.close(timeout=5)


async def start_producer(broker: PrivateBroker, options: dict) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, request_timeout_ms=5_000, **options)
    try:
        await asyncio.wait_for(producer.start(), 30)
    finally:
        await producer.stop()


async def test_a_client_without_credentials_is_refused(broker: PrivateBroker):
    with pytest.raises(KafkaConnectionError):
        await start_producer(broker, {})
    await start_producer(broker, aiokafka_options(as_principal(broker, "ingest")))  # the broker does answer


async def test_a_wrong_password_is_refused(broker: PrivateBroker, tmp_path: Path, caplog):
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-password\n")
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(KafkaConnectionError):
        await start_producer(broker, aiokafka_options(as_principal(broker, "ingest", wrong)))
    assert "SaslAuthenticationFailed" in caplog.text
