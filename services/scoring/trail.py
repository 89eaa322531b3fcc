"""The scorer's part of the correlation trail: which inputs it handled, one log line per correlation id.

Ingest stamps every input record with the request's correlation id (a Kafka header, and a field of the
JSON). The agent notes each record it hands to the worker; after each batch is acknowledged, one INFO
line per correlation id says how many of its inputs were handled and at which offsets. A request of
500 observations therefore costs one line per batch, not 500, and ``grep <id>`` over every service's
logs still finds the scorer between ingest's "observations accepted" and the publisher's deliveries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from shared.telemetry import correlation_from_headers

log = logging.getLogger(__name__)


@dataclass
class Handled:
    inputs: int = 0
    offsets: dict[str, list[int]] = field(default_factory=dict)  # "topic:partition" -> [first, last]


class InputTrail:
    def __init__(self, logger: logging.Logger = log) -> None:
        self.log = logger
        self.pending: dict[str | None, Handled] = {}

    def note(self, headers: Any, topic: str, partition: int, offset: int, inputs: int = 1) -> None:
        """Remember one input record handed to the worker, and how many inputs it held."""
        handled = self.pending.get(cid := correlation_from_headers(headers))
        if handled is None:
            handled = self.pending[cid] = Handled()
        handled.inputs += inputs
        span = handled.offsets.setdefault(f"{topic}:{partition}", [offset, offset])
        span[1] = offset

    def take(self) -> dict[str | None, Handled]:
        """What was noted so far; take it before a batch commit, then ``emit`` it once the commit returns."""
        pending, self.pending = self.pending, {}
        return pending

    def emit(self, handled: dict[str | None, Handled]) -> None:
        for cid, h in handled.items():
            # Records without the header (produced by something other than ingest) have no id to follow.
            extra: dict[str, Any] = {"inputs": h.inputs, "offsets": h.offsets}
            if cid:
                extra["correlation_id"] = cid
            self.log.info("inputs handled", extra=extra)
