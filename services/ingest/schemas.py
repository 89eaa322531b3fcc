"""Request and response bodies of the ingest API (validated by pydantic; the wire events live in shared.events)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

Code = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9-]+$")]
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]


class ObservationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trust_code: Code
    metric_id: Annotated[str, Field(min_length=1, max_length=32)]
    period: Annotated[str, Field(min_length=1, max_length=16, examples=["2025-12", "2025-26 Q3"])]
    value: Number
    observation_id: Annotated[str, Field(min_length=1, max_length=128)] | None = Field(
        default=None, description="idempotency key; derived from trust, metric, period, value and source when absent"
    )
    source: Annotated[str, Field(max_length=128)] | None = None
    observed_at: datetime | None = None


class ObservationBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    observations: list[ObservationIn] = Field(min_length=1)


class FinanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    in_deficit: StrictBool | None = Field(description="null = unknown, treated as not in deficit")
    receives_deficit_support: StrictBool = False


class IntensiveSupportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    intensive_support: StrictBool


class TrustIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trust_code: Code
    trust_name: Annotated[str, Field(min_length=1, max_length=200)]
    trust_type: Annotated[str, Field(min_length=1, max_length=64, examples=["Acute trust"])]
    trust_subtype: Annotated[str, Field(max_length=64)] = ""
    region: Annotated[str, Field(max_length=64)] = ""


class RetractionIn(BaseModel):
    """Withdraw an input accepted in error: an observation by ``input_id`` (its observation id) or by
    ``metric_id`` and ``period``; a finance or intensive-support change by ``input_id`` (its change id)."""

    model_config = ConfigDict(extra="forbid")

    trust_code: Code
    target: Literal["observation", "finance", "intensive_support"] = "observation"
    input_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    metric_id: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    period: Annotated[str, Field(min_length=1, max_length=16)] | None = None
    reason: Annotated[str, Field(max_length=500)] = ""


class Accepted(BaseModel):
    accepted: int
    ids: list[str] = Field(description="the id of each accepted input, in request order")
    correlation_id: str


class CsvReport(BaseModel):
    accepted: int
    skipped: int
    rows: int
    skipped_by_reason: dict[str, int]
    examples: list[dict[str, object]] = Field(description="up to 20 skipped rows: line, column, reason")
    correlation_id: str
