"""The change events a scorer that never crashed emits for the inputs a run sent (the kill soak, the crash tests).

The inputs are read back from the input topics, each partition in offset order. A league's inputs arrive
on two partitions (observations, and finance on the trust-status topic), and the scorer interleaves them
as they are fetched: after a restart with a backlog, in an order of its own, not the order ingest accepted
them. League versions, and so event ids, follow that interleaving. The versions on the events the run
emitted reveal it for every input that changed something; the inputs that changed nothing go in the order
ingest accepted them. ``applied_order`` rebuilds that interleaving; ``crash_free_events`` replays it
through an in-process scorer, one per partition key.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.scoring.scorer import PartitionScorer
from shared.events import ChangeEvent, decode_input, single_inputs
from shared.methodology import Methodology


@dataclass(frozen=True)
class Step:
    """One input of one partition: when ingest accepted it, the league version the run gave it (None when it
    emitted nothing), and the decoded input itself."""

    accepted_at: datetime
    version: int | None
    item: Any


def applied_order(partitions: Iterable[list[Step]]) -> Iterator[Any]:
    """Merge one league's partitions (each in offset order) into the order the run applied them: an input
    with a version goes once no other partition still holds a smaller one; otherwise the input ingest
    accepted first goes first."""
    parts = [p for p in partitions if p]
    pending = []  # per partition, the smallest version at or after each position
    for p in parts:
        smallest, after = [0] * (len(p) + 1), None
        smallest[len(p)] = after
        for i in range(len(p) - 1, -1, -1):
            v = p[i].version
            after = v if after is None or (v is not None and v < after) else after
            smallest[i] = after
        pending.append(smallest)
    at = [0] * len(parts)
    while True:
        live = [i for i in range(len(parts)) if at[i] < len(parts[i])]
        if not live:
            return

        def ready(i: int) -> bool:
            v = parts[i][at[i]].version
            return v is None or all(pending[j][at[j]] is None or v <= pending[j][at[j]] for j in live if j != i)

        chosen = min((i for i in live if ready(i)), key=lambda i: parts[i][at[i]].accepted_at, default=None)
        if chosen is None:  # versions that contradict the partitions' order: fall back to the accepted order
            chosen = min(live, key=lambda i: parts[i][at[i]].accepted_at)
        yield parts[chosen][at[chosen]].item
        at[chosen] += 1


def emitted_versions(events: Iterable[ChangeEvent]) -> dict[str, int]:
    """Input id → the league version the run published its changes under."""
    versions: dict[str, int] = {}
    for e in events:
        versions[e.cause.input_id] = min(e.league_version, versions.get(e.cause.input_id, e.league_version))
    return versions


def crash_free_events(methodology: Methodology, records: Iterable[Any],
                      versions: Mapping[str, int]) -> dict[str, ChangeEvent]:
    """The change events of a crash-free run over ``records`` (input topic records, each partition in offset
    order), by id.

    The one place that knows the input records' encoding and the scorer's in-process API."""
    partitions: dict[str, dict[tuple[str, int], list[Step]]] = defaultdict(lambda: defaultdict(list))
    placed: set[str] = set()  # a copy of an input already read is a duplicate: it changed nothing
    for r in records:
        for event in single_inputs(decode_input(r.value)):  # a batch record holds several inputs
            input_id = getattr(event, "observation_id", None) or event.change_id
            version = None if input_id in placed else versions.get(input_id)
            placed.add(input_id)
            partitions[r.key.decode()][(r.topic, r.partition)].append(Step(event.accepted_at, version, event))
    events: dict[str, ChangeEvent] = {}
    for pk, parts in partitions.items():
        scorer = PartitionScorer(methodology, pk)
        for event in applied_order(parts.values()):
            events.update((e.event_id, e) for e in scorer.apply(event).events)
    return events
