"""How each metric's values look in the demo: centre, spread, bounds and cadence per league.

Plain data, read by the generator. Centres and spreads are plausible 2025/26 levels for
England (our assumption, not NHS England data): they shape realistic-looking values, while
the scores depend only on how trusts are ordered (rank-linear, METHODOLOGY §2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MONTHLY, QUARTERLY = "monthly", "quarterly"


@dataclass(frozen=True)
class Profile:
    """Values of one metric: ``centre`` and ``spread`` (one standard deviation across trusts)
    per league slug, clipped to ``bounds``, shown with ``decimals`` places.

    ``release_day`` is the day of the following month on which NHS England would publish
    the period; ``count`` metrics are drawn as Poisson counts around ``centre``.
    """

    centre: dict[str, float]
    spread: dict[str, float]
    bounds: tuple[float | None, float | None]
    decimals: int = 1
    cadence: str = MONTHLY
    release_day: int = 10
    count: bool = False
    not_reported_by_subtype: frozenset[str] = field(default_factory=frozenset)


def _all(value: float) -> dict[str, float]:
    return {"acute": value, "mental-health-community": value, "ambulance": value}


ACUTE_SPECIALIST = "Acute - Specialist"
COMMUNITY = "Community"

PROFILES: dict[str, Profile] = {
    # Access: elective, cancer and urgent care (acute)
    "OF0023": Profile({"acute": 60.0}, {"acute": 7.0}, (25.0, 97.0), release_day=12),
    "OF0106": Profile({"acute": 1.0}, {"acute": 2.0}, (-10.0, 10.0), release_day=12),
    "OF0010": Profile({"acute": 77.0}, {"acute": 5.0}, (45.0, 99.5), release_day=9),
    "OF0011": Profile({"acute": 70.0}, {"acute": 8.0}, (30.0, 99.5), release_day=9),
    # Specialist trusts (children's, orthopaedic, heart and lung, ...) mostly have no A&E.
    "OF0013": Profile({"acute": 75.0}, {"acute": 6.0}, (45.0, 99.0), release_day=8,
                      not_reported_by_subtype=frozenset({ACUTE_SPECIALIST})),
    "OF0014": Profile({"acute": 9.0}, {"acute": 3.5}, (0.2, 35.0), release_day=8,
                      not_reported_by_subtype=frozenset({ACUTE_SPECIALIST})),
    # Effectiveness: community trusts run no mental health wards.
    "OF0063": Profile({"mental-health-community": 22.0}, {"mental-health-community": 6.0},
                      (2.0, 70.0), release_day=14,
                      not_reported_by_subtype=frozenset({COMMUNITY})),
    # Safety: MRSA is a small monthly count (many zeros, so many ties); rates per 100,000 bed days.
    "OF0020": Profile({"acute": 0.45}, {"acute": 0.3}, (0.0, None), decimals=0, count=True,
                      release_day=15),
    "OF0088": Profile({"acute": 18.0}, {"acute": 6.0}, (0.0, 80.0), release_day=15),
    "OF0048": Profile({"acute": 22.0}, {"acute": 7.0}, (0.0, 90.0), release_day=15),
    # Staff survey scores (0-10 scale) arrive quarterly (the NHS quarterly pulse survey).
    "OF0061": Profile({"acute": 6.5, "mental-health-community": 6.6, "ambulance": 5.8},
                      _all(0.25), (0.0, 10.0), decimals=2, cadence=QUARTERLY, release_day=20),
    "OF0082": Profile({"acute": 4.9, "mental-health-community": 5.5, "ambulance": 7.0},
                      {"acute": 0.6, "mental-health-community": 0.7, "ambulance": 0.8},
                      (1.0, 15.0), decimals=2, release_day=25),
    "OF0084": Profile({"acute": 6.8, "mental-health-community": 7.0, "ambulance": 6.2},
                      _all(0.25), (0.0, 10.0), decimals=2, cadence=QUARTERLY, release_day=20),
    # Finance and productivity (signed percentages of income).
    "OF0079": Profile(_all(0.8), _all(1.5), (-15.0, 15.0), decimals=2, release_day=18),
    "OF0081": Profile(_all(-0.2), _all(1.0), (-15.0, 15.0), decimals=2, release_day=18),
    "OF0085": Profile(_all(1.5), _all(1.5), (-15.0, 15.0), decimals=2, release_day=18),
    # Ambulance mean response times, minutes.
    "PRV-AMB-C1": Profile({"ambulance": 8.2}, {"ambulance": 0.6}, (5.0, 20.0), decimals=2,
                          release_day=11),
    "PRV-AMB-C2": Profile({"ambulance": 32.0}, {"ambulance": 6.0}, (12.0, 120.0), decimals=1,
                          release_day=11),
}

#: NHS England's ``Units`` column for each catalogue unit (long metric-data layout).
UNIT_LABELS = {
    "percent": "%", "signed_percent": "%", "pp": "Percentage points", "count": "Count",
    "rate": "Rate per 100,000 bed days", "days": "Days", "minutes": "Minutes",
    "score": "Score",
}
