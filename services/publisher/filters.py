"""Subscription and stream filters, and whether one outward event matches them (pure).

The subscription JSON (``filters``: ``leagues``, ``trust_codes``, ``regions``, ``types``, ``min_rank_movement``)
and the ``GET /v1/stream`` query string (the same filters, singular: ``league``, ``trust_code``, ``region``, ``type``,
``min_rank_movement``) share this model; each list may be repeated or comma-separated (``?trust_code=RXX,RYY``).
An empty list means "any". ``min_rank_movement`` only applies to ``rank.changed`` events: the rank must move
by at least that many places (a trust entering or leaving the ranking always counts); other types pass it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

EVENT_TYPES = ("assessment.changed", "segment.changed", "rank.changed", "segment.worsened", "segment.improved")


#: Longest filter list and longest item: a subscription or a stream is matched against every event, so its
#: filters stay small (there are about 200 trusts, a handful of leagues and regions).
MAX_FILTER_ITEMS = 500
MAX_FILTER_ITEM_LENGTH = 100

Item = Annotated[str, StringConstraints(max_length=MAX_FILTER_ITEM_LENGTH)]


class Filters(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    leagues: tuple[Item, ...] = Field(default=(), max_length=MAX_FILTER_ITEMS,
                                      description="league slugs, e.g. acute")
    trust_codes: tuple[Item, ...] = Field(default=(), max_length=MAX_FILTER_ITEMS,
                                          description="trust codes, e.g. RXX")
    regions: tuple[Item, ...] = Field(default=(), max_length=MAX_FILTER_ITEMS,
                                      description="NHS regions as in the register, e.g. London")
    types: tuple[Item, ...] = Field(default=(), max_length=MAX_FILTER_ITEMS,
                                    description=f"event types: {', '.join(EVENT_TYPES)}")
    min_rank_movement: int = Field(default=0, ge=0, description="rank.changed only: places moved at least")

    @field_validator("leagues", "trust_codes", "regions", "types", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, (list, tuple)):
            return tuple(p.strip() for v in value for p in str(v).split(",") if p.strip())
        return value

    @field_validator("types")
    @classmethod
    def _known_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(EVENT_TYPES))
        if unknown:
            raise ValueError(f"unknown event type(s) {unknown}; known: {list(EVENT_TYPES)}")
        return value


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What filters look at, kept beside each event in the log so matching needs no JSON parsing."""

    type: str
    league: str
    trust_code: str
    region: str = ""
    rank_movement: int | None = None  # None: not a rank event, or entered/left the ranking


def matches(f: Filters, e: EventFacts) -> bool:
    if f.types and e.type not in f.types:
        return False
    if f.leagues and e.league not in f.leagues:
        return False
    if f.trust_codes and e.trust_code not in f.trust_codes:
        return False
    if f.regions and e.region not in f.regions:
        return False
    if f.min_rank_movement and e.type == "rank.changed" and e.rank_movement is not None:
        return e.rank_movement >= f.min_rank_movement
    return True


def rank_movement(old: dict, new: dict) -> int | None:
    """Places moved between two ``rank.changed`` payloads; None when either side is unranked."""
    a, b = old.get("rank"), new.get("rank")
    if not isinstance(a, int) or not isinstance(b, int):
        return None
    return abs(a - b)
