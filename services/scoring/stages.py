"""Where a record's time goes inside the worker, as the ``nof_scoring_input_stage_seconds`` histogram: from
ingest sending it (its Kafka timestamp) to the worker receiving it (fetch), to its batch being applied
(batch), to that batch being durable (commit). The last stage, to its league being written to Redis (write),
is observed per input by the read model (services/scoring/read_model.py)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from services.scoring import metrics

#: The stages, in the order an input passes them.
STAGES = ("fetch", "batch", "commit", "write")

_FETCH = metrics.INPUT_STAGE_SECONDS.labels("fetch")
_BATCH = metrics.INPUT_STAGE_SECONDS.labels("batch")
_COMMIT = metrics.INPUT_STAGE_SECONDS.labels("commit")


class StageClock:
    """Notes when the agent receives each record, and times its stages once its batch is durable."""

    def __init__(self) -> None:
        #: (topic, partition, offset) -> when the agent received it (wall clock), until its batch is durable
        self.arrived: dict[tuple[str, int, int], float] = {}

    def received(self, message: Any, at: float | None = None) -> None:
        self.arrived[(message.topic, message.partition, message.offset)] = time.time() if at is None else at

    def durable(self, events: Iterable[Any], started: float, finished: float) -> None:
        """One batch's records (faust events), applied from ``started`` and durable at ``finished``: each
        one's fetch, batch and commit stage, in seconds of wall-clock time."""
        for event in events:
            m = event.message
            received = self.arrived.pop((m.topic, m.partition, m.offset), None)
            if received is None:
                continue
            if m.timestamp:  # producer's create time (or the broker's append time), in seconds
                _FETCH.observe(max(0.0, received - m.timestamp))
            _BATCH.observe(max(0.0, started - received))
            _COMMIT.observe(max(0.0, finished - started))

    def forget(self) -> None:
        """After a rebalance: records fetched before it are fetched again (or by their new owner)."""
        self.arrived.clear()
