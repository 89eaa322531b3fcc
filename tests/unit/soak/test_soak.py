"""The kill soak's pure parts: the order a crash-free run applies a league's partitions in, and the outcome line."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.support.crash_free import Step, applied_order

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def steps(*specs: tuple[str, int, int | None]) -> list[Step]:
    """(name, accepted second, version or None) per input."""
    return [Step(T0 + timedelta(seconds=s), v, name) for name, s, v in specs]


def test_versions_decide_where_the_run_reordered_the_partitions():
    observations = steps(("o1", 1, 1), ("o2", 2, None), ("o3", 3, 2), ("o4", 6, 4))
    finance = steps(("f1", 4, 3), ("f2", 5, None))
    # f1 was accepted before o4 but after o3, and the run gave it version 3: between them.
    assert list(applied_order([observations, finance])) == ["o1", "o2", "o3", "f1", "f2", "o4"]


def test_an_input_waits_while_another_partition_holds_a_smaller_version():
    # f1 was accepted first, but the run applied the observations (behind one that changed nothing) first.
    observations = steps(("o1", 2, None), ("o2", 3, 1))
    finance = steps(("f1", 1, 2))
    assert list(applied_order([observations, finance])) == ["o1", "o2", "f1"]


def test_without_versions_the_accepted_order_holds():
    observations = steps(("o1", 1, None), ("o2", 3, None))
    finance = steps(("f1", 2, None))
    assert list(applied_order([observations, finance, []])) == ["o1", "f1", "o2"]


def test_the_soak_outcome_line_counts_conflicting_copies_as_mismatches():
    from tests.soak.run import SoakResult

    result = SoakResult(kills=5, stalls=1, tables=2, conflicts=1, missing=4)
    assert result.line() == "soak: 5 kills, 1 stalls, 3 mismatches, 4 events missing"
    assert not result.ok and SoakResult(kills=5).ok
