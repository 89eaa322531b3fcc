"""Metric definitions: what each metric measures and how it is scored (METHODOLOGY §7)."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from .errors import InvalidInput, UnknownMetric

HIGHER, LOWER = "higher", "lower"
CONTINUOUS, BANDED = "continuous", "banded"
SCORING, CONTEXTUAL = "scoring", "contextual"
BY_TRUST_TYPE, BY_GRANULARITY = "trust_type", "granularity"

#: Domains in NHS England's order (METHODOLOGY §3); keys are used in results.
DOMAINS: dict[str, str] = {
    "access": "Access to services",
    "effectiveness": "Effectiveness and experience",
    "safety": "Patient safety",
    "people": "People and workforce",
    "finance": "Finance and productivity",
}

#: Unit -> (lowest, highest) accepted value; None means unbounded. "percent" is a share
#: of a whole; "signed_percent" (e.g. surplus as % of income) and "pp" may be negative.
UNIT_DOMAINS: dict[str, tuple[int | None, int | None]] = {
    "percent": (0, 100),
    "signed_percent": (None, None),
    "pp": (None, None),
    "count": (0, None),
    "rate": (0, None),
    "days": (0, None),
    "minutes": (0, None),
    "score": (0, None),
}


@dataclass(frozen=True)
class Band:
    """A whole score given when the value is at least (higher-better) or at most
    (lower-better) ``threshold`` (METHODOLOGY §2, banded metrics)."""

    threshold: Fraction
    score: int


@dataclass(frozen=True)
class MetricDefinition:
    """One catalogue entry; every field listed in METHODOLOGY §7.

    ``provenance`` maps a field name to its label: V (NHS England states it), D (derived
    from published data) or A (our assumption). Fields it does not name are A.
    """

    id: str
    name: str
    domain: str
    applies_to: frozenset[str]  # league slugs
    direction: str
    unit: str
    kind: str = CONTINUOUS
    bands: tuple[Band, ...] = ()
    basis: str = "latest period received"
    role: str = SCORING
    comparison_group: str = BY_TRUST_TYPE
    provenance: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    provisional: bool = False
    excludes: frozenset[str] = frozenset()  # trust codes the metric does not apply to
    mapping: str | None = None  # None: the methodology version's default mapping

    def __post_init__(self) -> None:
        checks = (
            (self.direction in (HIGHER, LOWER), "direction", "must be 'higher' or 'lower'"),
            (self.unit in UNIT_DOMAINS, "unit", f"unknown unit {self.unit!r}"),
            (self.kind in (CONTINUOUS, BANDED), "kind", "must be continuous or banded"),
            (self.role in (SCORING, CONTEXTUAL), "role", "must be scoring or contextual"),
            (self.domain in DOMAINS, "domain", f"unknown domain {self.domain!r}"),
            (self.comparison_group in (BY_TRUST_TYPE, BY_GRANULARITY),
             "comparison_group", "must be trust_type or granularity"),
            ((self.kind == BANDED) == bool(self.bands), "bands", "banded metrics need bands"),
        )
        for ok, name, reason in checks:
            if not ok:
                raise InvalidInput(f"{self.id}.{name}", reason)

    @property
    def scoring(self) -> bool:
        return self.role == SCORING

    def applies(self, league: str, trust_code: str) -> bool:
        """Whether a trust of this league is scored on this metric (METHODOLOGY §1)."""
        return league in self.applies_to and trust_code not in self.excludes

    def label(self, name: str) -> str:
        """The provenance label (V, D or A) of one field."""
        return self.provenance.get(name, "A")


def bands(*pairs: tuple[str | int, int]) -> tuple[Band, ...]:
    """Build bands from (threshold, score) pairs, best band first."""
    return tuple(Band(Fraction(str(t)), s) for t, s in pairs)


class Catalogue(dict):
    """Metric ID -> definition, in catalogue order; lookups name the unknown ID."""

    def __init__(self, metrics=()) -> None:
        super().__init__((m.id, m) for m in metrics)

    def __missing__(self, metric_id: str) -> MetricDefinition:
        raise UnknownMetric(metric_id)

    def scoring_for(self, league: str, trust_code: str) -> tuple[str, ...]:
        """Scoring metric IDs that apply to one trust: the completeness denominator (§3)."""
        return tuple(i for i, m in self.items() if m.scoring and m.applies(league, trust_code))
