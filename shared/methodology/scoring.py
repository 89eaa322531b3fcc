"""Per-metric scores 1.00 (best) to 4.00 (worst): continuous mappings and bands (METHODOLOGY §2)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from fractions import Fraction
from typing import Mapping

from .catalogue import HIGHER, MetricDefinition
from .versions import MIN_MAX, PERCENT_RANK, RANK_LINEAR


def oriented(metric: MetricDefinition, value: Fraction) -> Fraction:
    """The value flipped when needed so that smaller is always better."""
    return -value if metric.direction == HIGHER else value


def position_score(mapping: str, less: int, ties: int, n: int) -> tuple[int, int]:
    """Score of a value with ``less`` strictly better peers and ``ties`` equal values
    (itself included) among ``n``, as an unreduced (numerator, denominator) pair (§2).

    rank-linear: ``1 + 3 (r - 1) / (n - 1)`` with ``r`` the mean position of the ties.
    percent-rank: ``1 + 3 less / (n - 1)``, ties take the best position.
    """
    if mapping == RANK_LINEAR:
        den = 2 * (n - 1)  # r - 1 = less + (ties - 1) / 2, so work in halves
        return den + 3 * (2 * less + ties - 1), den
    if mapping == PERCENT_RANK:
        return (n - 1) + 3 * less, n - 1
    raise ValueError(f"{mapping} is not a position mapping")


def min_max_score(value: Fraction, best: Fraction, worst: Fraction) -> Fraction:
    """min-max on oriented values: best scores 1, worst 4, linear between; all equal -> 2.5."""
    if best == worst:
        return Fraction(5, 2)
    return 1 + 3 * (value - best) / (worst - best)


def banded_score(metric: MetricDefinition, value: Fraction) -> int:
    """The first band the value reaches, else 4 (§2, banded metrics)."""
    for band in metric.bands:
        reached = value >= band.threshold if metric.direction == HIGHER else value <= band.threshold
        if reached:
            return band.score
    return 4


def score_group(mapping: str, metric: MetricDefinition, min_peers: int,
                values: Mapping[str, Fraction]) -> dict[str, Fraction]:
    """Scores of one comparison group, computed from scratch (§2); the batch path.

    A continuous metric with fewer than ``min_peers`` values is reported but unscored.
    """
    if metric.bands:
        return {code: Fraction(banded_score(metric, v)) for code, v in values.items()}
    n = len(values)
    if n < min_peers:
        return {}
    keyed = {code: oriented(metric, v) for code, v in values.items()}
    ordered = sorted(keyed.values())
    if mapping == MIN_MAX:
        return {c: min_max_score(v, ordered[0], ordered[-1]) for c, v in keyed.items()}
    scores = {}
    for code, v in keyed.items():
        less = bisect_left(ordered, v)
        num, den = position_score(mapping, less, bisect_right(ordered, v) - less, n)
        scores[code] = Fraction(num, den)
    return scores


def mean_position(ordered: list[Fraction], value: Fraction) -> Fraction:
    """1-based position best->worst, ties sharing the mean of their positions (§2)."""
    less = bisect_left(ordered, value)
    ties = bisect_right(ordered, value) - less
    return less + Fraction(ties + 1, 2)
