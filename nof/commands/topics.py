"""``nof topics declare|ping``: create and align every Kafka topic of the registry; check the broker."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser("topics", help="declare the Kafka topics (shared/topics.py)")
    sub = p.add_subparsers(dest="topics_command", required=True)
    sub.add_parser("declare", help="create missing topics and align partitions and configs").set_defaults(run=run)
    sub.add_parser("list", help="print the registry").set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from shared import kafka_admin
    from shared.topics import TOPICS

    if args.topics_command == "list":
        for t in TOPICS:
            print(f"{t.name:48} {t.partitions:>2}  {'compact' if t.compacted else 'delete':8} key: {t.key}")
        return 0
    return kafka_admin.main(["declare"])
