"""The garbage collector's pauses reach the scorer's metrics, by generation."""

from __future__ import annotations

import gc

from prometheus_client import REGISTRY

from services.scoring import gc_pauses


def _count(generation: str) -> float:
    return REGISTRY.get_sample_value("nof_scoring_gc_pause_seconds_count", {"generation": generation}) or 0.0


def test_a_full_collection_is_observed_once_under_its_generation():
    gc_pauses.watch()
    gc_pauses.watch()  # twice is once: one callback per process
    assert sum(cb is gc_pauses._on_gc for cb in gc.callbacks) == 1
    gc.disable()  # no automatic collection between the readings
    try:
        full, young = _count("2"), _count("0")
        gc.collect()
        assert _count("2") == full + 1
        assert _count("0") == young  # only the generation collected
        gc.collect(0)
        assert _count("0") == young + 1
    finally:
        gc.enable()
