"""Likely ranges of a trust's average and rank by a seeded bootstrap (METHODOLOGY §6, [A])."""

from __future__ import annotations

import hashlib
import math
import random
from bisect import bisect_left
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Sequence

from .rounding import ratio_hundredths
from .segments import Cuts, segment_state

METHOD = (
    "NHS England publishes likely ranges but not its method; this is ours. Resample the trust's "
    "scored metric scores with replacement (as many draws as it has scores), take the mean, "
    "round it to 2 dp half up; repeat B (bootstrap_resamples) times. The range is the central "
    "level interval of those averages (order statistics at floor(a*B) and "
    "ceil((1-a)*B)-1 with a = (1-level)/2). Its rank range re-segments each end (cap and "
    "segment 5 included) and ranks it against the other trusts held at their published places; "
    "rank is monotone in the average, so the ends of the average range give the ends of the "
    "rank range. The generator is seeded from the version, trust code and score vector, so "
    "every path and every run gives the same answer."
)


@lru_cache(maxsize=1 << 16)
def average_range(version: str, resamples: int, level: Decimal, trust_code: str,
                  scores: tuple[tuple[str, Fraction], ...]) -> tuple[int, int]:
    """The bootstrap interval of the 2-dp average, in hundredths (cached by score vector)."""
    k = len(scores)
    common = math.lcm(*(s.denominator for _, s in scores))
    units = [int(s * common) for _, s in scores]  # exact: scores over a common denominator
    text = "|".join([version, trust_code] + [f"{mid}={s}" for mid, s in scores])
    rng = random.Random(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big"))
    draws = sorted(ratio_hundredths(sum(rng.choices(units, k=k)), common * k)
                   for _ in range(resamples))
    alpha = (1 - Fraction(level)) / 2
    low = math.floor(alpha * resamples)
    high = max(math.ceil((1 - alpha) * resamples) - 1, low)
    return draws[low], draws[high]


def rank_at(avg_h: int, m, cuts: Cuts, deficit: bool, intensive: bool,
            own_key: tuple[int, int], sorted_keys: Sequence[tuple]) -> int:
    """The league rank the trust would hold with this 2-dp average, others unchanged (§6)."""
    segment = segment_state(m, avg_h, cuts, deficit, intensive).segment
    key = (segment, avg_h)
    better = bisect_left(sorted_keys, key)
    return 1 + better - (1 if own_key < key else 0)  # do not count the trust itself


def likely_ranges(m, trust_code: str, scores: dict[str, Fraction], cuts: Cuts,
                  deficit: bool, intensive: bool, own_key: tuple[int, int],
                  sorted_keys: Sequence[tuple]) -> tuple[tuple[int, int], tuple[int, int]]:
    """(average range in hundredths, rank range) for one ranked trust."""
    vector = tuple(sorted(scores.items()))
    low, high = average_range(m.version, m.bootstrap_resamples, m.likely_range_level,
                              trust_code, vector)
    ranks = (rank_at(low, m, cuts, deficit, intensive, own_key, sorted_keys),
             rank_at(high, m, cuts, deficit, intensive, own_key, sorted_keys))
    return (low, high), (min(ranks), max(ranks))
