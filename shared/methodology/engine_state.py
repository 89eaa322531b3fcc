"""Working state of the incremental engine: one trust's standing and one input's effects."""

from __future__ import annotations

from .inputs import TrustInfo
from .results import Cause, Change
from .segments import segment_state
from .tally import ScoreTally
from .versions import Methodology


class TrustState:
    """One trust's scores, running tally, segment and ranks as the engine holds them."""

    __slots__ = ("info", "league", "scores", "tally", "avg_h", "state", "rank", "urank",
                 "placed")

    def __init__(self, info: TrustInfo, m: Methodology) -> None:
        self.info, self.league = info, info.league
        self.scores: dict[str, tuple[int, int]] = {}
        self.tally = ScoreTally()
        self.avg_h: int | None = None
        self.state = segment_state(m, None, None, False, False)
        self.rank = self.urank = None
        self.placed: tuple[int, int] | None = None  # its key in the league's rank ladder

    @property
    def key(self) -> tuple[int, int] | None:
        return None if self.avg_h is None else (self.state.segment, self.avg_h)


class Pass:
    """What one input touched, gathered while its effects cascade."""

    __slots__ = ("cause", "changes", "averaged", "resegment", "leagues")

    def __init__(self, cause: Cause) -> None:
        self.cause = cause
        self.changes: list[Change] = []
        self.averaged: set[str] = set()
        self.resegment: set[str] = set()
        self.leagues: set[str] = set()

    def record(self, t: TrustState, kind: str, old, new, metric_id: str | None = None) -> None:
        self.changes.append(Change(t.league, t.info.code, kind, metric_id, old, new, self.cause))
        self.leagues.add(t.league)
