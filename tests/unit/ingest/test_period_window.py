"""Periods in the future (beyond the horizon) and before the methodology's first period are refused."""

from __future__ import annotations

from datetime import date

import pytest

from services.ingest.period_window import PeriodWindow
from shared.methodology import InvalidInput, parse_period

WINDOW = PeriodWindow("2024-04", 1, "nof-2025-26", clock=lambda: date(2026, 1, 15))


@pytest.mark.parametrize("period", ["2024-04", "2025-12", "2026-01", "2026-02", "2025-26 Q3", "Q1 2024/25"])
def test_periods_inside_the_window_pass(period):
    WINDOW.check(parse_period(period))


@pytest.mark.parametrize(("period", "why"), [
    ("2026-03", "ends after 2026-02"),  # two months ahead, the horizon is one
    ("2025-26 Q4", "ends after 2026-02"),  # ends in March 2026
    ("2099-12", "ends after 2026-02"),
    ("2024-03", "before 2024-04, the first period of methodology nof-2025-26"),
    ("2023-24 Q4", "before 2024-04"),
])
def test_periods_outside_the_window_are_refused_naming_the_field(period, why):
    with pytest.raises(InvalidInput) as refused:
        WINDOW.check(parse_period(period))
    assert refused.value.field == "period" and why in refused.value.reason


def test_the_horizon_is_a_setting():
    wider = PeriodWindow("2024-04", 3, clock=lambda: date(2026, 1, 15))
    wider.check(parse_period("2026-04"))
    with pytest.raises(InvalidInput):
        wider.check(parse_period("2026-05"))


async def test_a_future_period_is_a_422_and_nothing_is_published(client, sink):
    batch = {"observations": [{"trust_code": "R0A", "metric_id": "OF0013", "period": "2025-12", "value": 71.5},
                              {"trust_code": "R0A", "metric_id": "OF0013", "period": "2099-12", "value": 71.5}]}
    response = await client.post("/v1/observations", json=batch)
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert (error["index"], error["field"]) == (1, "period") and "2099-12" in error["reason"]
    assert sink.records == []


async def test_a_period_before_the_methodology_is_a_422(client, sink):
    response = await client.post("/v1/observations", json={"observations": [
        {"trust_code": "R0A", "metric_id": "OF0013", "period": "2019-12", "value": 71.5}]})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "period"
    assert sink.records == []
