"""One metric's values in one comparison group, kept sorted for incremental scoring (METHODOLOGY §2)."""

from __future__ import annotations

from fractions import Fraction
from typing import Iterable

from sortedcontainers import SortedList

from .catalogue import MetricDefinition
from .scoring import banded_score, min_max_score, oriented, position_score
from .versions import MIN_MAX

HIGH = "\U0010ffff"  # sorts after every trust code

Score = tuple[int, int]  # exact score as (numerator, denominator), not necessarily reduced


class MetricGroup:
    """Sorted (oriented value, trust) entries of one comparison group.

    Entries are keyed ``(float(v), v, code)`` with ``v`` oriented so smaller is better: the
    float orders almost every comparison at C speed and the exact fraction breaks float
    ties, so the order is exact. Updates and position queries are logarithmic.
    """

    __slots__ = ("metric", "mapping", "min_peers", "banded", "keys", "order", "version")

    def __init__(self, metric: MetricDefinition, mapping: str, min_peers: int) -> None:
        self.metric = metric
        self.mapping = mapping
        self.min_peers = min_peers
        self.banded = bool(metric.bands)
        self.keys: dict[str, tuple[float, Fraction]] = {}
        self.order = SortedList()
        self.version = 0  # counts changes: positions in the group are unchanged while it is

    def load(self, values: dict[str, Fraction]) -> None:
        """Bulk-load a snapshot (construction from a batch of inputs)."""
        self.version += 1
        for code, value in values.items():
            v = oriented(self.metric, value)
            self.keys[code] = (float(v), v)
        if not self.banded:
            self.order = SortedList(k + (c,) for c, k in self.keys.items())

    def update(self, code: str, value: Fraction) -> Iterable[str]:
        """Set one trust's value; return the trusts whose score may have changed."""
        self.version += 1
        v = oriented(self.metric, value)
        key = (float(v), v)
        old = self.keys.get(code)
        self.keys[code] = key
        if self.banded:
            return (code,)
        order = self.order
        bounds = (order[0][:2], order[-1][:2]) if order else None
        if old is not None:
            order.remove(old + (code,))
        order.add(key + (code,))
        if old is None:
            return self.keys  # the group grew: every position, and maybe min_peers, moved
        if self.mapping == MIN_MAX:
            return (code,) if bounds == (order[0][:2], order[-1][:2]) else self.keys
        # Only values between the old and new place change position (ties included).
        low, high = (old, key) if old < key else (key, old)
        return [entry[2] for entry in order.irange(low, high + (HIGH,))]

    def remove(self, code: str) -> Iterable[str]:
        """Drop one trust's value (a retraction); return the trusts whose score may have changed."""
        old = self.keys.pop(code, None)
        if old is None:
            return ()
        self.version += 1
        if not self.banded:
            self.order.remove(old + (code,))
        return (code, *self.keys)  # the group shrank: every position, and maybe min_peers, moved

    def score(self, code: str) -> Score | None:
        """The trust's current score, or None when too few peers report (§2)."""
        key = self.keys[code]
        if self.banded:
            return banded_score(self.metric, -key[1] if self.metric.direction == "higher"
                                else key[1]), 1
        order = self.order
        n = len(order)
        if n < self.min_peers:
            return None
        if self.mapping == MIN_MAX:
            s = min_max_score(key[1], order[0][1], order[-1][1])
            return s.numerator, s.denominator
        less = order.bisect_left(key)
        return position_score(self.mapping, less, order.bisect_left(key + (HIGH,)) - less, n)

    def position(self, code: str) -> tuple[Fraction, int]:
        """Mean 1-based position best->worst and group size, for explanations."""
        key = self.keys[code]
        less = self.order.bisect_left(key)
        ties = self.order.bisect_left(key + (HIGH,)) - less
        return less + Fraction(ties + 1, 2), len(self.keys)
