"""Input events for the scorer's unit tests, built from the real register as ingest builds them."""

from __future__ import annotations

from typing import Any

from shared.events import ObservationReceived, TrustRef
from tests.support.streams import M, REGISTER


def ref(code: str) -> TrustRef:
    """The trust as every input names it."""
    t = REGISTER[code]
    return TrustRef(code=code, name=t.name, trust_type=t.trust_type, subtype=t.subtype, region=t.region)


def members(league: str) -> list[str]:
    """The league's trust codes, sorted."""
    return sorted(c for c, t in REGISTER.items() if t.league == league)


def scored_metric(code: str) -> str:
    """The first metric the methodology scores the trust on."""
    league = REGISTER[code].league
    return next(mid for mid, d in M.metrics.items() if d.scoring and d.applies(league, code))


def observation(code: str, metric_id: str, value: float, oid: str, period: str = "2025-12",
                **fields: Any) -> ObservationReceived:
    return ObservationReceived(observation_id=oid, trust=ref(code), metric_id=metric_id, period=period, value=value,
                               **fields)
