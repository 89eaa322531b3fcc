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

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, WithJsonSchema


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


class InputRetracted(Event):
    """An input withdrawn in error: an observation (by id, or every reading of a trust, metric and period), or a
    finance or intensive-support change (by its change id). Observation retractions travel on the observations
    topic, after what they withdraw; flag retractions on the trust-status topic."""

    type: Literal["input.retracted"] = "input.retracted"
    change_id: str
    trust: TrustRef
    target: Literal["observation", "finance", "intensive_support"]
    input_id: str | None = Field(default=None, description="the observation id or the flag change id withdrawn")
    metric_id: str | None = None
    period: str | None = None
    reason: str = ""
    accepted_at: datetime = Field(default_factory=utcnow)
    correlation_id: str | None = None


class ObservationsReceived(Event):
    """Observations of one league accepted in one request, as one record: ingest publishes a request's
    observations this way (at most ``MAX_BATCHED_OBSERVATIONS`` a record). Each keeps its own id, cause and
    dead letter; the record is only the envelope."""

    type: Literal["observations.received"] = "observations.received"
    observations: list[ObservationReceived] = Field(min_length=1)
    correlation_id: str | None = None


#: The most observations one ObservationsReceived record carries (about 400 bytes each before gzip).
MAX_BATCHED_OBSERVATIONS = 500

InputEvent = Annotated[
    Union[ObservationReceived, ObservationsReceived, FinanceStatusChanged, IntensiveSupportChanged, TrustRegistered, InputRetracted],
    Field(discriminator="type"),
]
INPUT_ADAPTER: TypeAdapter[InputEvent] = TypeAdapter(InputEvent)


def decode_input(raw: bytes) -> InputEvent:
    """Decode one input record; raises pydantic.ValidationError naming the field and reason."""
    return INPUT_ADAPTER.validate_json(raw)


def single_inputs(event: InputEvent) -> list:
    """The inputs one record carries, in order: the observations of a batch record, else the record itself."""
    return list(event.observations) if isinstance(event, ObservationsReceived) else [event]


class Cause(Event):
    """What made a change happen: the input's kind and id, and whose input it was."""

    kind: Literal["observation", "finance", "intensive_support", "trust", "retraction"]
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


# --- Publisher outward events: segment alerts and the CloudEvents 1.0 envelope. ---

AlertType = Literal["segment.worsened", "segment.improved"]


class SegmentAlert(Event):
    """A trust moved segment and the move held through the hold-down (worse = higher segment number)."""

    alert_id: str
    type: AlertType
    league: str
    league_version: int = Field(description="the league version at which the new segment was confirmed")
    methodology_version: str
    trust_code: str
    old_segment: int | None
    new_segment: int | None
    old_raw_segment: int | None = None
    new_raw_segment: int | None = None
    capped: bool = False
    old_average: str | None = None
    new_average: str | None = None
    old_average_range: list[str] | None = None
    new_average_range: list[str] | None = Field(default=None, description="the new average's likely range [lo, hi]")
    beyond_uncertainty: bool | None = Field(
        description="True when the new likely range lies wholly past the crossed threshold; None when the move "
        "was not an average crossing a threshold (financial cap or segment 5)"
    )
    basis: Literal["threshold", "ranges", "cap", "segment-5", "unknown"] = Field(
        description="how beyond_uncertainty was decided (see docs/PUBLISHER.md, Alerts)"
    )
    note: str = ""
    held_updates: int = Field(description="updates the new segment held for before the alert")
    held_seconds: float = Field(description="seconds the new segment held for before the alert")
    cause: Cause
    change_event_id: str = Field(description="event_id of the segment.changed that started the move")
    occurred_at: datetime = Field(default_factory=utcnow)


class CloudEvent(Event):
    """CloudEvents 1.0 structured JSON envelope for every outward event (webhooks, SSE, nof.public-events.v1)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(description="stable: the ChangeEvent event_id, or the SegmentAlert alert_id")
    source: str = Field(description="urn:nof-live:publisher")
    type: str = Field(description="uk.nhs.nof.<event type>, e.g. uk.nhs.nof.segment.worsened")
    subject: str = Field(description="the trust code")
    time: datetime
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: Annotated[str | None, WithJsonSchema({"type": "string", "format": "uri"})] = Field(
        default=None, exclude_if=lambda v: v is None,
        description="omitted when absent, never null (CloudEvents SDKs refuse a null optional attribute)")
    league: str = Field(description="extension attribute: the league slug")
    leagueversion: int = Field(description="extension attribute: the league version (delivery order per league)")
    data: dict[str, object | None] = Field(description="the ChangeEvent or SegmentAlert as JSON")
