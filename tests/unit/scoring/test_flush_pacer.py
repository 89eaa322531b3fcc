"""Redis flushes take at most their share of the scoring worker's time."""

from __future__ import annotations

import pytest

from services.scoring.read_model import FlushPacer


def test_a_cheap_flush_leaves_the_next_one_due_at_once():
    pacer = FlushPacer(share=0.33)
    assert pacer.due(0.0)
    pacer.ran(0.001, 10.001)
    assert pacer.due(10.01)


def test_an_expensive_flush_waits_long_enough_to_keep_its_share():
    pacer = FlushPacer(share=0.25)
    pacer.ran(0.1, 10.1)  # 100 ms of work: the next may start 300 ms later
    assert not pacer.due(10.39)
    assert pacer.due(10.4 + 1e-9)


def test_share_one_never_waits():
    pacer = FlushPacer(share=1.0)
    pacer.ran(5.0, 5.0)
    assert pacer.due(5.0)


@pytest.mark.parametrize("share", [0, -0.1, 1.5])
def test_an_impossible_share_is_refused(share):
    with pytest.raises(ValueError, match="share"):
        FlushPacer(share)


def test_the_rest_follows_the_time_the_write_held_the_loop_not_its_wall_time():
    pacer = FlushPacer(share=0.25)
    pacer.ran(0.01, 10.5)  # 10 ms of its own work over 500 ms in which other tasks ran between its steps
    assert not pacer.due(10.529)
    assert pacer.due(10.53 + 1e-9)
