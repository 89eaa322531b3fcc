"""Builders for the publisher's unit tests: change events as the scorer emits them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from shared.events import Cause, ChangeEvent, stable_event_id

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


def change(type_: str, version: int, old: dict, new: dict, *, trust: str = "RXX", league: str = "acute",
           minutes: float = 0, own: bool = True, event_id: str | None = None) -> ChangeEvent:
    return ChangeEvent(
        event_id=event_id or stable_event_id(league, version, trust, type_),
        type=type_, league=league, league_version=version, methodology_version="2025-26.v1", trust_code=trust,
        old=old, new=new, occurred_at=T0 + timedelta(minutes=minutes),
        cause=Cause(kind="observation", input_id=f"obs-{version}", trust_code=trust if own else "RYY",
                    own_data=own, metric_id="M1"),
    )


def seg(segment: int | None, average: str | None = "2.50", rng: tuple[str, str] | None = ("2.40", "2.60"),
        raw: int | None = None, capped: bool = False) -> dict:
    return {"segment": segment, "raw_segment": raw if raw is not None else segment, "capped": capped,
            "average": average, "average_range": list(rng) if rng else None}


def seg_change(version: int, old: dict, new: dict, **kw) -> ChangeEvent:
    return change("segment.changed", version, old, new, **kw)


def assessment(version: int, average: str = "2.80", **kw) -> ChangeEvent:
    return change("assessment.changed", version, {"average": "2.70"}, {"average": average, "average_range": ["2.7", "2.9"]}, **kw)
