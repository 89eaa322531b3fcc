"""Trust types and the league each belongs to (METHODOLOGY §1)."""

from __future__ import annotations

from .errors import InvalidInput

ACUTE = "Acute trust"
MENTAL_HEALTH_COMMUNITY = "Mental health and community trust"
AMBULANCE = "Ambulance trust"
ICB = "Integrated care board"

#: League slug -> the trust type NHS England names it by.
LEAGUES: dict[str, str] = {
    "acute": ACUTE,
    "mental-health-community": MENTAL_HEALTH_COMMUNITY,
    "ambulance": AMBULANCE,
    "icb": ICB,
}

# The first release called mental health and community trusts "non-acute hospital trusts".
_ALIASES = {
    "non-acute hospital trust": "mental-health-community",
    "icb": "icb",
    "integrated care board (icb)": "icb",
}
_BY_TYPE = {label.lower(): slug for slug, label in LEAGUES.items()} | _ALIASES


def league_of(trust_type: str) -> str:
    """Return the league slug for a trust type label (case-insensitive); §1."""
    slug = _BY_TYPE.get(str(trust_type).strip().lower())
    if slug is None:
        raise InvalidInput("trust_type", f"unknown trust type {trust_type!r}")
    return slug


def trust_type_of(league: str) -> str:
    """Return NHS England's trust type label for a league slug."""
    try:
        return LEAGUES[league]
    except KeyError:
        raise InvalidInput("league", f"unknown league {league!r}") from None
