"""The dashboard served by the running publisher shows a segment change without reload, in headless Chromium.

Needs the whole stack (`make run`): ingest on :8001, scoring, publisher on :8003. Observations go in over
ingest's public API; the page must change by itself over SSE. The screenshot lands in test-artifacts/.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.dashboard_support import (
    ARTIFACTS, LEAGUE, PUBLISHER, chromium, league, plan_segment_change, post_observations, settled_league, wait_for,
)

PIPELINE_TIMEOUT_S = 60


def test_segment_change_reaches_the_open_page_without_reload():
    snapshot = settled_league(LEAGUE)
    plan = plan_segment_change(snapshot)
    ARTIFACTS.mkdir(exist_ok=True)

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{PUBLISHER}/#{LEAGUE}")
        expect(page.locator(f"#tab-{LEAGUE}")).to_have_attribute("aria-selected", "true")
        expect(page.locator(".connection")).to_have_attribute("data-state", "live", timeout=15_000)
        row = page.locator(f'#league-rows tr[data-trust="{plan.trust}"]')
        before = "" if plan.old_segment is None else str(plan.old_segment)
        expect(row).to_have_attribute("data-segment", before, timeout=15_000)
        page.evaluate("window.__notReloaded = true")

        post_observations(plan.observations)

        expect(row).not_to_have_attribute("data-segment", before, timeout=PIPELINE_TIMEOUT_S * 1000)
        if plan.goal == "worst" and plan.old_segment is not None:
            # The observations land one by one, so the row may pass through intermediate segments
            # (each shown live) before it settles: made worst on every metric, it must end in 4.
            expect(row).to_have_attribute("data-segment", "4", timeout=PIPELINE_TIMEOUT_S * 1000)
        shown = row.get_attribute("data-segment")
        assert (f"seg-{shown}" if shown else "seg-none") in (row.get_attribute("class") or "").split()
        feed = page.locator(f'#feed-list li[data-trust="{plan.trust}"]').first
        expect(feed).to_contain_text(f"caused by {plan.trust}'s own data", timeout=10_000)
        page.screenshot(path=ARTIFACTS / "dashboard-live.png", full_page=True)
        assert page.evaluate("window.__notReloaded") is True, "the page reloaded instead of updating in place"
        assert not errors, f"the page raised script errors: {errors}"

    def api_agrees():
        entry = next(e for e in league(LEAGUE)["entries"] if e["trust_code"] == plan.trust)
        return entry if str(entry["segment"] if entry["segment"] is not None else "") == shown else None

    wait_for(api_agrees, 10, f"the publisher API to report segment {shown!r} for {plan.trust}")
