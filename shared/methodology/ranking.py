"""League ranks with shared ranks on ties (METHODOLOGY §6)."""

from __future__ import annotations

from bisect import bisect_left
from typing import Hashable, Mapping, TypeVar

K = TypeVar("K", bound=Hashable)


def competition_ranks(keys: Mapping[str, K]) -> dict[str, int]:
    """``rank = 1 + count of entries strictly better`` (smaller key): ranks 1, 2, 2, 4 (§6).

    Used with key (segment, 2-dp average) for the league rank and the 2-dp average alone
    for the unadjusted rank.
    """
    ordered = sorted(keys.values())
    return {code: 1 + bisect_left(ordered, key) for code, key in keys.items()}


def entry_order(rank: int | None, code: str) -> tuple[int, int, str]:
    """Listing order of a league: by rank, then code; unranked trusts last (§3, §6)."""
    return (1, 0, code) if rank is None else (0, rank, code)
