"""Likely ranges of a trust's average and rank by a seeded bootstrap (METHODOLOGY §6, [A])."""

from __future__ import annotations

import hashlib
import math
import threading
from bisect import bisect_left
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Sequence

import numpy as np

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
    "rank range. The generator is seeded from the version, the trust code and the metrics it has "
    "scores for (not the scores), so every path and every run gives the same answer, and a trust "
    "keeps the same resamples while its scores move: its range moves with its scores, not with "
    "a new draw."
)


@lru_cache(maxsize=1 << 16)
def average_range(version: str, resamples: int, level: Decimal, trust_code: str,
                  scores: tuple[tuple[str, Fraction], ...]) -> tuple[int, int]:
    """The bootstrap interval of the 2-dp average, in hundredths (cached by score vector)."""
    draws = _resampled_averages(_draw_counts(version, trust_code, tuple(mid for mid, _ in scores), resamples), scores)
    alpha = (1 - Fraction(level)) / 2
    low = math.floor(alpha * resamples)
    high = max(math.ceil((1 - alpha) * resamples) - 1, low)
    ends = np.partition(draws, (low, high))  # the two order statistics, without sorting every draw
    return int(ends[low]), int(ends[high])


def _seed(version: str, trust_code: str, metric_ids: tuple[str, ...]) -> int:
    text = "|".join([version, trust_code, *metric_ids])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


_local = threading.local()


def _generator() -> np.random.RandomState:
    if (generator := getattr(_local, "generator", None)) is None:
        generator = _local.generator = np.random.RandomState()
    return generator


@lru_cache(maxsize=512)
def _draw_counts(version: str, trust_code: str, metric_ids: tuple[str, ...], resamples: int) -> np.ndarray:
    """How often each resample draws each of the trust's scores: ``resamples`` rows of ``len(metric_ids)``.

    The draws are those of ``random.Random(seed).choices(range(k), k=k)`` repeated ``resamples``
    times: numpy's legacy generator is the same Mersenne Twister, seeded the same way (init_by_array
    over the seed's 32-bit words) and turning words into floats the same way. They depend on which
    metrics the trust has scores for, not on the scores, so they are drawn once and kept (read-only);
    a resample's mean is then one row of a matrix product.
    """
    k = len(metric_ids)
    seed = _seed(version, trust_code, metric_ids)
    words = [(seed >> shift) & 0xFFFFFFFF for shift in range(0, max(seed.bit_length(), 1), 32)]
    generator = _generator()
    generator.seed(np.array(words, dtype=np.uint32))  # reseeding is ~10x cheaper than a new RandomState
    picks = np.floor(generator.random_sample((resamples, k)) * k).astype(np.intp)
    counts = np.zeros((resamples, k))
    np.add.at(counts, (np.arange(resamples).repeat(k), picks.ravel()), 1)
    counts.setflags(write=False)
    return counts


def _resampled_averages(counts: np.ndarray, scores: tuple[tuple[str, Fraction], ...]) -> np.ndarray:
    """The bootstrap means of the scores drawn ``counts`` times, each rounded half up to hundredths, exactly.

    Means are summed in floats; any mean within a hair of a rounding tie is summed again in exact
    integers, so the result is exact.
    """
    k = len(scores)
    values = np.array([float(s) for _, s in scores])
    scaled = (counts @ values) * (100.0 / k) + 0.5  # 100 x mean + 1/2: floor gives half-up hundredths
    out = np.floor(scaled).astype(np.int64)
    near = np.flatnonzero(np.abs(scaled - np.rint(scaled)) < 1e-6)
    if near.size:
        common = math.lcm(*(s.denominator for _, s in scores))
        units = [s.numerator * (common // s.denominator) for _, s in scores]  # exact: over a common denominator
        for row in near.tolist():
            out[row] = ratio_hundredths(sum(int(n) * u for n, u in zip(counts[row].tolist(), units) if n), common * k)
    return out


def end_keys(m, average_h: tuple[int, int], cuts: Cuts, deficit: bool,
             intensive: bool) -> tuple[tuple[int, int], tuple[int, int]]:
    """Where each end of an average range would stand on the league's ladder: (segment, average),
    re-segmented with the cap and segment 5 (§6). Fixed while the trust's own state and the cuts are."""
    low, high = average_h
    return ((segment_state(m, low, cuts, deficit, intensive).segment, low),
            (segment_state(m, high, cuts, deficit, intensive).segment, high))


def rank_of_key(key: tuple[int, int], own_key: tuple[int, int], sorted_keys: Sequence[tuple]) -> int:
    """The league rank a trust would hold at ``key``, the others at their places (§6)."""
    better = bisect_left(sorted_keys, key)
    return 1 + better - (1 if own_key < key else 0)  # do not count the trust itself


def likely_ranges(m, trust_code: str, scores: dict[str, Fraction], cuts: Cuts,
                  deficit: bool, intensive: bool, own_key: tuple[int, int],
                  sorted_keys: Sequence[tuple]) -> tuple[tuple[int, int], tuple[int, int]]:
    """(average range in hundredths, rank range) for one ranked trust."""
    vector = tuple(sorted(scores.items()))
    low, high = average_range(m.version, m.bootstrap_resamples, m.likely_range_level,
                              trust_code, vector)
    return (low, high), rank_range(m, (low, high), cuts, deficit, intensive, own_key, sorted_keys)


def rank_range(m, average_h: tuple[int, int], cuts: Cuts, deficit: bool, intensive: bool,
               own_key: tuple[int, int], sorted_keys: Sequence[tuple]) -> tuple[int, int]:
    """The ranks the ends of an average range would hold, others at their places (§6)."""
    return ranks_of_keys(end_keys(m, average_h, cuts, deficit, intensive), own_key, sorted_keys)


def ranks_of_keys(keys: tuple[tuple[int, int], tuple[int, int]], own_key: tuple[int, int],
                  sorted_keys: Sequence[tuple]) -> tuple[int, int]:
    """The rank range of a range's two ladder keys (``end_keys``), the others at their places."""
    a, b = (rank_of_key(key, own_key, sorted_keys) for key in keys)
    return (a, b) if a <= b else (b, a)
