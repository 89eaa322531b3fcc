"""Shared fixtures: the worked example's league and methodology (METHODOLOGY §8)."""

from __future__ import annotations

import pytest

from shared.methodology import (
    FinanceStatus, MetricDefinition, Observation, TrustInfo, get_methodology,
)
from shared.methodology.catalogue import BANDED, HIGHER, LOWER, bands

ACUTE = frozenset({"acute"})


def worked_methodology(**changes):
    """Thresholds 2.10/2.35/2.70 (the defaults) with the example's three metrics."""
    metrics = (
        MetricDefinition("M1", "metric one", "access", ACUTE, HIGHER, "percent"),
        MetricDefinition("M2", "metric two", "safety", ACUTE, LOWER, "count"),
        MetricDefinition("M3", "metric three", "access", ACUTE, HIGHER, "pp", kind=BANDED,
                         bands=bands((0, 1), (-1, 2), (-3, 3))),
    )
    return get_methodology("nof-2025-26").replace(version="worked-example", metrics=metrics,
                                                  **changes)


def worked_trusts():
    return {c: TrustInfo(c, f"Trust {c}", "Acute trust") for c in "ABCD"}


def worked_inputs():
    values = {
        "M1": {"A": 70, "B": 60, "C": 60, "D": 50},
        "M2": {"A": 10, "B": 2, "C": 5},
        "M3": {"A": "0.5", "B": "-0.5", "C": "-2", "D": "-5"},
    }
    from decimal import Decimal
    obs = [Observation(t, mid, "2025-26 Q3", Decimal(str(v)), f"{t}-{mid}")
           for mid, per in values.items() for t, v in per.items()]
    return obs + [FinanceStatus("B", True, change_id="fin-B")] + [
        FinanceStatus(t, False, change_id=f"fin-{t}") for t in "ACD"]


@pytest.fixture
def worked():
    return worked_methodology(), worked_trusts(), worked_inputs()
