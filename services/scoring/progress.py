"""Whether each input partition is moving: its next offset to apply, its end offset, and when the
former last moved. A partition is stalled while records wait on it and its position has not moved for
``stall_after_s`` seconds; the scorer's /healthz answers 503 then, and a metric and an alert say which."""

from __future__ import annotations

from services.scoring import metrics

TP = tuple[str, int]


class Progress:
    def __init__(self, stall_after_s: float) -> None:
        self.stall_after_s = stall_after_s
        self.position: dict[TP, int] = {}
        self.end_offset: dict[TP, int] = {}
        self.moved_at: dict[TP, float] = {}

    def track(self, positions: dict[TP, int], now: float) -> None:
        """Note the worker's positions; a partition whose position changed has made progress."""
        for tp, offset in positions.items():
            if self.position.get(tp) != offset:
                self.position[tp] = offset
                self.moved_at[tp] = now

    def ends(self, end_offsets: dict[TP, int], now: float) -> None:
        for tp, end in end_offsets.items():
            self.end_offset[tp] = end
            self.moved_at.setdefault(tp, now)

    def forget(self, keep: set[TP]) -> None:
        """Drop partitions this worker no longer owns (after a rebalance)."""
        for table in (self.position, self.end_offset, self.moved_at):
            for tp in [tp for tp in table if tp not in keep]:
                del table[tp]

    def lag(self, tp: TP) -> int:
        end = self.end_offset.get(tp)
        if end is None:
            return 0
        return max(0, end - self.position.get(tp, end))

    def stalled(self, now: float) -> list[TP]:
        out = []
        for tp in sorted(self.end_offset):
            waiting = self.lag(tp) > 0
            if not waiting:
                self.moved_at[tp] = now  # caught up: a wait starts counting when records next arrive
            stuck = waiting and now - self.moved_at.get(tp, now) >= self.stall_after_s
            metrics.APPLIED_LAG.labels(tp[0], str(tp[1])).set(self.lag(tp))
            metrics.STALLED.labels(tp[0], str(tp[1])).set(1 if stuck else 0)
            if stuck:
                out.append(tp)
        return out

    def restart_clock(self, now: float) -> None:
        """A rebalance or recovery just ran: nothing counts as stuck from before it."""
        for tp in self.moved_at:
            self.moved_at[tp] = now
