"""The scorer's table: what each key holds, and how stored inputs decode.

Keys all start with the partition key (the league slug, or ``all``), so a worker's active partitions
hold exactly the leagues it scores:

    {pk}|trust|{code}                         TrustRef JSON (register facts the inputs carried)
    {pk}|obs|{code}|{metric}|{period}         ObservationReceived JSON: the latest value for that period
    {pk}|fin|{code}                           FinanceStatusChanged JSON
    {pk}|isp|{code}                           IntensiveSupportChanged JSON
    {pk}|ver|{league}                         the league version, a decimal integer
    {pk}|outbox|{league}|{version:012d}       ChangeEvent JSON list not yet acknowledged by the broker

The outbox is written before the state it explains, to the same changelog partition, so a state
record that survived a crash implies its events survived too (in the outbox, if not yet on the topic).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

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


def version_key(pk: str, league: str) -> str:
    return SEP.join((pk, "ver", league))


def outbox_key(pk: str, league: str, version: int) -> str:
    return SEP.join((pk, "outbox", league, f"{version:012d}"))


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
        self.outbox: dict[tuple[str, int], bytes] = {}

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
        elif kind == "ver":
            self.versions[parts[2]] = int(value)
        elif kind == "outbox":
            self.outbox[(parts[2], int(parts[3]))] = value


def group_by_partition_key(items: Iterable[tuple[str, bytes]]) -> dict[str, StoredState]:
    states: dict[str, StoredState] = {}
    for key, value in items:
        if value is None:
            continue
        pk = key.split(SEP, 1)[0]
        states.setdefault(pk, StoredState(pk)).add(key, value)
    return states
