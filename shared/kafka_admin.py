"""Kafka admin adapter: declare the registry's topics, check the broker answers, compare live configs."""

from __future__ import annotations

import argparse
import socket
import sys
import time
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from shared.kafka_security import kafka_python_options
from shared.settings import KafkaSettings
from shared.topics import ANCHORED_GROUPS, TOPICS, TopicSpec


@dataclass(frozen=True)
class TopicState:
    name: str
    partitions: int
    config: dict[str, str]


def admin_client(settings: KafkaSettings) -> KafkaAdminClient:
    return KafkaAdminClient(
        bootstrap_servers=settings.bootstrap_list,
        client_id=f"{settings.client_id}-admin",
        request_timeout_ms=settings.request_timeout_ms,
        **kafka_python_options(settings),
    )


def broker_answers(settings: KafkaSettings, timeout_s: float = 2.0) -> bool:
    """True when the broker answers a metadata request."""
    if not any(_port_open(server, timeout_s) for server in settings.bootstrap_list):
        return False  # kafka-python would spend its whole bootstrap timeout finding that out
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=settings.bootstrap_list,
            client_id=f"{settings.client_id}-probe",
            request_timeout_ms=max(int(timeout_s * 1000), 1000),
            **kafka_python_options(settings),
        )
    except KafkaError:
        return False
    try:
        return admin.list_topics() is not None
    except KafkaError:
        return False
    finally:
        admin.close()


def _port_open(server: str, timeout_s: float) -> bool:
    host, _, port = server.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            return True
    except (OSError, ValueError):
        return False


def wait_for_broker(settings: KafkaSettings, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if broker_answers(settings):
            return True
        time.sleep(0.5)
    return False


def describe(admin: KafkaAdminClient, names: list[str]) -> dict[str, TopicState]:
    existing = set(admin.list_topics())
    wanted = [n for n in names if n in existing]
    if not wanted:
        return {}
    partitions = {t["name"]: len(t["partitions"]) for t in admin.describe_topics(wanted)}
    resources = [ConfigResource(ConfigResourceType.TOPIC, n) for n in wanted]
    configs = admin.describe_configs(resources)["topic"]
    return {
        name: TopicState(name, partitions[name], {k: v["value"] for k, v in configs.get(name, {}).items()})
        for name in wanted
    }


def declare(settings: KafkaSettings, specs: tuple[TopicSpec, ...] = TOPICS) -> list[str]:
    """Create missing topics, grow partitions and align configs to the registry. Returns actions taken."""
    actions: list[str] = []
    admin = admin_client(settings)
    try:
        current = describe(admin, [s.name for s in specs])
        wanted = {s.name: {**s.config(), "min.insync.replicas": str(settings.min_insync_replicas)} for s in specs}
        missing = [s for s in specs if s.name not in current]
        if missing:
            try:
                admin.create_topics(
                    [NewTopic(s.name, s.partitions, settings.replication_factor, topic_configs=wanted[s.name])
                     for s in missing],
                    timeout_ms=settings.request_timeout_ms,
                )
            except TopicAlreadyExistsError:
                pass
            actions += [f"created {s.name} ({s.partitions} partitions)" for s in missing]
        for spec in specs:
            state = current.get(spec.name)
            if state is None:
                continue
            if state.partitions < spec.partitions:
                admin.create_partitions({spec.name: NewPartitions(spec.partitions)})
                actions.append(f"grew {spec.name} to {spec.partitions} partitions")
            elif state.partitions > spec.partitions:
                raise RuntimeError(
                    f"topic {spec.name} has {state.partitions} partitions, the registry says {spec.partitions}; "
                    "partitions cannot shrink: delete the topic or change the registry"
                )
            drift = {k: v for k, v in wanted[spec.name].items() if state.config.get(k) != v}
            if drift:
                admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, spec.name, configs=wanted[spec.name])])
                actions.append(f"aligned {spec.name} config: {sorted(drift)}")
    finally:
        admin.close()
    return actions


def anchor_groups(settings: KafkaSettings, groups: dict[str, tuple[str, ...]] = ANCHORED_GROUPS) -> list[str]:
    """Commit the earliest offset for every partition a group reads but has never committed."""
    actions = []
    for group, topics in groups.items():
        consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_list, group_id=group, enable_auto_commit=False,
                                 client_id=f"{settings.client_id}-anchor", **kafka_python_options(settings))
        try:
            parts = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
            missing = [tp for tp in parts if consumer.committed(tp) is None]
            if not missing:
                continue
            earliest = consumer.beginning_offsets(missing)
            consumer.assign(missing)
            try:
                consumer.commit({tp: OffsetAndMetadata(earliest[tp], "", -1) for tp in missing})
            except KafkaError as exc:  # the group is live: its members commit for themselves
                actions.append(f"group {group} is active, left its offsets alone ({type(exc).__name__})")
                continue
            actions.append(f"anchored group {group} at the earliest offset of {len(missing)} partitions")
        finally:
            consumer.close()
    return actions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.kafka_admin", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ping = sub.add_parser("ping", help="wait until the broker answers metadata requests")
    ping.add_argument("--timeout", type=float, default=0.0)
    sub.add_parser("declare", help="create and align every topic in shared/topics.py")
    args = parser.parse_args(argv)
    settings = KafkaSettings()
    if args.command == "ping":
        ok = wait_for_broker(settings, args.timeout) if args.timeout else broker_answers(settings)
        print("kafka: answering" if ok else f"kafka: no answer from {settings.bootstrap_servers}")
        return 0 if ok else 1
    for line in (declare(settings) + anchor_groups(settings)) or ["all topics already as declared"]:
        print(f"topics: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
