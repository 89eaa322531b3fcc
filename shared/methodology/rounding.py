"""Exact means and their 2-dp half-up rounding (METHODOLOGY §3: never binary floats)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction


def half_up_hundredths(value: Fraction) -> int:
    """``value`` rounded half away from zero to a whole number of hundredths (§3)."""
    magnitude = ratio_hundredths(abs(value.numerator), value.denominator)
    return magnitude if value.numerator >= 0 else -magnitude


def ratio_hundredths(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` (both positive) rounded half up to hundredths (§3): floor(100 n / d + 1/2)
    with integers only, so 2.675 rounds to 2.68 exactly."""
    return (200 * numerator + denominator) // (2 * denominator)


def exact_mean(values: Sequence[Fraction]) -> Fraction:
    """``sum(values) / len(values)``, summed over one common denominator (no fraction normalised per
    addition; ``values`` not empty)."""
    return Fraction(*_mean_ratio(values))


def mean_hundredths(values: Sequence[Fraction]) -> int:
    """``half_up_hundredths(exact_mean(values))`` in integers only."""
    total, denominator = _mean_ratio(values)
    magnitude = ratio_hundredths(abs(total), denominator)
    return magnitude if total >= 0 else -magnitude


def _mean_ratio(values: Sequence[Fraction]) -> tuple[int, int]:
    common = math.lcm(*(v.denominator for v in values))
    return sum(v.numerator * (common // v.denominator) for v in values), common * len(values)


def hundredths_decimal(hundredths: int | None) -> Decimal | None:
    """Hundredths as a 2-dp Decimal (``205`` -> ``Decimal('2.05')``)."""
    return None if hundredths is None else Decimal(hundredths).scaleb(-2)


def two_dp(value: Fraction | None) -> Decimal | None:
    """An exact value shown to 2 dp, half up (§3)."""
    return None if value is None else hundredths_decimal(half_up_hundredths(value))


def two_dp_text(value: Fraction) -> str:
    """``str(two_dp(value))`` without building Decimals: the form every JSON output uses."""
    n = value.numerator
    magnitude = ratio_hundredths(abs(n), value.denominator)
    sign = "-" if n < 0 and magnitude else ""
    return f"{sign}{magnitude // 100}.{magnitude % 100:02d}"


def to_hundredths(value: Decimal) -> int:
    """A decimal with at most 2 dp as whole hundredths; more places are rounded half up."""
    return half_up_hundredths(Fraction(value))
