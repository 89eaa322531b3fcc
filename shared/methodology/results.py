"""Result types shared by the batch and incremental paths (METHODOLOGY §3-§6).

Exact values stay exact in Python (metric scores are Fractions, averages 2-dp Decimals);
``to_dict`` renders every Decimal and Fraction as a decimal string with 2 places.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from typing import Any, Mapping, NamedTuple

from .rounding import two_dp_text


def json_safe(value: Any) -> Any:
    """Decimals and Fractions as 2-dp strings; tuples as lists; mappings recursively."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is Fraction:
        return two_dp_text(value)
    if kind is Decimal:
        return str(value)
    if kind is dict:
        return {str(k): json_safe(v) for k, v in value.items()}
    if kind is tuple or kind is list:
        return [json_safe(v) for v in value]
    # Subclasses and other mappings take the general (slower) checks.
    if isinstance(value, Fraction):
        return two_dp_text(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [json_safe(v) for v in value]
    return value


_PLAIN = frozenset({str, int, float, bool, type(None)})


@dataclass(frozen=True)
class TrustResult:
    """One trust's place in its league, as produced by one methodology version."""

    methodology_version: str
    league: str
    trust_code: str
    trust_name: str
    average: Decimal | None
    raw_segment: int | None
    segment: int | None
    capped: bool
    rank: int | None
    unadjusted_rank: int | None
    scored_metrics: int
    applicable_metrics: int
    metric_scores: dict[str, Fraction]
    domain_scores: dict[str, Decimal]
    in_deficit: bool | None
    receives_deficit_support: bool
    intensive_support: bool
    distance_to_next_segment: Decimal | None
    average_range: tuple[Decimal, Decimal] | None
    rank_range: tuple[int, int] | None
    warnings: tuple[str, ...] = ()

    @property
    def completeness(self) -> str:
        return f"{self.scored_metrics}/{self.applicable_metrics}"

    def to_dict(self) -> dict[str, Any]:
        return {name: json_safe(getattr(self, name)) for name in self.__dataclass_fields__}


class Standing(NamedTuple):
    """One trust's published fields as the incremental engine holds them now (METHODOLOGY §3-§6): what a
    change event's ``old`` and ``new`` are read from."""

    average: Decimal | None
    scored_metrics: int
    applicable_metrics: int
    in_deficit: bool | None
    intensive_support: bool
    segment: int | None
    raw_segment: int | None
    capped: bool
    rank: int | None
    unadjusted_rank: int | None


@dataclass(frozen=True)
class LeagueResult:
    """One league table: entries sorted by rank then trust code, unranked trusts last."""

    league: str
    methodology_version: str
    entries: tuple[TrustResult, ...]
    segment_cutoffs: tuple[Decimal, ...] | None = None

    def get(self, trust_code: str) -> TrustResult | None:
        return self._by_code.get(trust_code)

    @cached_property
    def _by_code(self) -> dict[str, TrustResult]:
        return {e.trust_code: e for e in self.entries}

    def to_dict(self) -> dict[str, Any]:
        return {"league": self.league, "methodology_version": self.methodology_version,
                "segment_cutoffs": json_safe(self.segment_cutoffs),
                "entries": [e.to_dict() for e in self.entries]}


@dataclass(frozen=True)
class Results:
    """Every league scored by one methodology version; equal results compare ``==``."""

    methodology_version: str
    leagues: dict[str, LeagueResult] = field(default_factory=dict)

    def trust(self, trust_code: str) -> TrustResult | None:
        for league in self.leagues.values():
            if (found := league.get(trust_code)) is not None:
                return found
        return None

    def __iter__(self):
        for league in self.leagues.values():
            yield from league.entries

    def to_dict(self) -> dict[str, Any]:
        return {"methodology_version": self.methodology_version,
                "leagues": {slug: lr.to_dict() for slug, lr in self.leagues.items()}}


class Cause(NamedTuple):
    """The input behind a change: its kind, id and the trust that sent it (§8)."""

    kind: str  # "observation", "finance", "intensive_support", "trust" or "retraction"
    input_id: str
    trust_code: str


# Changes are made by the hundred per observation in a large league, so they are
# immutable named tuples: several times cheaper to build than frozen dataclasses.
class Change(NamedTuple):
    """One field of one trust's result that an input changed (§8: it names the cause)."""

    league: str
    trust_code: str
    kind: str
    metric_id: str | None
    old: Any
    new: Any
    cause: Cause

    def to_dict(self) -> dict[str, Any]:
        return {"league": self.league, "trust_code": self.trust_code, "kind": self.kind,
                "metric_id": self.metric_id, "old": json_safe(self.old),
                "new": json_safe(self.new), "cause": self.cause._asdict()}


#: Change kinds and the TrustResult field each one tracks.
CHANGE_FIELDS: dict[str, str] = {
    "metric_score": "metric_scores",
    "completeness": "scored_metrics",
    "average": "average",
    "raw_segment": "raw_segment",
    "capped": "capped",
    "segment": "segment",
    "rank": "rank",
    "unadjusted_rank": "unadjusted_rank",
    "finance": "in_deficit",
    "intensive_support": "intensive_support",
    "trust_added": "trust_code",
}
