"""The scorer's table: what each key holds, and how stored inputs decode.

Keys all start with the partition key (the league slug, or ``all``), so a worker's active partitions
hold exactly the leagues it scores:

    {pk}|trust|{code}                         TrustRef JSON (register facts the inputs carried)
    {pk}|obs|{code}|{metric}|{period}         ObservationReceived JSON: the latest value for that period
    {pk}|fin|{code}                           FinanceStatusChanged JSON
    {pk}|isp|{code}                           IntensiveSupportChanged JSON
    {pk}|seen|{input id}                      marks an input id as applied: a later copy is a duplicate, even
                                              one of an observation a revision has since replaced
    {pk}|ver|{league}                         the league version, a decimal integer
    {pk}|outbox|{league}|{version:012d}       ChangeEvent JSON list not yet acknowledged by the broker
    ~applied|{topic}|{partition}              offset of the last input record applied from that partition

The outbox is written before the state it explains, and the applied offset after it, all to the
changelog partition of the input being handled (the producer keeps one partition's records in order).
So after a crash: a state record that survived implies its events survived too (in the outbox, if not
on the topic yet), and an input at or below the applied offset is already in the state and is skipped
when the uncommitted tail of the input topic is read again. Without that marker a replayed input
superseded by a later revision would be applied a second time and undo the revision.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from kafka.partitioner.default import murmur2

from shared.events import (
    ChangeEvent,
    FinanceStatusChanged,
    IntensiveSupportChanged,
    ObservationReceived,
    TrustRef,
)

SEP = "|"


def trust_key(pk: str, code: str) -> str:
    return SEP.join((pk, "trust", code))


def input_key(pk: str, event) -> str:  # noqa: ANN001 - an input event
    code = event.trust.code
    if isinstance(event, ObservationReceived):
        return SEP.join((pk, "obs", code, event.metric_id, event.period))
    if isinstance(event, FinanceStatusChanged):
        return SEP.join((pk, "fin", code))
    if isinstance(event, IntensiveSupportChanged):
        return SEP.join((pk, "isp", code))
    return trust_key(pk, code)


def seen_key(pk: str, input_id: str) -> str:
    return SEP.join((pk, "seen", input_id))


def version_key(pk: str, league: str) -> str:
    return SEP.join((pk, "ver", league))


def outbox_key(pk: str, league: str, version: int) -> str:
    return SEP.join((pk, "outbox", league, f"{version:012d}"))


def applied_key(topic: str, partition: int) -> str:
    return SEP.join((APPLIED, topic, str(partition)))


APPLIED = "~applied"


def applied_offsets(items: Iterable[tuple[str, bytes]]) -> dict[tuple[str, int], int]:
    out = {}
    for key, value in items:
        if key.startswith(APPLIED + SEP) and value is not None:
            _, topic, partition = key.split(SEP)
            out[(topic, int(partition))] = int(value)
    return out


def encode_events(events: Iterable[ChangeEvent]) -> bytes:
    return ("[" + ",".join(e.model_dump_json() for e in events) + "]").encode()


def decode_events(raw: bytes) -> list[ChangeEvent]:
    return [ChangeEvent.model_validate(item) for item in json.loads(raw)]


class StoredState:
    """A partition key's table entries, sorted into what the scorer needs to rebuild."""

    def __init__(self, pk: str) -> None:
        self.pk = pk
        self.trusts: dict[str, TrustRef] = {}
        self.observations: list[ObservationReceived] = []
        self.finance: list[FinanceStatusChanged] = []
        self.intensive: list[IntensiveSupportChanged] = []
        self.versions: dict[str, int] = {}
        self.seen: set[str] = set()
        self.outbox: dict[tuple[str, int], bytes] = {}

    def input_ids(self) -> set[str]:
        """Ids of the inputs whose latest state survived: applied, even if their id record did not."""
        return ({o.observation_id for o in self.observations} | {f.change_id for f in self.finance}
                | {i.change_id for i in self.intensive})

    def add(self, key: str, value: bytes) -> None:
        parts = key.split(SEP)
        kind = parts[1]
        if kind == "trust":
            self.trusts[parts[2]] = TrustRef.model_validate_json(value)
        elif kind == "obs":
            self.observations.append(ObservationReceived.model_validate_json(value))
        elif kind == "fin":
            self.finance.append(FinanceStatusChanged.model_validate_json(value))
        elif kind == "isp":
            self.intensive.append(IntensiveSupportChanged.model_validate_json(value))
        elif kind == "seen":
            self.seen.add(key.split(SEP, 2)[2])
        elif kind == "ver":
            self.versions[parts[2]] = int(value)
        elif kind == "outbox":
            self.outbox[(parts[2], int(parts[3]))] = value


def group_by_partition_key(items: Iterable[tuple[str, bytes]],
                           owns: Callable[[str], bool] = lambda pk: True) -> dict[str, StoredState]:
    """Table entries by partition key, keeping only the partition keys this worker owns."""
    states: dict[str, StoredState] = {}
    for key, value in items:
        if value is None or key.startswith(APPLIED):
            continue
        pk = key.split(SEP, 1)[0]
        if owns(pk):
            states.setdefault(pk, StoredState(pk)).add(key, value)
    return states


def partition_for(pk: str, partitions: int) -> int:
    """The input partition of a partition key: kafka-python's default partitioner, as ingest uses."""
    return (murmur2(pk.encode()) & 0x7FFFFFFF) % partitions
