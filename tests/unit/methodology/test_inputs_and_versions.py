"""Validation, periods, versions and the catalogue (METHODOLOGY §2, §7)."""

from __future__ import annotations

import math
import pickle
from decimal import Decimal

import pytest

from shared.methodology import (
    DEFAULT_VERSION, FinanceStatus, IncrementalEngine, IntensiveSupport, InvalidInput,
    MethodologyError, Observation, TrustInfo, UnknownMethodology, UnknownMetric, UnknownTrust,
    get_methodology, parse_period,
)
from shared.methodology.catalogue import BANDED, BY_GRANULARITY, LOWER, MetricDefinition

M = get_methodology()


def obs(metric="OF0082", value=Decimal("5"), period="2025-12", **kw):
    return Observation(kw.get("trust", "RYY"), metric, period, value, kw.get("id", "o1"))


@pytest.mark.parametrize("item, field", [
    (obs(value=Decimal("100.5")), "value"),
    (obs(value=-1), "value"),
    (obs(metric="OF0020", value=-1), "value"),
    (obs(value=math.nan), "value"),
    (obs(value=math.inf), "value"),
    (obs(value=Decimal("NaN")), "value"),
    (obs(value=Decimal("-Infinity")), "value"),
    (obs(value=True), "value"),
    (obs(value="5"), "value"),
    (obs(period="2025-13"), "period"),
    (obs(period="2025-27 Q1"), "period"),
    (obs(period="Dec 2025"), "period"),
    (obs(id=""), "observation_id"),
    (obs(trust=""), "trust_code"),
    (FinanceStatus("RYY", "yes", change_id="f"), "in_deficit"),
    (FinanceStatus("RYY", True, change_id=""), "change_id"),
    (IntensiveSupport("RYY", 1, "i"), "intensive_support"),
    ("not an input", "input"),
])
def test_invalid_inputs_name_field_and_reason(item, field):
    with pytest.raises(InvalidInput) as caught:
        M.validate(item)
    assert caught.value.field == field and caught.value.reason
    assert str(caught.value).startswith(f"{field}: ")


def test_domains_by_unit_accept_valid_values():
    for item in (obs(value=0), obs(value=100), obs(value=4.5), obs(metric="OF0079", value=-3),
                 obs(metric="OF0106", value=Decimal("-2.5")), obs(period="Q3 2025/26")):
        M.validate(item)


def test_unknown_metric_trust_and_version():
    with pytest.raises(UnknownMetric) as caught:
        M.validate(obs(metric="OF9999"))
    assert caught.value.field == "metric_id" and isinstance(caught.value, MethodologyError)
    engine = IncrementalEngine(M, {})
    with pytest.raises(UnknownTrust):
        engine.apply(obs(trust="NOPE"))
    with pytest.raises(UnknownMethodology):
        get_methodology("nof-1999-00")
    for error in (InvalidInput("value", "bad"), UnknownMetric("X"), UnknownTrust("Y")):
        assert str(pickle.loads(pickle.dumps(error))) == str(error)


def test_periods_parse_and_order():
    assert parse_period("Q3 2025/26") == parse_period("2025-26 Q3")
    assert str(parse_period("Q3 2025/26")) == "2025-26 Q3"
    order = ["2025-04", "2025-26 Q1", "2025-07", "2025-10", "2025-12", "2025-26 Q3",
             "2026-01", "2025-26 Q4", "2026-27 Q1"]
    parsed = [parse_period(p) for p in order]
    assert parsed == sorted(parsed) and len(set(parsed)) == len(parsed)


def test_versions_as_data():
    assert DEFAULT_VERSION == "nof-2025-26" and M.version == DEFAULT_VERSION
    assert (M.mapping, M.min_peers, M.min_scored_metrics, M.segment_strategy) == (
        "rank-linear", 2, 1, "fixed")
    assert M.thresholds == (Decimal("2.10"), Decimal("2.35"), Decimal("2.70"))
    assert M.financial_cap == 3 and M.segment5
    later = get_methodology("nof-2026-27")
    assert "icb" in later.leagues and "icb" not in M.leagues
    assert later.partition_key("Integrated care board") == "icb"
    with pytest.raises(InvalidInput):
        M.partition_key("Integrated care board")
    with pytest.raises(InvalidInput):
        M.replace(mapping="cubic")


def test_catalogue_holds_section_7():
    expected = {"OF0023": "higher", "OF0106": "higher", "OF0010": "higher", "OF0011": "higher",
                "OF0013": "higher", "OF0014": "lower", "OF0063": "lower", "OF0020": "lower",
                "OF0088": "lower", "OF0048": "lower", "OF0061": "higher", "OF0082": "lower",
                "OF0084": "higher", "OF0079": "higher", "OF0081": "higher", "OF0085": "higher"}
    for metric_id, direction in expected.items():
        metric = M.metric(metric_id)
        assert metric.direction == direction and not metric.provisional
        assert metric.label("id") == "V" and metric.basis and metric.scoring
    assert M.metric("OF0106").kind == BANDED
    assert M.metric("OF0023").excludes >= {"RBV"} and M.metric("OF0023").label("applies_to") == "V"
    for metric_id in ("PRV-AMB-C1", "PRV-AMB-C2"):
        amb = M.metric(metric_id)
        assert amb.provisional and amb.unit == "minutes" and amb.direction == LOWER
        assert amb.applies_to == {"ambulance"} and amb.label("id") == "A"
    assert set(M.metric("OF0082").applies_to) == {"acute", "mental-health-community", "ambulance"}


def test_partition_key_per_league_or_all():
    assert M.partition_key("Ambulance trust") == "ambulance"
    assert M.partition_key("Mental health and community trust") == "mental-health-community"
    cross = MetricDefinition("G1", "cross", "people", frozenset({"acute", "ambulance"}), LOWER,
                             "percent", comparison_group=BY_GRANULARITY)
    wide = M.replace(metrics=tuple(M.metrics.values()) + (cross,))
    assert wide.partition_key("Acute trust") == wide.partition_key("Ambulance trust") == "all"


def test_trust_info_league():
    assert TrustInfo("X", "x", "Acute trust").league == "acute"
    with pytest.raises(InvalidInput):
        TrustInfo("X", "x", "Dental practice").league
