"""Seeded input streams with duplicates, revisions, late periods and finance changes, and the batch
methodology result the pipeline must reach on them."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from shared.methodology import (
    FinanceStatus,
    Observation,
    Results,
    get_methodology,
    load_trust_register,
    score_batch,
)

M = get_methodology()
REGISTER = load_trust_register()
COMPARED = ("rank", "unadjusted_rank", "segment", "raw_segment", "capped", "average", "scored_metrics",
            "applicable_metrics", "in_deficit", "average_range", "rank_range")


@dataclass(frozen=True)
class Item:
    kind: str  # "obs" or "fin"
    body: dict[str, Any]


def _value(metric, rng: random.Random) -> float:
    low, high = {"percent": (40, 99), "signed_percent": (-6, 6), "pp": (-5, 2), "minutes": (6, 40),
                 "count": (0, 40), "rate": (0, 60), "score": (5, 8), "days": (1, 60)}.get(metric.unit, (0, 50))
    return round(rng.uniform(low, high), 2)


def generate(seed: int, leagues: tuple[str, ...] = ("ambulance", "mental-health-community"), n: int = 400,
             observations_only: bool = False) -> list[Item]:
    rng = random.Random(seed)
    trusts = sorted(c for c, t in REGISTER.items() if t.league in leagues)
    periods = ["2025-10", "2025-11", "2025-12", "2026-01"]
    items: list[Item] = []
    sent: list[dict[str, Any]] = []
    for i in range(n):
        roll = rng.random()
        if sent and roll < 0.08:  # an exact duplicate of something already sent
            items.append(Item("obs", dict(rng.choice(sent))))
            continue
        if sent and roll < 0.14:  # a revision: same trust, metric and period, new value and id
            base = dict(rng.choice(sent))
            base.update(value=_value(M.metrics[base["metric_id"]], rng), observation_id=f"rev-{seed}-{i}")
            sent.append(base)
            items.append(Item("obs", base))
            continue
        if not observations_only and roll < 0.20:
            code = rng.choice(trusts)
            items.append(Item("fin", {"code": code, "in_deficit": rng.choice([True, False, None]),
                                      "support": rng.random() < 0.1}))
            continue
        code = rng.choice(trusts)
        league = REGISTER[code].league
        metric = rng.choice([m for m in M.metrics.values() if m.scoring and m.applies(league, code)])
        # Mostly the newest periods, sometimes a late older one.
        period = rng.choice(periods[-2:]) if rng.random() < 0.85 else rng.choice(periods[:2])
        body = {"trust_code": code, "metric_id": metric.id, "period": period, "value": _value(metric, rng),
                "observation_id": f"obs-{seed}-{i}"}
        sent.append(body)
        items.append(Item("obs", body))
    return items


def to_inputs(items: list[Item]) -> list:
    inputs = []
    for n, item in enumerate(items):
        if item.kind == "obs":
            b = item.body
            inputs.append(Observation(b["trust_code"], b["metric_id"], b["period"], b["value"], b["observation_id"]))
        else:
            b = item.body
            inputs.append(FinanceStatus(b["code"], b["in_deficit"], b["support"], f"fin-{n}"))
    return inputs


def expected(items: list[Item]) -> Results:
    codes = {i.body.get("trust_code") or i.body.get("code") for i in items}
    return score_batch(M, {c: REGISTER[c] for c in codes}, to_inputs(items))


def mismatches(snapshot: dict[str, Any] | None, results: Results, league: str) -> list[str]:
    """Field-by-field differences between a league table (as cached in Redis and served by the
    publisher's read API) and the batch result."""
    want = results.leagues.get(league)
    if want is None:
        return [] if snapshot is None else [f"{league}: unexpected table"]
    if snapshot is None:
        return [f"{league}: no table"]
    got = {e["trust_code"]: e for e in snapshot["entries"]}
    out = []
    for r in want.entries:
        expected_entry = r.to_dict()
        entry = got.get(r.trust_code)
        if entry is None:
            out.append(f"{league}/{r.trust_code}: missing")
            continue
        for field in COMPARED:
            if entry.get(field) != expected_entry[field]:
                out.append(f"{league}/{r.trust_code}.{field}: expected {expected_entry[field]!r}, found {entry.get(field)!r}")
    extra = set(got) - {r.trust_code for r in want.entries}
    out += [f"{league}/{code}: not in the batch result" for code in sorted(extra)]
    return out


def explanation_mismatches(explanation: dict[str, Any] | None, results: Results, league: str, code: str,
                           entry: dict[str, Any] | None,
                           fields: tuple[str, ...] = (*COMPARED, "metric_scores")) -> list[str]:
    """Differences between one trust's explanation (``GET /v1/trusts/{code}``), the batch result and the
    trust's row in the league table: same league, the same values of ``fields``, and (when metric scores
    are compared) every scored metric's line showing the score the result counts."""
    want = results.leagues[league].get(code)
    where = f"{league}/{code} explanation"
    if explanation is None:
        return [f"{where}: missing"]
    if explanation.get("league") != league or explanation.get("trust_code") != code:
        return [f"{where}: for {explanation.get('league')}/{explanation.get('trust_code')}"]
    result, expected_entry = explanation.get("result") or {}, want.to_dict()
    written = f"(written at league version {explanation.get('version')})"
    out = []
    for field in fields:
        if result.get(field) != expected_entry[field]:
            out.append(f"{where}.{field}: expected {expected_entry[field]!r}, found {result.get(field)!r} {written}")
        if entry is not None and field in entry and entry[field] != result.get(field):
            out.append(f"{where}.{field}: the table says {entry[field]!r}, the explanation {result.get(field)!r} {written}")
    if "metric_scores" in fields:
        scores = result.get("metric_scores") or {}
        for line in explanation.get("metrics", []):
            if line.get("status") == "scored" and line.get("score") != scores.get(line.get("metric_id")):
                out.append(f"{where}: metric {line.get('metric_id')} shows score {line.get('score')!r}, "
                           f"the result counts {scores.get(line.get('metric_id'))!r}")
    return out
