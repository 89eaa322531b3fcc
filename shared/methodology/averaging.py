"""A trust's average of its metric scores, per metric (published) or per domain (METHODOLOGY §3)."""

from __future__ import annotations

from fractions import Fraction
from typing import Mapping

from .rounding import exact_mean, half_up_hundredths
from .versions import PER_METRIC, Methodology


def exact_average(m: Methodology, scores: Mapping[str, Fraction]) -> Fraction | None:
    """The unrounded average: equal weight per metric (§3), or the mean of each domain's mean
    when ``m.weighting`` is per-domain. None without scores."""
    if not scores:
        return None
    if m.weighting == PER_METRIC:
        return exact_mean(list(scores.values()))
    by_domain: dict[str, list[Fraction]] = {}
    for metric_id, score in scores.items():
        by_domain.setdefault(m.metrics[metric_id].domain, []).append(score)
    return exact_mean([exact_mean(v) for v in by_domain.values()])


def average_hundredths(m: Methodology, scores: Mapping[str, Fraction]) -> int | None:
    """The average rounded half-up to 2 dp, in hundredths; None below ``min_scored_metrics`` (§3)."""
    if len(scores) < m.min_scored_metrics:
        return None
    return half_up_hundredths(exact_average(m, scores))
