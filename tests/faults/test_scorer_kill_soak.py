"""A short kill soak (tests/soak): the scorer SIGKILLed five times at random moments mid-stream, under CPU load.

The full soak is ``make soak`` (20 kills by default)."""

from __future__ import annotations

import time

from tests.faults import summary
from tests.soak.run import Soak, SoakConfig

KILLS = 5


def test_scorer_killed_again_and_again_under_cpu_load(private_broker, tmp_path):
    row = summary.Row("scorer kill soak")
    summary.ROWS.append(row)
    started = time.monotonic()
    soak = Soak(SoakConfig(kills=KILLS, seed=51, between_kills_s=(0.2, 3.0), tail_items=150, settle_s=60.0),
                private_broker.bootstrap, tmp_path / "pipeline")
    result = soak.run()
    row.seconds = time.monotonic() - started
    row.injected = f"{result.kills} x SIGKILL scoring at random moments, a CPU hog running"
    row.accepted = str(soak.sender.count if soak.sender else 0)
    row.events = str(result.events)
    row.tables = "yes" if result.tables == 0 and not result.aborted else f"NO ({result.tables} differences)"
    row.notes.append(result.line())
    row.outcome = "PASS" if result.ok else "FAIL"
    assert result.aborted is None, result.aborted
    assert result.kills >= KILLS
    assert (result.stalls, result.mismatches, result.missing) == (0, 0, 0), result.line()
