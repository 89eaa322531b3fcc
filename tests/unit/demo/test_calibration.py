"""Calibration against NHS England's published Q3 2025/26 distribution (docs/DEMO.md)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from nof.csv_formats import read_league_table
from nof.demo.calibration import (
    OVERALL, TOLERANCE, Distribution, calibrate, published_subset, published_targets,
)
from shared.methodology import score_batch

from .conftest import timeline_for

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "nof-league-table-q3-2025-26-subset.csv"


def _calibration(seed, methodology, register):
    timeline = timeline_for(seed)
    return calibrate(methodology, timeline, score_batch(methodology, register, timeline.inputs()),
                     published_subset())


def test_packaged_subset_is_the_fixture():
    assert read_league_table(str(FIXTURE)) == published_subset()


def test_mental_health_target_comes_from_the_published_rows(methodology):
    target = published_targets(methodology, published_subset())["mental-health-community"]
    assert target.n == 19
    assert target.values["mean"].quantize(Decimal("0.01")) == Decimal("2.14")
    assert target.values["segment 1"] == Decimal(10) / 19


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_overall_mean_and_spread_within_tolerance(seed, methodology, register):
    result = _calibration(seed, methodology, register)
    assert result.within_tolerance()
    mean = result.row(OVERALL, "mean")
    # Rank-linear scoring pins each continuous metric's mean score at 2.50, so the
    # generated mean sits above 2.37, not around it (docs/DEMO.md).
    assert Decimal("0.05") <= mean.difference <= TOLERANCE["mean"]
    assert abs(result.row(OVERALL, "iqr").difference) <= TOLERANCE["iqr"]
    for segment in (1, 2, 3, 4):
        assert abs(result.row(OVERALL, f"segment {segment}").difference) <= Decimal("0.15")


def test_report_shows_target_generated_and_difference(methodology, register):
    text = _calibration(1, methodology, register).to_text()
    assert "all trusts (n=159) against NHS England's national average 2.37" in text
    assert "mental-health-community (n=20) against NHS England's published" in text
    assert "acute (n=129), no published target offline" in text
    assert "all trusts: within tolerance" in text


def test_distribution_summary():
    d = Distribution.of([Decimal(x) for x in ("2.00", "2.20", "2.40", "2.80")],
                        (Decimal("2.10"), Decimal("2.35"), Decimal("2.70")))
    assert d.n == 4 and d.values["mean"] == Decimal("2.35")
    assert d.values["median"] == Decimal("2.30")
    assert [d.values[f"segment {s}"] for s in (1, 2, 3, 4)] == [Decimal("0.25")] * 4
