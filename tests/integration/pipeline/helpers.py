"""Sending generated streams through ingest and waiting for the read model to settle."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from shared.events import ChangeEvent
from tests.support.pipeline import Pipeline
from tests.support.streams import Item, mismatches


def send(pipeline: Pipeline, items: list[Item], batch: int = 25) -> None:
    """Observations in batches, finance one at a time, in stream order; every request must be accepted."""
    pending: list[dict[str, Any]] = []

    def flush() -> None:
        if pending:
            response = pipeline.post_observations(pending)
            assert response.status_code == 202, response.text
            pending.clear()

    for item in items:
        if item.kind == "obs":
            pending.append(item.body)
            if len(pending) >= batch:
                flush()
        else:
            flush()
            b = item.body
            response = pipeline.put_finance(b["code"], b["in_deficit"], b["support"])
            assert response.status_code == 202, response.text
    flush()


def wait_for_tables(pipeline: Pipeline, results, timeout: float = 90.0) -> list[str]:
    """Poll Redis until every league equals the batch result; returns the last differences seen."""
    deadline = time.monotonic() + timeout
    diff: list[str] = ["never checked"]
    while time.monotonic() < deadline:
        diff = [d for league in results.leagues for d in mismatches(pipeline.league(league), results, league)]
        if not diff:
            return []
        time.sleep(0.5)
    return diff


def change_events(pipeline: Pipeline) -> list[ChangeEvent]:
    return [ChangeEvent.model_validate_json(r.value) for r in pipeline.read_topic("nof.changes.v1")]


def fold(events: list[ChangeEvent]) -> dict[tuple[str, str], dict[str, Any]]:
    """Replay change events: per (league, trust), the newest value of every published field."""
    state: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    newest: dict[tuple[str, str, str], int] = {}
    for e in sorted(events, key=lambda e: e.league_version):
        for field, value in e.new.items():
            if field in ("metric_scores", "average_range"):
                continue
            key = (e.league, e.trust_code, field)
            if e.league_version >= newest.get(key, -1):
                newest[key] = e.league_version
                state[(e.league, e.trust_code)][field] = value
    return state


def fold_mismatches(folded: dict[tuple[str, str], dict[str, Any]], results) -> list[str]:
    out = []
    for league, table in results.leagues.items():
        for r in table.entries:
            expected = r.to_dict()
            for field, value in folded.get((league, r.trust_code), {}).items():
                if expected[field] != value:
                    out.append(f"{league}/{r.trust_code}.{field}: events say {value!r}, batch says {expected[field]!r}")
            if r.rank is not None and "rank" not in folded.get((league, r.trust_code), {}):
                out.append(f"{league}/{r.trust_code}: ranked but no rank event")
    return out
