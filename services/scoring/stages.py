"""Where a record's time goes inside the worker, as the ``nof_scoring_input_stage_seconds`` histogram: from
ingest sending it (its Kafka timestamp) to the worker receiving it (fetch), to its batch being applied
(batch), to that batch being durable (commit). The last stage, to its league being written to Redis (write),
is observed per input by the read model (services/scoring/read_model.py)."""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

from services.scoring import metrics

_FETCH = metrics.INPUT_STAGE_SECONDS.labels("fetch")
_BATCH = metrics.INPUT_STAGE_SECONDS.labels("batch")
_COMMIT = metrics.INPUT_STAGE_SECONDS.labels("commit")


def observe(events: Iterable[Any], arrived: MutableMapping[tuple[str, int, int], float], started: float,
            durable: float) -> None:
    """One durable batch's records (faust events): each one's fetch, batch and commit stage, in seconds of
    wall-clock time. ``arrived`` says when the agent received each record; its entries are taken out."""
    for event in events:
        m = event.message
        received = arrived.pop((m.topic, m.partition, m.offset), None)
        if received is None:
            continue
        if m.timestamp:  # producer's create time (or the broker's append time), in seconds
            _FETCH.observe(max(0.0, received - m.timestamp))
        _BATCH.observe(max(0.0, started - received))
        _COMMIT.observe(max(0.0, durable - started))
