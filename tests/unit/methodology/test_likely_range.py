"""The likely-range bootstrap's vectorised draws equal the plain-Python definition in METHOD."""

from __future__ import annotations

import math
import random
from decimal import Decimal
from fractions import Fraction

import pytest

from shared.methodology.rounding import ratio_hundredths
from shared.methodology.uncertainty import _seed, average_range


def reference(version: str, resamples: int, level: Decimal, code: str, scores) -> tuple[int, int]:  # noqa: ANN001
    """``random.Random(seed).choices`` repeated (seeded by the metrics scored), exact means rounded half up,
    sorted, two order statistics."""
    rng = random.Random(_seed(version, code, tuple(mid for mid, _ in scores)))
    values = [s for _, s in scores]
    k = len(values)
    draws = sorted(ratio_hundredths(*(sum(rng.choices(values, k=k)) / k).as_integer_ratio())
                   for _ in range(resamples))
    alpha = (1 - Fraction(level)) / 2
    low = math.floor(alpha * resamples)
    high = max(math.ceil((1 - alpha) * resamples) - 1, low)
    return draws[low], draws[high]


@pytest.mark.parametrize("seed", range(12))
def test_average_range_matches_the_plain_python_bootstrap(seed: int) -> None:
    rnd = random.Random(seed)
    k = rnd.randint(1, 24)
    # Quarter steps and thirds make many means land exactly on a rounding tie (x.xx5).
    scores = tuple((f"OF{i:04d}", Fraction(rnd.randint(4, 16), rnd.choice((4, 3, 1))) if rnd.random() < 0.7
                    else Fraction(rnd.randint(1000, 4000), 1000)) for i in range(k))
    resamples = rnd.choice((1, 25, 999, 1000))
    level = rnd.choice((Decimal("0.9"), Decimal("0.8"), Decimal("0.5")))
    assert average_range("v-test", resamples, level, f"R{seed:02d}", scores) == \
        reference("v-test", resamples, level, f"R{seed:02d}", scores)


def test_a_trusts_resamples_stay_while_its_scores_move() -> None:
    """The same trust and metrics draw the same resamples, so a small move of one score moves the range
    by at most that score's share of the mean, never by a new draw."""
    scores = [(f"OF{i:04d}", Fraction(1000 + 150 * i, 1000)) for i in range(16)]
    low, high = average_range("v-test", 400, Decimal("0.9"), "RXX", tuple(scores))
    scores[5] = (scores[5][0], scores[5][1] + Fraction(1, 1000))
    moved_low, moved_high = average_range("v-test", 400, Decimal("0.9"), "RXX", tuple(scores))
    assert 0 <= moved_low - low <= 1 and 0 <= moved_high - high <= 1
    other = average_range("v-test", 400, Decimal("0.9"), "RYY", tuple(scores))
    assert reference("v-test", 400, Decimal("0.9"), "RYY", tuple(scores)) == other
