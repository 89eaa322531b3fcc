"""Folds a batch of the scorer's change events into the event log: dedupe, drop stale versions, derive alerts.

The Kafka consumer calls ``append_changes`` for each batch it polls and commits offsets only afterwards;
``tick`` releases time-held alerts. Both work against any EventLog (Redis or the in-memory twin).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from shared.events import ChangeEvent, SegmentAlert

from services.publisher import alerts, cloudevents
from services.publisher.event_log import Appended, EventLog, LogEntry, hold_key

log = logging.getLogger(__name__)


@dataclass
class AppendResult:
    appended: int = 0
    duplicates: int = 0
    stale: int = 0
    alerts: list[SegmentAlert] = field(default_factory=list)
    stream_ids: list[str] = field(default_factory=list)
    by_correlation: Counter[str] = field(default_factory=Counter)  # appended change events per correlation id


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def change_entry(e: ChangeEvent, region: str, source: str) -> LogEntry:
    body = cloudevents.from_change(e, source).to_bytes()
    return LogEntry(cloudevents.facts_of_change(e, region), e.event_id, body, _ms(e.occurred_at),
                    e.cause.correlation_id or "")


def alert_entry(a: SegmentAlert, region: str, source: str) -> LogEntry:
    body = cloudevents.from_alert(a, source).to_bytes()
    return LogEntry(cloudevents.facts_of_alert(a, region), a.alert_id, body, _ms(a.occurred_at),
                    a.cause.correlation_id or "")


async def append_changes(event_log: EventLog, events: Sequence[ChangeEvent], hold: alerts.HoldDown,
                         regions: Mapping[str, str], source: str = cloudevents.SOURCE,
                         expect: str | None = None, offsets: Mapping[str, int] | None = None) -> AppendResult:
    """``expect``: the state marker the commit requires (event_log.StateLost when Redis no longer holds it);
    ``offsets``: the consumed ``topic:partition`` → next offset, recorded in the same commit."""
    result = AppendResult()
    if not events:
        if offsets:
            await event_log.commit([], [], {}, expect, offsets)
        return result
    known = await event_log.known([e.event_id for e in events])
    high = await event_log.high_versions()
    raw = await event_log.holds(sorted({hold_key(e.league, e.trust_code) for e in events}))
    states = {k: alerts.Hold.model_validate_json(v) for k, v in raw.items()}
    changed: dict[str, str] = {}
    appended: list[Appended] = []
    entries: list[LogEntry] = []
    for e in events:
        if e.event_id in known:
            result.duplicates += 1
            continue
        if e.league_version < high.get(e.league, -1):
            result.stale += 1  # a re-send of an older league version after a scorer restart
            continue
        known.add(e.event_id)
        high[e.league] = e.league_version
        appended.append(Appended(e.event_id, e.league, e.league_version))
        result.by_correlation[e.cause.correlation_id or ""] += 1
        region = regions.get(e.trust_code, "")
        entries.append(change_entry(e, region, source))
        key = hold_key(e.league, e.trust_code)
        state, fired = alerts.on_change(states.get(key), e, hold)
        if state is not None and state != states.get(key):
            states[key] = state
            changed[key] = state.model_dump_json()
        for a in fired:
            entries.append(alert_entry(a, region, source))
            result.alerts.append(a)
    if appended or changed or offsets:
        result.stream_ids = await event_log.commit(appended, entries, changed, expect, offsets)
    result.appended = len(appended)
    return result


async def tick(event_log: EventLog, hold: alerts.HoldDown, regions: Mapping[str, str], now: datetime,
               source: str = cloudevents.SOURCE, expect: str | None = None) -> list[SegmentAlert]:
    """Release alerts whose candidates have now held for ``hold.seconds`` (only needed when seconds > 0)."""
    raw = await event_log.holds(await event_log.hold_keys())
    fired_all: list[SegmentAlert] = []
    entries: list[LogEntry] = []
    changed: dict[str, str] = {}
    for key, value in raw.items():
        state = alerts.Hold.model_validate_json(value)
        if state.candidate is None:
            continue
        new_state, fired = alerts.on_tick(state, hold, now)
        for a in fired:
            entries.append(alert_entry(a, regions.get(a.trust_code, ""), source))
            fired_all.append(a)
            changed[key] = new_state.model_dump_json()
    if entries:
        await event_log.commit([], entries, changed, expect)
    return fired_all
