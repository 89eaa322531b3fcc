"""The cyclic garbage collector's pauses, as a metric: a collection stops every partition of the worker
at once, and a full one grows with the heap (the engine keeps every period's reading), so it is
measured like any other stall."""

from __future__ import annotations

import gc
import time

from services.scoring import metrics

_started = 0.0


def _on_gc(phase: str, info: dict) -> None:
    global _started
    if phase == "start":
        _started = time.perf_counter()
    else:
        metrics.GC_PAUSE_SECONDS.labels(str(info["generation"])).observe(time.perf_counter() - _started)


def watch() -> None:
    """Observe every collection's pause in ``nof_scoring_gc_pause_seconds`` (once per process)."""
    if _on_gc not in gc.callbacks:
        gc.callbacks.append(_on_gc)
