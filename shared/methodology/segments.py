"""Average -> segment 1-4, then the financial cap and segment 5 (METHODOLOGY §4, §5, §6)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import floor
from typing import NamedTuple, Sequence

from .rounding import hundredths_decimal
from .versions import FIXED, Methodology

Cuts = tuple[Fraction, Fraction, Fraction]  # upper bounds of segments 1-3, in hundredths


class SegmentState(NamedTuple):
    raw: int | None
    segment: int | None
    capped: bool


def quartile_cuts(averages: Sequence[int]) -> Cuts | None:
    """Quartiles of a league's sorted 2-dp averages (in hundredths), by linear interpolation
    between order statistics (the "inclusive" method), computed exactly (§4, quartile)."""
    n = len(averages)
    if n == 0:
        return None
    cuts = []
    for i in (1, 2, 3):
        j, rem = divmod(i * (n - 1), 4)
        upper = averages[j + 1] if rem else averages[j]
        cuts.append(Fraction(averages[j] * (4 - rem) + upper * rem, 4))
    return tuple(cuts)


def league_cuts(m: Methodology, sorted_averages: Sequence[int]) -> Cuts | None:
    """The cut-offs in force for one league: fixed thresholds or its quartiles (§4)."""
    if m.segment_strategy == FIXED:
        return tuple(Fraction(t) * 100 for t in m.thresholds)
    return quartile_cuts(sorted_averages)


def raw_segment(avg_h: int, cuts: Cuts) -> int:
    """Segment 1 if avg <= first cut, 2 if <= second, 3 if <= third, else 4 (§4)."""
    for segment, cut in enumerate(cuts, start=1):
        if avg_h * cut.denominator <= cut.numerator:  # avg_h <= cut, in integers (denominators are positive)
            return segment
    return 4


def in_deficit(deficit: bool | None, support: bool) -> bool:
    """Unknown (None) counts as not in deficit (§5); deficit support counts as deficit."""
    return deficit is True or support


def segment_state(m: Methodology, avg_h: int | None, cuts: Cuts | None,
                  deficit: bool, intensive: bool) -> SegmentState:
    """Raw segment, then the cap (a trust in deficit is no better than segment 3; a
    segment-4 trust stays 4) and the segment-5 decision (§4, §5). Without an average a
    trust is unsegmented unless it is in intensive support."""
    raw = None if avg_h is None or cuts is None else raw_segment(avg_h, cuts)
    segment, capped = raw, False
    cap = m.financial_cap
    if raw is not None and deficit and cap is not None and raw < cap:
        segment, capped = cap, True
    if intensive and m.segment5:
        segment, capped = 5, False
    return SegmentState(raw, segment, capped)


def distance_to_next(m: Methodology, avg_h: int | None, state: SegmentState,
                     cuts: Cuts | None, deficit: bool) -> Decimal | None:
    """How far the 2-dp average must fall to reach the next better segment (§6).

    None when no better segment is reachable by the average alone: segment 1, segment 5,
    unsegmented, or held at the financial cap.
    """
    segment = state.segment
    if avg_h is None or cuts is None or segment in (None, 1, 5):
        return None
    target = segment - 1
    if deficit and m.financial_cap is not None and target < m.financial_cap:
        return None
    best_needed = floor(cuts[target - 1])  # highest 2-dp average inside the target segment
    return hundredths_decimal(max(avg_h - best_needed, 0))
