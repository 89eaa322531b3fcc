"""Outward events as CloudEvents 1.0 structured JSON, and the facts filters match on (pure).

Type mapping: a ChangeEvent or SegmentAlert of type ``X`` becomes CloudEvent type ``uk.nhs.nof.X``
(``uk.nhs.nof.assessment.changed``, ``…segment.changed``, ``…rank.changed``, ``…segment.worsened``,
``…segment.improved``). ``id`` is the stable event_id / alert_id, ``subject`` the trust code, ``time`` when the
change occurred, and the extension attributes ``league`` and ``leagueversion`` give the delivery order.
"""

from __future__ import annotations

from shared.events import ChangeEvent, CloudEvent, SegmentAlert

from services.publisher.filters import EventFacts, rank_movement

SOURCE = "urn:nof-live:publisher"
TYPE_PREFIX = "uk.nhs.nof."


def ce_type(event_type: str) -> str:
    return TYPE_PREFIX + event_type


def short_type(cloudevent_type: str) -> str:
    return cloudevent_type.removeprefix(TYPE_PREFIX)


def from_change(e: ChangeEvent, source: str = SOURCE) -> CloudEvent:
    return CloudEvent(
        id=e.event_id, source=source, type=ce_type(e.type), subject=e.trust_code, time=e.occurred_at,
        league=e.league, leagueversion=e.league_version, data=e.model_dump(mode="json"),
    )


def from_alert(a: SegmentAlert, source: str = SOURCE) -> CloudEvent:
    return CloudEvent(
        id=a.alert_id, source=source, type=ce_type(a.type), subject=a.trust_code, time=a.occurred_at,
        league=a.league, leagueversion=a.league_version, data=a.model_dump(mode="json"),
    )


def facts_of_change(e: ChangeEvent, region: str = "") -> EventFacts:
    move = rank_movement(e.old, e.new) if e.type == "rank.changed" else None
    return EventFacts(type=e.type, league=e.league, trust_code=e.trust_code, region=region, rank_movement=move)


def facts_of_alert(a: SegmentAlert, region: str = "") -> EventFacts:
    return EventFacts(type=a.type, league=a.league, trust_code=a.trust_code, region=region)
