"""The scorer's durable state: what each changelog key holds, and the commit record of a batch.

The state table's keys start with the partition key (the league slug, or ``all``), so a worker's
active partitions hold exactly the leagues it scores; the commit record is one key per input partition:

    {pk}|trust|{code}                     TrustRef JSON (register facts the inputs carried)
    {pk}|obs|{code}|{metric}|{period}     {"inputs": [ObservationReceived], "ids": [every input id applied to it]}
                                          (no input once a retraction withdrew that period's reading)
    {pk}|fin|{code}                       {"inputs": [every FinanceStatusChanged not retracted, in order], "ids": [...]}
    {pk}|isp|{code}                       {"inputs": [IntensiveSupportChanged ...], "ids": [...]}
    {pk}|ret|{code}                       {"inputs": [], "ids": [retractions that withdrew nothing]}
    ~commit|{partition}                   CommitRecord: the last durable batch of that input partition

Every key of a league goes to the changelog partition its inputs come from. A batch writes its commit
record first and its per-key state after it (services/scoring/recorder.py says why that order recovers
exactly); the ids listed under a key make a re-sent input a duplicate, even one that a later revision
of the same value replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import orjson
from kafka.partitioner.default import murmur2

from shared.events import (
    FinanceStatusChanged,
    IntensiveSupportChanged,
    ObservationReceived,
    TrustRef,
)

SEP = "|"
COMMIT = "~commit"


def trust_key(pk: str, code: str) -> str:
    return SEP.join((pk, "trust", code))


def input_key(pk: str, event) -> str:  # noqa: ANN001 - an input event
    code = event.trust.code
    if isinstance(event, ObservationReceived):
        return observation_key(pk, code, event.metric_id, event.period)
    if isinstance(event, FinanceStatusChanged):
        return SEP.join((pk, "fin", code))
    if isinstance(event, IntensiveSupportChanged):
        return SEP.join((pk, "isp", code))
    return trust_key(pk, code)


def observation_key(pk: str, code: str, metric_id: str, period: str) -> str:
    return SEP.join((pk, "obs", code, metric_id, period))


def flag_key(pk: str, target: str, code: str) -> str:
    return SEP.join((pk, "fin" if target == "finance" else "isp", code))


def spent_key(pk: str, code: str) -> str:
    """Where the ids of retractions that withdrew nothing are kept (so a re-sent copy stays a duplicate)."""
    return SEP.join((pk, "ret", code))


def commit_key(partition: int) -> str:
    return f"{COMMIT}{SEP}{partition}"


def encode_input_state(inputs: Iterable, ids: Iterable[str]) -> bytes:
    return orjson.dumps({"inputs": [e.model_dump(mode="json") for e in inputs], "ids": list(ids)})


@dataclass
class CommitRecord:
    """One input partition's batch, made durable in one changelog record.

    ``offsets`` and ``versions`` are cumulative (every input topic's last applied offset, every league
    version of the partition), so the latest commit record alone says where the partition stands;
    ``writes`` (key, value or None) and ``events`` / ``dead_letters`` are this batch's own.
    """

    partition: int
    batch: int
    offsets: dict[str, int]
    versions: dict[str, int]
    writes: list[tuple[str, bytes | None]] = field(default_factory=list)
    events: list[bytes] = field(default_factory=list)  # ChangeEvent JSON, in send order
    dead_letters: list[tuple[str, bytes, bytes]] = field(default_factory=list)  # (topic, key, value)

    def encode(self) -> bytes:
        return orjson.dumps({
            "partition": self.partition, "batch": self.batch, "offsets": self.offsets, "versions": self.versions,
            "writes": [[k, None if v is None else v.decode()] for k, v in self.writes],
            "events": [e.decode() for e in self.events],
            "dead_letters": [[t, k.decode(errors="replace"), v.decode()] for t, k, v in self.dead_letters],
        })

    @classmethod
    def decode(cls, raw: bytes) -> CommitRecord:
        d = orjson.loads(raw)
        return cls(
            partition=d["partition"], batch=d["batch"], offsets=d["offsets"], versions=d["versions"],
            writes=[(k, None if v is None else v.encode()) for k, v in d["writes"]],
            events=[e.encode() for e in d["events"]],
            dead_letters=[(t, k.encode(), v.encode()) for t, k, v in d["dead_letters"]],
        )


class StoredState:
    """A partition key's table entries, sorted into what the scorer needs to rebuild."""

    def __init__(self, pk: str) -> None:
        self.pk = pk
        self.trusts: dict[str, TrustRef] = {}
        self.inputs: dict[str, list] = {}  # input key -> its inputs in force (latest reading; flag changes)
        self.ids: dict[str, list[str]] = {}  # input key -> every input id applied to it

    def add(self, key: str, value: bytes) -> None:
        kind = key.split(SEP, 2)[1]
        if kind == "trust":
            self.trusts[key.split(SEP)[2]] = TrustRef.model_validate_json(value)
            return
        decoded = orjson.loads(value)
        model = {"obs": ObservationReceived, "fin": FinanceStatusChanged, "isp": IntensiveSupportChanged,
                 "ret": None}[kind]
        self.inputs[key] = [model.model_validate(i) for i in decoded["inputs"]] if model else []
        self.ids[key] = list(decoded["ids"])

    def all_inputs(self) -> list:
        return [e for inputs in self.inputs.values() for e in inputs]


def latest_commits(items: Iterable[tuple[str, bytes | None]]) -> dict[int, CommitRecord]:
    return {int(k.split(SEP)[1]): CommitRecord.decode(v) for k, v in items
            if v is not None and k.startswith(COMMIT + SEP)}


def group_by_partition_key(items: Iterable[tuple[str, bytes | None]],
                           owns: Callable[[str], bool] = lambda pk: True) -> dict[str, StoredState]:
    """Table entries by partition key, keeping only the partition keys this worker owns."""
    states: dict[str, StoredState] = {}
    for key, value in items:
        if value is None or key.startswith(COMMIT):
            continue
        pk = key.split(SEP, 1)[0]
        if owns(pk):
            states.setdefault(pk, StoredState(pk)).add(key, value)
    return states


def durable_table(items: Iterable[tuple[str, bytes | None]]) -> dict[str, bytes]:
    """The state a restart recovers: the per-key records, with each partition's last commit record's
    writes applied on top (they may not all have reached the changelog before a crash)."""
    table = {k: v for k, v in items if v is not None}
    for commit in latest_commits(table.items()).values():
        for key, value in commit.writes:
            if value is None:
                table.pop(key, None)
            else:
                table[key] = value
    return table


def partition_for(pk: str, partitions: int) -> int:
    """The input partition of a partition key: kafka-python's default partitioner, as ingest uses."""
    return (murmur2(pk.encode()) & 0x7FFFFFFF) % partitions
