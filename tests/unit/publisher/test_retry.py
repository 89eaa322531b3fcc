"""Retry schedule: exponential ceilings, full jitter within them, attempts capped; no sleeping."""

import pytest

from services.publisher.retry import RetryPolicy, delivered


def top(lo: float, hi: float) -> float:
    return hi


def bottom(lo: float, hi: float) -> float:
    return lo


def test_ceilings_double_up_to_the_maximum():
    p = RetryPolicy(base_seconds=0.5, max_seconds=4.0, max_attempts=7)
    assert p.schedule(top) == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_full_jitter_draws_between_zero_and_the_ceiling():
    p = RetryPolicy(base_seconds=1.0, max_seconds=60.0, max_attempts=4)
    seen: list[tuple[float, float]] = []

    def record(lo: float, hi: float) -> float:
        seen.append((lo, hi))
        return (lo + hi) / 2

    assert p.schedule(record) == [0.5, 1.0, 2.0]
    assert seen == [(0.0, 1.0), (0.0, 2.0), (0.0, 4.0)]
    assert p.schedule(bottom) == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("attempts", [1, 2, 8])
def test_no_delay_after_the_last_attempt(attempts):
    p = RetryPolicy(max_attempts=attempts)
    assert len(p.schedule(top)) == attempts - 1
    assert p.delay(attempts, top) is None


def test_real_jitter_stays_in_bounds():
    p = RetryPolicy(base_seconds=0.1, max_seconds=1.0, max_attempts=10)
    for attempt in range(1, 10):
        for _ in range(50):
            assert 0.0 <= p.delay(attempt) <= p.ceiling(attempt)


@pytest.mark.parametrize("status,ok", [(200, True), (204, True), (299, True), (None, False), (301, False),
                                       (400, False), (429, False), (500, False), (503, False)])
def test_only_2xx_counts_as_delivered(status, ok):
    assert delivered(status) is ok
