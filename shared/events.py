"""The wire schema: every record on every topic is one of these pydantic models (JSON, UTF-8).

Inputs (ingest → scorer) are a tagged union on ``type``; outputs (scorer → publisher and beyond) are
``ChangeEvent`` records. Dead letters wrap whatever could not be handled with the reason. AsyncAPI and
JSON Schema are generated from these models; there is no second copy of the schema anywhere.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


class TrustRef(Event):
    """Register facts that travel with each input, so the scorer needs no side lookup."""

    code: str
    name: str
    trust_type: str
    subtype: str = ""
    region: str = ""


class ObservationReceived(Event):
    type: Literal["observation.received"] = "observation.received"
    observation_id: str
    trust: TrustRef
    metric_id: str
    period: str
    value: float
    source: str | None = None
    observed_at: datetime | None = None
    accepted_at: datetime = Field(default_factory=utcnow)
    correlation_id: str | None = None


class FinanceStatusChanged(Event):
    type: Literal["finance.changed"] = "finance.changed"
    change_id: str
    trust: TrustRef
    in_deficit: bool | None
    receives_deficit_support: bool = False
    accepted_at: datetime = Field(default_factory=utcnow)
    correlation_id: str | None = None


class IntensiveSupportChanged(Event):
    type: Literal["intensive-support.changed"] = "intensive-support.changed"
    change_id: str
    trust: TrustRef
    intensive_support: bool
    accepted_at: datetime = Field(default_factory=utcnow)
    correlation_id: str | None = None


class TrustRegistered(Event):
    type: Literal["trust.registered"] = "trust.registered"
    change_id: str
    trust: TrustRef
    accepted_at: datetime = Field(default_factory=utcnow)
    correlation_id: str | None = None


InputEvent = Annotated[
    Union[ObservationReceived, FinanceStatusChanged, IntensiveSupportChanged, TrustRegistered],
    Field(discriminator="type"),
]
INPUT_ADAPTER: TypeAdapter[InputEvent] = TypeAdapter(InputEvent)


def decode_input(raw: bytes) -> InputEvent:
    """Decode one input record; raises pydantic.ValidationError naming the field and reason."""
    return INPUT_ADAPTER.validate_json(raw)


class Cause(Event):
    """What made a change happen: the input's kind and id, and whose input it was."""

    kind: Literal["observation", "finance", "intensive_support", "trust"]
    input_id: str
    trust_code: str
    own_data: bool = Field(description="True when the input was the changed trust's own data")
    metric_id: str | None = None
    correlation_id: str | None = None


ChangeType = Literal["assessment.changed", "segment.changed", "rank.changed"]


class ChangeEvent(Event):
    """One trust's assessment, segment or rank changed in a league (topic nof.changes.v1, key = league)."""

    event_id: str
    type: ChangeType
    league: str
    league_version: int
    methodology_version: str
    trust_code: str
    old: dict[str, object | None]
    new: dict[str, object | None]
    cause: Cause
    occurred_at: datetime = Field(default_factory=utcnow)


def stable_event_id(*parts: object) -> str:
    """An id that the same change, computed again after a restart, reproduces exactly."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return f"evt_{digest[:32]}"


class DeadLetter(Event):
    """A record that could not be handled, kept with the reason (topic <input>.dlq)."""

    source_topic: str
    partition: int
    offset: int
    key: str | None
    value: str = Field(description="the original value, decoded as UTF-8 with replacement")
    reason: str
    service: str
    failed_at: datetime = Field(default_factory=utcnow)


def decimal_or_none(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
