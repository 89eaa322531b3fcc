"""Segment alerts: from the scorer's change events to ``segment.worsened``/``segment.improved``, with a hold-down (pure).

One ``Hold`` per (league, trust) remembers the last confirmed segment and a candidate move. A candidate
becomes an alert once it has held for ``updates`` updates AND ``seconds`` seconds (the defaults, 1 and 0,
alert at once). An update is the ``segment.changed`` that started the candidate, then every later league
version in which the trust had an ``assessment.changed`` or ``rank.changed`` without moving segment again.
Moving back to the confirmed segment before then cancels the candidate, so a trust hovering on a threshold
does not flap. Moves to or from "no segment" (unassessed) only reset the baseline; they never alert.
Time is the events' ``occurred_at`` (so a replay decides the same way) and, for ``tick``, the caller's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict

from shared.events import ChangeEvent, SegmentAlert, stable_event_id


@dataclass(frozen=True)
class HoldDown:
    updates: int = 1
    seconds: float = 0.0


class Hold(BaseModel):
    """Per-trust hold-down state; stored as JSON beside the event log so a restart decides the same way."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    confirmed: int | None
    baseline: dict[str, Any] | None = None  # the segment.changed ``old`` values when it left ``confirmed``
    candidate: int | None = None
    start: ChangeEvent | None = None  # the segment.changed that started the candidate
    latest: dict[str, Any] | None = None  # the newest average/range seen while the candidate held
    since: datetime | None = None
    updates: int = 0
    last_version: int = -1


def _dec(value: Any) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


def uncertainty(old_seg: int, new_seg: int, old: dict, new: dict) -> tuple[bool | None, str, str]:
    """Whether the move is larger than the uncertainty: (beyond, basis, note). See docs/PUBLISHER.md, Alerts."""
    if 5 in (old_seg, new_seg):
        return None, "segment-5", "moved into or out of segment 5 (intensive support), not by the average"
    if old.get("raw_segment") == new.get("raw_segment") and old.get("capped") != new.get("capped"):
        verb = "applied" if new.get("capped") else "lifted"
        return None, "cap", f"financial cap {verb}; the average did not cross a threshold"
    worse = new_seg > old_seg
    rng = new.get("average_range") or []
    lo, hi = (_dec(rng[0]), _dec(rng[1])) if len(rng) == 2 else (None, None)
    threshold = _dec(new.get("threshold"))
    if threshold is not None and lo is not None and hi is not None:
        return (lo > threshold if worse else hi <= threshold), "threshold", "likely range compared with the crossed threshold"
    old_rng = old.get("average_range") or []
    if lo is not None and hi is not None and len(old_rng) == 2:
        o_lo, o_hi = _dec(old_rng[0]), _dec(old_rng[1])
        if o_lo is not None and o_hi is not None:
            beyond = lo > o_hi if worse else hi < o_lo
            return beyond, "ranges", "new likely range compared with the old likely range (threshold not supplied)"
    return None, "unknown", "no likely range in the change event"


def _alert(h: Hold, now: datetime) -> SegmentAlert:
    start = h.start
    assert start is not None and h.candidate is not None and h.confirmed is not None
    old, new = dict(h.baseline or start.old), {**start.new, **(h.latest or {})}
    beyond, basis, note = uncertainty(h.confirmed, h.candidate, old, start.new)
    return SegmentAlert(
        alert_id=stable_event_id("segment-alert", start.league, start.trust_code, start.event_id),
        type="segment.worsened" if h.candidate > h.confirmed else "segment.improved",
        league=start.league, league_version=h.last_version, methodology_version=start.methodology_version,
        trust_code=start.trust_code, old_segment=h.confirmed, new_segment=h.candidate,
        old_raw_segment=old.get("raw_segment"), new_raw_segment=new.get("raw_segment"), capped=bool(new.get("capped")),
        old_average=old.get("average"), new_average=new.get("average"),
        old_average_range=old.get("average_range"), new_average_range=new.get("average_range"),
        beyond_uncertainty=beyond, basis=basis, note=note, held_updates=h.updates,
        held_seconds=max(0.0, (now - h.since).total_seconds()) if h.since else 0.0,
        cause=start.cause, change_event_id=start.event_id, occurred_at=now,
    )


def _settle(h: Hold, hold: HoldDown, now: datetime) -> tuple[Hold, list[SegmentAlert]]:
    if h.candidate is None or h.since is None or h.updates < hold.updates:
        return h, []
    if (now - h.since).total_seconds() < hold.seconds:
        return h, []
    alert = _alert(h, now)
    return Hold(confirmed=h.candidate, last_version=h.last_version), [alert]


def on_change(h: Hold | None, e: ChangeEvent, hold: HoldDown) -> tuple[Hold | None, list[SegmentAlert]]:
    """Fold one change event for a trust into its hold-down state; return the new state and any alert."""
    now = e.occurred_at
    if e.type == "segment.changed":
        old_seg, new_seg = e.old.get("segment"), e.new.get("segment")
        if h is None:
            h = Hold(confirmed=old_seg)  # type: ignore[arg-type]
        if new_seg == h.confirmed or new_seg is None or h.confirmed is None:
            return Hold(confirmed=new_seg, last_version=e.league_version), []  # type: ignore[arg-type]
        baseline = h.baseline if h.candidate is not None else dict(e.old)
        h = Hold(confirmed=h.confirmed, baseline=baseline, candidate=new_seg, start=e,  # type: ignore[arg-type]
                 since=now, updates=1, last_version=e.league_version)
        return _settle(h, hold, now)
    if h is None or h.candidate is None or e.league_version <= h.last_version:
        return h, []
    latest = dict(h.latest or {})
    if e.type == "assessment.changed":
        latest.update({k: e.new.get(k) for k in ("average", "average_range") if k in e.new})
    h = h.model_copy(update={"updates": h.updates + 1, "last_version": e.league_version, "latest": latest})
    return _settle(h, hold, now)


def on_tick(h: Hold, hold: HoldDown, now: datetime) -> tuple[Hold, list[SegmentAlert]]:
    """Time passed: a candidate held for long enough (and enough updates) becomes an alert."""
    return _settle(h, hold, now)
