"""Helpers for the live dashboard test: the stack's public HTTP APIs, headless Chromium, and a scenario that
changes one ambulance trust's segment whatever the league holds (it sends values strictly worse, or strictly
better, than every peer's on every metric the trust reports, for a period later than any it has reported)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

from shared.methodology.periods import parse_period
from tests.e2e.stack import LOCAL_DIR, url

ROOT = Path(__file__).resolve().parents[2]
INGEST = url("ingest")
PUBLISHER = url("publisher")
SCORING = url("scoring")
INGEST_KEY_FILE = LOCAL_DIR / "ingest-dev-key"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

LEAGUE = "ambulance"
#: The ambulance league's core metrics (METHODOLOGY §7): id -> (direction, unit).
CORE_METRICS = {"PRV-AMB-C1": ("lower", "minutes"), "PRV-AMB-C2": ("lower", "minutes"),
                "OF0082": ("lower", "percent"), "OF0084": ("higher", "score")}
DEFAULT_PERIOD = "2026-11"

T = TypeVar("T")


# ---------- the stack's public APIs ----------

def ingest_key() -> str:
    if not INGEST_KEY_FILE.exists():
        pytest.fail(f"{INGEST_KEY_FILE} is missing: start the stack with `make run` (it writes the dev key)")
    return INGEST_KEY_FILE.read_text().strip()


def league(slug: str = LEAGUE) -> dict[str, Any]:
    answer = httpx.get(f"{PUBLISHER}/v1/leagues/{slug}", timeout=10)
    answer.raise_for_status()
    return answer.json()


def scorer_lag() -> float | None:
    """Input records the scorer has not committed yet, summed over partitions (None before it reports any)."""
    lags = [float(line.rpartition(" ")[2]) for line in httpx.get(f"{SCORING}/metrics", timeout=10).text.splitlines()
            if line.startswith("nof_scoring_applied_lag{")]
    return sum(lags) if lags else None


def settled_league(slug: str = LEAGUE, timeout: float = 60, quiet_s: float = 1.0) -> dict[str, Any]:
    """The league table once the scorer has consumed every input (the stack may still be scoring the data
    loaded just before the tier started) and the table's version has then held for ``quiet_s``."""
    wait_for(lambda: True if scorer_lag() == 0 else None, timeout, "the scorer to consume every input")
    deadline, last, since = time.monotonic() + timeout, None, time.monotonic()
    while time.monotonic() < deadline:
        answer = httpx.get(f"{PUBLISHER}/v1/leagues/{slug}", timeout=10)
        if answer.status_code == 200:
            table = answer.json()
            if last is None or table["version"] != last["version"]:
                last, since = table, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return table
        time.sleep(0.25)
    pytest.fail(f"the {slug} table did not settle within {timeout:.0f} s (last version "
                f"{None if last is None else last['version']})")


def explanation(code: str) -> dict[str, Any] | None:
    answer = httpx.get(f"{PUBLISHER}/v1/trusts/{code}", timeout=10)
    return answer.json() if answer.status_code == 200 else None


def post_observations(observations: list[dict[str, Any]]) -> dict[str, Any]:
    answer = httpx.post(f"{INGEST}/v1/observations", json={"observations": observations},
                        headers={"Authorization": f"Bearer {ingest_key()}"}, timeout=10)
    assert answer.status_code == 202, f"ingest refused the observations: {answer.status_code} {answer.text}"
    return answer.json()


def wait_for(probe: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (found := probe()) is not None:
            return found
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


# ---------- the scenario ----------

def metric_lines(explained: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The explanation's metric breakdown as a list of dicts, whether it is a list or a mapping."""
    raw = (explained or {}).get("metrics") or (explained or {}).get("breakdown") or []
    if isinstance(raw, dict):
        return [{"metric_id": k, **v} for k, v in raw.items() if isinstance(v, dict)]
    return [m for m in raw if isinstance(m, dict)]


def as_float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Plan:
    """Observations that must move ``trust`` out of ``old_segment``."""

    trust: str
    old_segment: int | None
    goal: str  # "worst" or "best"
    observations: list[dict[str, Any]]


def choose_target(entries: list[dict[str, Any]]) -> tuple[dict[str, Any], str]:
    """A trust whose segment must change: one in 1-3 made worst (→ 4, a cap cannot lower it), else one in 4
    made best (→ 1, or 3 if capped), else an unsegmented one made worst. Trusts in segment 5 never move."""
    movable = [e for e in entries if not e.get("intensive_support") and e.get("segment") != 5]
    for goal, segments in (("worst", {1, 2, 3}), ("best", {4}), ("worst", {None})):
        for entry in movable:
            if entry.get("segment") in segments:
                return entry, goal
    pytest.fail(f"no ambulance trust can change segment: {[(e['trust_code'], e.get('segment')) for e in entries]}")


def extreme(goal: str, direction: str, unit: str, seen: list[float]) -> float:
    """A value strictly worse (or better) than every peer's, inside the unit's domain (§7)."""
    low_wins = direction == "lower"
    want_high = low_wins == (goal == "worst")
    bounded_high = 100.0 if unit == "percent" else None
    floor = None if unit in ("signed_percent", "pp") else 0.0
    if want_high:
        top = max(seen + [90.0 if bounded_high else 500.0])
        return round((top + bounded_high) / 2, 4) if bounded_high else top + 100.0
    bottom = min(seen + [0.5 if floor is not None else -50.0])
    return round(bottom / 2, 4) if floor is not None else bottom - 50.0


def next_period(lines: list[dict[str, Any]]) -> str:
    """DEFAULT_PERIOD, or the month after the trust's latest reported period if that is later (§2: latest wins)."""
    periods = [parse_period(m["period"]) for m in lines if isinstance(m.get("period"), str)]
    latest = max(periods, default=None)
    chosen = parse_period(DEFAULT_PERIOD)
    if latest is not None and latest >= chosen:
        month = latest.end_month + 1
        return f"{month // 12}-{month % 12 + 1:02d}"
    return DEFAULT_PERIOD


def plan_segment_change(snapshot: dict[str, Any]) -> Plan:
    entries = snapshot["entries"]
    target, goal = choose_target(entries)
    explained = {e["trust_code"]: explanation(e["trust_code"]) for e in entries}
    own = metric_lines(explained[target["trust_code"]])
    metrics = dict(CORE_METRICS)
    for line in own:  # every other scored metric the trust reports, with the direction the explanation gives
        if line.get("metric_id") and line.get("direction") in ("lower", "higher") and line.get("value") is not None:
            metrics.setdefault(line["metric_id"], (line["direction"], line.get("unit") or "signed_percent"))
    seen: dict[str, list[float]] = {m: [] for m in metrics}
    for code, explained_peer in explained.items():
        for line in metric_lines(explained_peer):
            if code != target["trust_code"] and line.get("metric_id") in seen and as_float(line.get("value")) is not None:
                seen[line["metric_id"]].append(as_float(line["value"]))
    period = next_period(own)
    run = uuid.uuid4().hex[:12]
    observations = [{"trust_code": target["trust_code"], "metric_id": metric, "period": period,
                     "value": extreme(goal, direction, unit, seen[metric]),
                     "observation_id": f"e2e-dashboard-{run}-{metric}"}
                    for metric, (direction, unit) in metrics.items()]
    return Plan(target["trust_code"], target.get("segment"), goal, observations)


# ---------- the browser ----------

@contextmanager
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's `chromium` package (`make install`)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
