"""Methodology versions as data: catalogue plus every scoring parameter (METHODOLOGY §2-§6)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from .catalogue import BY_GRANULARITY, Catalogue, MetricDefinition
from .errors import InvalidInput, UnknownMethodology
from .inputs import validate_input
from .leagues import league_of
from .nof_catalogue import icb_metrics_2026_27, provider_metrics_2025_26

RANK_LINEAR, MIN_MAX, PERCENT_RANK = "rank-linear", "min-max", "percent-rank"
FIXED, QUARTILE = "fixed", "quartile"
PER_METRIC, PER_DOMAIN = "per-metric", "per-domain"
ALL_LEAGUES_KEY = "all"


@dataclass(frozen=True)
class Methodology:
    """One methodology version. Every computed result records ``version``.

    ``weighting`` is how the average weighs metric scores: equally per metric (the published
    rule, §3) or equally per domain (the mean of each domain's mean; an alternative for the
    sensitivity view, scored by the batch path only).

    Parameter labels (METHODOLOGY): mapping [A], min_peers [A], min_scored_metrics [A],
    fixed thresholds [D], financial cap 3 [V], segment 5 [V], bootstrap [A].
    """

    version: str
    metrics: Catalogue
    leagues: tuple[str, ...] = ("acute", "mental-health-community", "ambulance")
    mapping: str = RANK_LINEAR
    min_peers: int = 2
    min_scored_metrics: int = 1
    segment_strategy: str = FIXED
    weighting: str = PER_METRIC
    thresholds: tuple[Decimal, Decimal, Decimal] = (
        Decimal("2.10"), Decimal("2.35"), Decimal("2.70"))
    financial_cap: int | None = 3
    segment5: bool = True
    bootstrap_resamples: int = 400
    likely_range_level: Decimal = Decimal("0.90")
    #: The earliest period this version takes input for [A]: the financial year before the framework's own,
    #: since its metrics draw on up to twelve months of earlier data. Earlier periods are refused at ingest.
    first_period: str = "2024-04"
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.mapping not in (RANK_LINEAR, MIN_MAX, PERCENT_RANK):
            raise InvalidInput("mapping", f"unknown mapping {self.mapping!r}")
        if self.segment_strategy not in (FIXED, QUARTILE):
            raise InvalidInput("segment_strategy", "must be fixed or quartile")
        if self.weighting not in (PER_METRIC, PER_DOMAIN):
            raise InvalidInput("weighting", f"must be {PER_METRIC} or {PER_DOMAIN}, not {self.weighting!r}")
        if self.min_peers < 2:
            raise InvalidInput("min_peers", "a ranked score needs at least 2 peers")
        if self.min_scored_metrics < 1:
            raise InvalidInput("min_scored_metrics", "must be at least 1")
        if list(self.thresholds) != sorted(self.thresholds) or len(self.thresholds) != 3:
            raise InvalidInput("thresholds", "need three ascending cut-offs")
        if self.financial_cap is not None and self.financial_cap not in (2, 3, 4):
            raise InvalidInput("financial_cap", "must be a segment 2-4 or None")
        if self.bootstrap_resamples < 1:
            raise InvalidInput("bootstrap_resamples", "must be positive")
        if not Decimal(0) < self.likely_range_level < Decimal(1):
            raise InvalidInput("likely_range_level", "must lie between 0 and 1")

    def metric(self, metric_id: str) -> MetricDefinition:
        """The catalogue entry; raises UnknownMetric."""
        return self.metrics[metric_id]

    def mapping_of(self, metric: MetricDefinition) -> str:
        return metric.mapping or self.mapping

    @cached_property  # read for every input the scorer applies; a version's metrics never change
    def cross_league(self) -> bool:
        """Whether any scoring metric compares organisations across trust types."""
        return any(m.scoring and m.comparison_group == BY_GRANULARITY
                   for m in self.metrics.values())

    def partition_key(self, trust_type: str) -> str:
        """The streaming partition a trust type's inputs belong to (METHODOLOGY §1-§2).

        Each league is scored independently, so its slug is the key. A ``granularity``
        comparison group scores a metric across trust types: one trust's observation can
        move another league's scores, so every input must reach the same scorer and the
        key is ``"all"``.
        """
        slug = league_of(trust_type)
        if slug not in self.leagues:
            raise InvalidInput("trust_type", f"{trust_type!r} is not scored by {self.version}")
        return ALL_LEAGUES_KEY if self.cross_league else slug

    def validate(self, item) -> None:
        """Reject an input that this version cannot score; see inputs.validate_input."""
        validate_input(self.metrics, item)

    def replace(self, **changes) -> "Methodology":
        """A copy with some parameters changed (e.g. a test catalogue or quartile strategy)."""
        if "metrics" in changes and not isinstance(changes["metrics"], Catalogue):
            changes["metrics"] = Catalogue(changes["metrics"])
        return dataclasses.replace(self, **changes)


def _nof_2025_26() -> Methodology:
    return Methodology(
        version="nof-2025-26",
        metrics=Catalogue(provider_metrics_2025_26()),
        description="NHS Oversight Framework 2025/26: three provider leagues.",
    )


def _nof_2026_27() -> Methodology:
    base = provider_metrics_2025_26()
    return Methodology(
        version="nof-2026-27",
        metrics=Catalogue(base + icb_metrics_2026_27()),
        leagues=("acute", "mental-health-community", "ambulance", "icb"),
        description="NHS Oversight Framework 2026/27: defined thresholds, ICBs scored.",
    )


DEFAULT_VERSION = "nof-2025-26"
_VERSIONS = {"nof-2025-26": _nof_2025_26(), "nof-2026-27": _nof_2026_27()}
VERSIONS: tuple[str, ...] = tuple(_VERSIONS)


def get_methodology(version: str = DEFAULT_VERSION) -> Methodology:
    """Look up a methodology version by name; raises UnknownMethodology."""
    try:
        return _VERSIONS[version]
    except KeyError:
        raise UnknownMethodology(version, VERSIONS) from None
