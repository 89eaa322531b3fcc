"""The dashboard's charts, trust page and sensitivity view on the running stack, in headless Chromium: they render
with the stack's data, pass axe-core's WCAG 2.2 A/AA rules, do not scroll sideways at 360 px, and a segment move
beyond the likely range is labelled so within seconds of the observations that caused it. The sensitivity endpoint
is checked against the batch methodology run with each alternative on the same inputs. Screenshots go to
test-artifacts/."""

from __future__ import annotations

import time
import uuid

import httpx
from playwright.sync_api import expect

from shared.methodology import get_methodology, load_trust_register, score_batch
from services.publisher.sensitivity import ALTERNATIVES, inputs_of, trusts_of
from tests.e2e.dashboard_support import (
    ARTIFACTS, INGEST, LEAGUE, PUBLISHER, chromium, explanation, extreme, ingest_key, metric_lines, next_period,
    post_observations, settled_league, wait_for,
)
from tests.support.accessibility import axe_violations, no_scroll_overflow

TABLE = "acute"  # the largest league the demo baseline fills
PROBE_METRIC = "PRV-AMB-C1"


def ranked_trust(snapshot: dict) -> str:
    return next(e["trust_code"] for e in snapshot["entries"] if e.get("rank") is not None)


def test_sensitivity_endpoint_agrees_with_the_batch_methodology_on_the_live_read_model():
    snapshot = settled_league(TABLE)
    view = httpx.get(f"{PUBLISHER}/v1/leagues/{TABLE}/sensitivity", timeout=60).json()
    if view["version"] != snapshot["version"]:  # the table moved on between the two reads: read both again
        snapshot = settled_league(TABLE)
        view = httpx.get(f"{PUBLISHER}/v1/leagues/{TABLE}/sensitivity", timeout=60).json()
    m = get_methodology(snapshot["methodology_version"])
    explained = {e["trust_code"]: explanation(e["trust_code"]) for e in snapshot["entries"]}
    trusts = trusts_of(m, explained, load_trust_register())
    inputs = inputs_of(explained)
    assert view["reproduces_published"] is True
    for alternative in ALTERNATIVES:
        batch = score_batch(alternative.methodology(m), trusts, inputs).leagues[TABLE]
        assert {e["trust_code"]: e["ranks"][alternative.key] for e in view["entries"]} == \
            {e.trust_code: e.rank for e in batch.entries}, alternative.key
    assert [e["published_rank"] for e in view["entries"]] == [e["rank"] for e in snapshot["entries"]]


def test_league_trust_and_sensitivity_pages_render_with_data_and_pass_axe():
    snapshot = settled_league(TABLE)
    code = ranked_trust(snapshot)
    pages = {"league": (f"/#{TABLE}", "#caterpillar svg[role=img]"),
             "trust": (f"/trusts/{code}", "#spine svg[role=img]"),
             "sensitivity": (f"/leagues/{TABLE}/sensitivity", "#sensitivity svg[role=img]")}
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium() as browser:
        for width in (1280, 360):
            page = browser.new_page(viewport={"width": width, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            for name, (path, ready) in pages.items():
                page.goto(f"{PUBLISHER}{path}")
                expect(page.locator(ready)).to_be_visible(timeout=20_000)
                if name == "league":
                    ranked = sum(1 for e in snapshot["entries"] if e.get("average") is not None)
                    marks = page.locator("#caterpillar svg[role=img] circle, #caterpillar svg[role=img] path").count()
                    assert marks >= ranked, f"the caterpillar chart draws {marks} marks for {ranked} trusts"
                    expect(page.locator("#caterpillar-summary")).to_contain_text(f"of {ranked} trusts")
                if name == "trust":
                    expect(page.locator("#trust-title")).to_contain_text(f"({code})")
                if name == "sensitivity":
                    expect(page.locator("#sensitivity table tbody tr")).to_have_count(len(snapshot["entries"]))
                page.wait_for_timeout(300)
                page.screenshot(path=ARTIFACTS / f"live-{name}-{width}.png", full_page=True)
                if width == 360:
                    assert no_scroll_overflow(page) <= 0, f"the {name} page scrolls sideways at 360 px"
                else:
                    violations = axe_violations(page)
                    assert violations == [], f"{name}: " + "; ".join(f"{v['id']}: {v['help']} {v['nodes'][:2]}" for v in violations)
            page.close()
            assert not errors, f"the pages raised script errors: {errors}"


def register_probe_trust() -> str:
    """A new ambulance trust that will report one metric, so one observation moves its whole likely range
    (new each run: other tests may give an existing trust more metrics)."""
    code = f"E2E-{uuid.uuid4().hex[:8].upper()}"
    answer = httpx.post(f"{INGEST}/v1/trusts", headers={"Authorization": f"Bearer {ingest_key()}"}, timeout=10,
                        json={"trust_code": code, "trust_name": "END TO END PROBE AMBULANCE TRUST",
                              "trust_type": "Ambulance trust", "trust_subtype": "Ambulance", "region": "London"})
    assert answer.status_code == 202, answer.text
    wait_for(lambda: explanation(code), 60, f"{code} to be registered")
    return code


def probe_observation(code: str, goal: str, period: str) -> dict:
    value = extreme(goal, "lower", "minutes", [])  # past every peer's Category 1 mean response time
    return {"trust_code": code, "metric_id": PROBE_METRIC, "period": period, "value": value,
            "observation_id": f"e2e-probe-{uuid.uuid4().hex[:12]}"}


def test_a_segment_move_beyond_the_likely_range_is_labelled_within_seconds():
    """With one metric, the probe's likely range is a point: worst to best moves it wholly past the old one."""
    settled_league(LEAGUE)
    probe = register_probe_trust()
    period = next_period(metric_lines(explanation(probe)))
    post_observations([probe_observation(probe, "worst", period)])
    wait_for(lambda: True if (explanation(probe) or {}).get("result", {}).get("segment") == 4 else None, 60,
             f"{probe} to reach segment 4")
    later = next_period([{"period": period}])
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{PUBLISHER}/#{LEAGUE}")
        expect(page.locator(".connection")).to_have_attribute("data-state", "live", timeout=15_000)
        sent = time.monotonic()
        post_observations([probe_observation(probe, "best", later)])
        labelled = page.locator(f'#feed-list li[data-trust="{probe}"]').first
        expect(labelled).to_contain_text("segment improved", timeout=30_000)
        expect(labelled).to_have_attribute("data-uncertainty", "beyond", timeout=10_000)
        expect(labelled).to_contain_text("beyond the likely range")
        took = time.monotonic() - sent
        page.screenshot(path=ARTIFACTS / "live-beyond-the-range.png", full_page=True)
    assert took < 30, f"the move was labelled {took:.1f} s after the observation was accepted"
