"""Segment alerts: direction, hold-down by updates and by time, flapping, uncertainty rule, stable ids."""

from datetime import timedelta

import pytest

from tests.unit.publisher.publisher_builders import T0, assessment, seg, seg_change
from services.publisher.alerts import Hold, HoldDown, on_change, on_tick, uncertainty


def run(events, hold=HoldDown()):
    state, fired = None, []
    for e in events:
        state, out = on_change(state, e, hold)
        fired += out
    return state, fired


def test_immediate_by_default_worse_is_a_higher_number():
    _, fired = run([seg_change(1, seg(2), seg(3, "2.90", ("2.80", "3.00")))])
    assert [(a.type, a.old_segment, a.new_segment) for a in fired] == [("segment.worsened", 2, 3)]
    _, fired = run([seg_change(1, seg(3), seg(2))])
    assert [a.type for a in fired] == ["segment.improved"]


def test_alert_carries_averages_ranges_and_cause():
    e = seg_change(7, seg(2, "2.40", ("2.30", "2.50")), seg(3, "2.90", ("2.80", "3.00")), own=False)
    (alert,) = run([e])[1]
    assert (alert.old_average, alert.new_average) == ("2.40", "2.90")
    assert alert.new_average_range == ["2.80", "3.00"]
    assert alert.cause.own_data is False and alert.cause.trust_code == "RYY"
    assert alert.change_event_id == e.event_id and alert.league_version == 7
    assert alert.alert_id == run([e])[1][0].alert_id  # the same input, decided again, gives the same id


# Hold-down by updates: (events, N, expected alert types)
FLAP = [seg_change(1, seg(2), seg(3)), seg_change(2, seg(3), seg(2)), seg_change(3, seg(2), seg(3)),
        seg_change(4, seg(3), seg(2))]


@pytest.mark.parametrize("events,n,expected", [
    ([seg_change(1, seg(2), seg(3))], 1, ["segment.worsened"]),
    ([seg_change(1, seg(2), seg(3))], 2, []),
    ([seg_change(1, seg(2), seg(3)), assessment(2)], 2, ["segment.worsened"]),
    ([seg_change(1, seg(2), seg(3)), assessment(1)], 2, []),  # same version: not a further update
    ([seg_change(1, seg(2), seg(3)), assessment(2), assessment(3)], 3, ["segment.worsened"]),
    (FLAP, 2, []),  # hovering on a threshold never alerts
    (FLAP, 1, ["segment.worsened", "segment.improved"] * 2),
    ([seg_change(1, seg(2), seg(3)), seg_change(2, seg(3), seg(4)), assessment(3)], 2, ["segment.worsened"]),
    ([seg_change(1, seg(None), seg(3))], 1, []),  # first assessment: a baseline, not a move
    ([seg_change(1, seg(3), seg(None))], 1, []),
])
def test_hold_down_by_updates(events, n, expected):
    _, fired = run(events, HoldDown(updates=n))
    assert [a.type for a in fired] == expected


def test_a_move_on_through_two_segments_reports_from_the_confirmed_one():
    events = [seg_change(1, seg(2, "2.40"), seg(3, "2.80")), seg_change(2, seg(3, "2.80"), seg(4, "3.30")),
              assessment(3, average="3.35")]
    (alert,) = run(events, HoldDown(updates=2))[1]
    assert (alert.old_segment, alert.new_segment, alert.old_average, alert.new_average) == (2, 4, "2.40", "3.35")
    assert alert.held_updates == 2


def test_hold_down_by_time_fires_on_tick_or_on_a_later_event():
    hold = HoldDown(updates=1, seconds=600)
    state, fired = run([seg_change(1, seg(2), seg(3))], hold)
    assert fired == [] and state.candidate == 3
    assert on_tick(state, hold, T0 + timedelta(minutes=9))[1] == []
    state2, fired = on_tick(state, hold, T0 + timedelta(minutes=10))
    assert [a.type for a in fired] == ["segment.worsened"] and fired[0].held_seconds == 600
    assert state2 == Hold(confirmed=3, last_version=1)
    _, fired = run([seg_change(1, seg(2), seg(3)), assessment(2, minutes=11)], hold)
    assert len(fired) == 1


def test_time_hold_with_a_flap_back_in_between_never_fires():
    hold = HoldDown(seconds=600)
    state, _ = run([seg_change(1, seg(2), seg(3)), seg_change(2, seg(3), seg(2), minutes=5)], hold)
    assert on_tick(state, hold, T0 + timedelta(hours=2))[1] == []


@pytest.mark.parametrize("old,new,beyond,basis", [
    (seg(2, "2.40", ("2.30", "2.50")), seg(3, "2.90", ("2.80", "3.00")), True, "ranges"),
    (seg(2, "2.40", ("2.30", "2.60")), seg(3, "2.70", ("2.55", "2.85")), False, "ranges"),
    (seg(3, "2.90", ("2.80", "3.00")), seg(2, "2.40", ("2.30", "2.50")), True, "ranges"),
    ({**seg(2, "2.40"), "threshold": None}, {**seg(3, "2.70", ("2.66", "2.80")), "threshold": "2.65"}, True, "threshold"),
    (seg(2, "2.40"), {**seg(3, "2.70", ("2.60", "2.80")), "threshold": "2.65"}, False, "threshold"),
    (seg(3, "2.20", raw=2, capped=True), seg(2, "2.20", raw=2, capped=False), None, "cap"),
    (seg(2, "2.20", raw=2), seg(3, "2.20", raw=2, capped=True), None, "cap"),
    (seg(3), seg(5), None, "segment-5"),
    (seg(2, rng=None), seg(3, rng=None), None, "unknown"),
])
def test_uncertainty_rule(old, new, beyond, basis):
    got, got_basis, note = uncertainty(old["segment"], new["segment"], old, new)
    assert (got, got_basis) == (beyond, basis) and note

