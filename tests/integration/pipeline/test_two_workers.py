"""Scale-out: two scoring workers sharing the input partitions give the same tables as one worker."""

from __future__ import annotations

import httpx

from tests.integration.pipeline.helpers import send, wait_for_tables
from tests.support.streams import expected, generate


def test_two_workers_reach_the_batch_result(pipeline):
    pipeline.start("scoring", instance="b")
    items = generate(seed=41, n=600, leagues=("ambulance", "mental-health-community", "acute"))
    send(pipeline, items)
    assert wait_for_tables(pipeline, expected(items), timeout=120) == []
    owned = []
    for name in ("scoring", "scoring-b"):
        health = httpx.get(f"{pipeline.url(name)}/healthz", timeout=5).json()
        owned.append(set(health["leagues"]))
    assert not owned[0] & owned[1], f"a league is scored by both workers: {owned}"
    assert owned[0] | owned[1] == {"acute", "ambulance", "mental-health-community"}
