"""A league's sorted standings for incremental ranks and quartile cut-offs (METHODOLOGY §4, §6)."""

from __future__ import annotations

from typing import Iterator

from sortedcontainers import SortedList

from .groups import HIGH
from .segments import Cuts, league_cuts
from .versions import Methodology

Key = tuple  # (segment, 2-dp average in hundredths) or (average,)


class _Averages:
    """The sorted averages as a plain sequence of ints, for quartile_cuts."""

    def __init__(self, entries: SortedList) -> None:
        self._entries = entries

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, i: int) -> int:
        return self._entries[i][0]


class Ladder:
    """Entries ``key + (code,)`` sorted; rank = 1 + entries with a strictly smaller key."""

    __slots__ = ("entries", "_spans")

    def __init__(self) -> None:
        self.entries = SortedList()
        self._spans: list[tuple[Key, Key | None]] = []

    def move(self, code: str, old: Key | None, new: Key | None) -> None:
        """Re-place one trust and remember whose rank the move can shift (§6).

        A trust's count of strictly better entries changes only if its key lies in
        (min, max] of the moving key's old and new values, or anywhere above the key of
        a trust entering or leaving the ladder.
        """
        if old is not None:
            self.entries.remove(old + (code,))
        if new is not None:
            self.entries.add(new + (code,))
        if old is None or new is None:
            self._spans.append((old if new is None else new, None))
        else:
            self._spans.append((old, new) if old < new else (new, old))

    def rank(self, key: Key) -> int:
        return 1 + self.entries.bisect_left(key)

    def forget(self) -> None:
        self._spans = []

    def affected(self) -> Iterator[str]:
        """Codes whose rank the moves since ``forget`` may have changed."""
        for low, high in self._spans:
            top = None if high is None else high + (HIGH,)
            for entry in self.entries.irange(low + (HIGH,), top, inclusive=(False, True)):
                yield entry[-1]


class Standings:
    """One league: the (segment, average) ladder, the average ladder and cut-offs."""

    __slots__ = ("methodology", "members", "ranks", "averages", "cuts")

    def __init__(self, m: Methodology) -> None:
        self.methodology = m
        self.members: set[str] = set()
        self.ranks = Ladder()
        self.averages = Ladder()
        self.cuts: Cuts | None = league_cuts(m, [])

    def refresh_cuts(self) -> bool:
        """Recompute the cut-offs from the league's averages; True when they moved (§4)."""
        cuts = league_cuts(self.methodology, _Averages(self.averages.entries))
        moved, self.cuts = cuts != self.cuts, cuts
        return moved
