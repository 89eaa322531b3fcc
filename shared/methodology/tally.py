"""A trust's exact running sum of metric scores, in integers (METHODOLOGY §3)."""

from __future__ import annotations

import math
from fractions import Fraction

from .rounding import ratio_hundredths


class ScoreTally:
    """Sum and count of a trust's scores, kept as integer numerators per denominator.

    Scores from one comparison group share a denominator, so adding and removing a score
    is integer arithmetic; the exact mean is only assembled when it is asked for.
    """

    __slots__ = ("parts", "count")

    def __init__(self) -> None:
        self.parts: dict[int, list[int]] = {}  # denominator -> [numerator sum, scores]
        self.count = 0

    def add(self, num: int, den: int) -> None:
        part = self.parts.get(den)
        if part is None:
            self.parts[den] = [num, 1]
        else:
            part[0] += num
            part[1] += 1
        self.count += 1

    def remove(self, num: int, den: int) -> None:
        part = self.parts[den]
        part[0] -= num
        part[1] -= 1
        if not part[1]:
            del self.parts[den]
        self.count -= 1

    def _total(self) -> tuple[int, int]:
        if len(self.parts) == 1:
            (den, (num, _)), = self.parts.items()
            return num, den
        common = math.lcm(*self.parts)
        return sum(num * (common // den) for den, (num, _) in self.parts.items()), common

    def mean_hundredths(self) -> int | None:
        """The mean rounded half up to hundredths (§3), or None with no scores."""
        if not self.count:
            return None
        num, den = self._total()
        return ratio_hundredths(num, den * self.count)

    def mean(self) -> Fraction | None:
        if not self.count:
            return None
        num, den = self._total()
        return Fraction(num, den * self.count)
