"""Each metric's spread across a league's trusts (lowest, quartiles, median, highest): the trust page's spine chart."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from statistics import quantiles
from typing import Any

from shared.methodology import Methodology, TrustInfo


def _number(value: Any) -> float | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return float(number) if number.is_finite() else None


def five_numbers(values: list[float]) -> dict[str, float]:
    """Lowest, lower quartile, median, upper quartile, highest (quartiles by the inclusive method)."""
    ordered = sorted(values)
    q1, q2, q3 = quantiles(ordered, n=4, method="inclusive") if len(ordered) > 1 else ordered * 3
    return {"min": ordered[0], "q1": q1, "median": q2, "q3": q3, "max": ordered[-1]}


def metric_spread(m: Methodology, snapshot: Mapping[str, Any], explanations: Mapping[str, Mapping[str, Any]],
                  register: Mapping[str, TrustInfo]) -> dict[str, Any]:
    """The spread of every metric the league's trusts report (values as the read model holds them, 2 dp)."""
    league = snapshot["league"]
    members = {e.get("trust_code") for e in snapshot.get("entries") or ()}
    values: dict[str, list[float]] = {}
    about: dict[str, dict[str, Any]] = {}
    for code, x in explanations.items():
        if code not in members:
            continue
        for line in x.get("metrics") or ():
            value, metric_id = _number(line.get("value")), line.get("metric_id")
            if value is None or not metric_id or str(line.get("status", "")).startswith("not applicable"):
                continue
            values.setdefault(metric_id, []).append(value)
            about.setdefault(metric_id, {k: line.get(k) for k in ("name", "domain", "unit", "direction", "role")})
    return {
        "league": league, "version": snapshot.get("version"), "methodology_version": m.version,
        "metrics": [{"metric_id": metric_id, **about[metric_id], "trusts": len(v), **five_numbers(v)}
                    for metric_id, v in sorted(values.items())],
    }
