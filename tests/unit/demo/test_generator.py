"""The generator: deterministic, inside every metric's domain, realistic in its proportions."""

from __future__ import annotations

from collections import Counter

import pytest

from nof.demo.generator import (
    BASELINE, FINANCE, FLIP, INTENSIVE_SUPPORT, LATE, MONTH_S, OBSERVATION, RELEASE, REVISION,
    GeneratorParams, generate, observation_id, quarter_label, to_input,
)
from shared.methodology import parse_period

from .conftest import timeline_for


def test_same_seed_same_timeline_and_different_seed_different(register, methodology):
    assert generate(register, methodology, GeneratorParams(seed=7)) == timeline_for(7)
    assert timeline_for(7).items != timeline_for(8).items


def test_items_are_in_sending_order(timeline):
    ats = [i.at for i in timeline.items]
    assert ats == sorted(ats)
    assert timeline.items[0].at == 0 and ats[-1] < 3 * MONTH_S


def test_every_observation_is_valid_and_applies_to_its_trust(timeline, register, methodology):
    for item in timeline.items:
        if item.kind != OBSERVATION:
            continue
        methodology.validate(to_input(item))
        info = register[item.trust_code]
        assert methodology.metric(item.payload["metric_id"]).applies(info.league, info.code)
        assert type(item.payload["value"]) is float  # the API's value field is a strict float


def test_units_look_plausible(timeline, methodology):
    for item in timeline.items:
        if item.kind != OBSERVATION:
            continue
        metric, value = methodology.metric(item.payload["metric_id"]), item.payload["value"]
        if metric.unit == "percent":
            assert 0 <= value <= 100
        elif metric.unit == "minutes":
            assert 5 <= value <= 120
        elif metric.unit == "pp":
            assert -10 <= value <= 10
        elif metric.unit in ("count", "rate", "score"):
            assert value >= 0
        if metric.unit == "count":
            assert value == int(value)


def test_observation_ids_are_unique_and_stable(timeline):
    ids = [i.id for i in timeline.items]
    assert len(ids) == len(set(ids))
    item = next(i for i in timeline.items if i.tag == REVISION)
    p = item.payload
    assert item.id == observation_id(1, item.trust_code, p["metric_id"], p["period"], 1)
    assert p["observation_id"] == item.id


def test_baseline_covers_every_trust_with_some_metrics_missing(timeline, register, methodology):
    baseline = [i for i in timeline.items if i.tag == BASELINE and i.kind == OBSERVATION]
    assert {i.trust_code for i in baseline} == set(register)
    applicable = sum(len(methodology.metrics.scoring_for(t.league, t.code)) for t in register.values())
    missing = 1 - len(baseline) / applicable
    # 6 % at random plus structural gaps: specialist trusts without A&E, community trusts
    # without mental health wards.
    assert 0.06 <= missing <= 0.15
    periods = {i.payload["period"] for i in baseline}
    assert periods == {"2025-09", "2025-26 Q2"}


def test_monthly_releases_revisions_and_late_periods_in_proportion():
    for seed in (1, 2, 3):
        t = timeline_for(seed)
        tags = Counter(i.tag for i in t.items if i.kind == OBSERVATION)
        releases = tags[RELEASE] + tags[LATE]
        assert 0.012 <= tags[REVISION] / releases <= 0.03
        # late periods are drawn for the first two of three months only (~1 % of those)
        assert 0.003 <= tags[LATE] / releases <= 0.012


def test_a_revision_resends_a_period_later_with_another_value(timeline):
    sent = {}
    for item in timeline.items:
        if item.kind != OBSERVATION:
            continue
        p = item.payload
        key = (item.trust_code, p["metric_id"], p["period"])
        if item.tag == REVISION:
            original = sent[key]
            assert item.at >= original.at and p["value"] != original.payload["value"]
        else:
            sent[key] = item


def test_a_late_period_arrives_after_the_next_period(timeline):
    latest: dict[tuple[str, str], object] = {}
    late = 0
    for item in timeline.items:
        if item.kind != OBSERVATION or item.tag == REVISION:
            continue
        key = (item.trust_code, item.payload["metric_id"])
        period = parse_period(item.payload["period"])
        if item.tag == LATE:
            late += 1
            assert latest[key] > period  # a newer period is already in
        latest[key] = max(latest.get(key, period), period)
    assert late > 0


def test_finance_flags_and_flips(timeline, register):
    initial = [i for i in timeline.items if i.kind == FINANCE and i.tag == BASELINE]
    assert {i.trust_code for i in initial} == set(register)
    share = sum(i.payload["in_deficit"] for i in initial) / len(initial)
    assert share == pytest.approx(0.30, abs=0.01)
    assert timeline.count(FINANCE, FLIP) == 3  # three a quarter
    assert timeline_for(1, months=12).count(FINANCE, FLIP) == 12


def test_intensive_support_is_rare():
    for seed in range(1, 6):
        t = timeline_for(seed, months=12)
        flagged = {i.trust_code for i in t.items if i.kind == INTENSIVE_SUPPORT}
        assert 1 <= len(flagged) <= 4


def test_until_keeps_the_first_months(timeline):
    baseline = timeline.until(0)
    assert {i.month for i in baseline.items} == {0} and baseline.periods == ("2025-09",)
    assert len(timeline.until(1)) < len(timeline.until(2)) < len(timeline)
    assert timeline.until(3) == timeline


def test_quarterly_metrics_arrive_once_the_quarter_is_complete(timeline):
    staff = {i.payload["period"] for i in timeline.items
             if i.kind == OBSERVATION and i.payload["metric_id"] == "OF0084"}
    assert staff == {"2025-26 Q2", "2025-26 Q3"}


@pytest.mark.parametrize(("month", "label"), [
    ("2025-04", "2025-26 Q1"), ("2025-09", "2025-26 Q2"), ("2025-12", "2025-26 Q3"),
    ("2026-01", "2025-26 Q4"), ("2026-03", "2025-26 Q4"),
])
def test_quarter_label(month, label):
    assert quarter_label(parse_period(month).end_month) == label


def test_parameters_are_checked():
    with pytest.raises(ValueError):
        GeneratorParams(revision_share=1.5)
    with pytest.raises(ValueError):
        GeneratorParams(months=-1)
