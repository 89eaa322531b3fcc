"""Who may do what on the broker: one Kafka principal per service, with ACLs for exactly its topics and groups.

The table below is the whole policy (docs/ARCHITECTURE.md, "Kafka principals"); the broker denies
everything else (StandardAuthorizer, no ACL means no access). ``admin`` is the broker's super user: it
declares topics, anchors the scorer's group and applies these ACLs, and no service runs as it. The
subscriptions topic carries the webhook subscriptions, so only the publisher may read it.

``python -m shared.kafka_acls principals`` prints the principals (the local broker script creates a SCRAM
credential for each at format time); ``python -m shared.kafka_acls apply`` creates the ACLs, as ``admin``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from kafka.admin import (ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType, KafkaAdminClient,
                         ResourcePattern, ResourceType)

from shared.kafka_security import kafka_python_options
from shared.settings import KafkaSettings
from shared.topics import (CHANGES, OBSERVATIONS, PUBLIC_EVENTS, PUBLISHER_GROUP, PUBLISHER_SUBSCRIPTIONS,
                           SCORER_STATE_CHANGELOG, SCORING_APP_ID, TRUST_STATUS, TRUSTS)

ADMIN = "admin"

READ = ("READ", "DESCRIBE")
WRITE = ("WRITE", "DESCRIBE")
READ_WRITE = ("READ", "WRITE", "DESCRIBE")


@dataclass(frozen=True)
class Grant:
    resource: str  # "topic" or "group"
    name: str
    operations: tuple[str, ...]


#: principal -> what it may do; everything not listed is denied.
GRANTS: dict[str, tuple[Grant, ...]] = {
    "ingest": (
        Grant("topic", OBSERVATIONS.name, WRITE),
        Grant("topic", TRUST_STATUS.name, WRITE),
        Grant("topic", TRUSTS.name, READ_WRITE),  # the shared register: every replica reads it, group-less
    ),
    "scoring": (
        Grant("topic", OBSERVATIONS.name, READ),
        Grant("topic", TRUST_STATUS.name, READ),
        Grant("topic", SCORER_STATE_CHANGELOG.name, READ_WRITE),
        Grant("topic", CHANGES.name, WRITE),
        Grant("topic", f"{OBSERVATIONS.name}.dlq", WRITE),
        Grant("topic", f"{TRUST_STATUS.name}.dlq", WRITE),
        Grant("group", SCORING_APP_ID, READ),
    ),
    "publisher": (
        Grant("topic", CHANGES.name, READ),
        Grant("topic", PUBLIC_EVENTS.name, WRITE),
        Grant("topic", PUBLISHER_SUBSCRIPTIONS.name, READ_WRITE),
        Grant("group", PUBLISHER_GROUP, READ),
    ),
}

PRINCIPALS: tuple[str, ...] = (ADMIN, *GRANTS)

_RESOURCE = {"topic": ResourceType.TOPIC, "group": ResourceType.GROUP}


def acls(grants: dict[str, tuple[Grant, ...]] = GRANTS) -> list[ACL]:
    """The policy as broker ACLs: literal resource names, any host, allow."""
    return [
        ACL(principal=f"User:{principal}", host="*", operation=ACLOperation[operation],
            permission_type=ACLPermissionType.ALLOW,
            resource_pattern=ResourcePattern(_RESOURCE[g.resource], g.name, ACLResourcePatternType.LITERAL))
        for principal, items in grants.items() for g in items for operation in g.operations
    ]


def apply(settings: KafkaSettings) -> int:
    """Create every ACL of the policy (creating one that exists changes nothing). Returns how many."""
    wanted = acls()
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_list, client_id=f"{settings.client_id}-acls",
                             request_timeout_ms=settings.request_timeout_ms, **kafka_python_options(settings))
    try:
        result = admin.create_acls(wanted)
    finally:
        admin.close()
    if result["failed"]:  # kafka-python lists the errors only, in request order of the failures
        raise RuntimeError(f"the broker refused {len(result['failed'])} of {len(wanted)} ACLs: {result['failed'][0]}")
    return len(wanted)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.kafka_acls", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("principals", help="print the principals, one a line")
    sub.add_parser("apply", help="create the ACLs of every service principal (run as the admin principal)")
    args = parser.parse_args(argv)
    if args.command == "principals":
        print("\n".join(PRINCIPALS))
        return 0
    print(f"acls: {apply(KafkaSettings())} ACLs in place for {', '.join(GRANTS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
