"""The live dashboard in headless Chromium against the publisher twin: table, sorting, drill-down, SSE, tabs."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.unit.dashboard.publisher_twin import STATIC, PublisherTwin, changed_snapshot

AMBULANCE_ORDER = ["RYF", "RYE", "RX6", "RYA", "RX8", "RRU", "RX9", "RYD", "RYC", "RX7"]
ROWS = "#league-rows tr[data-trust]"


def open_league(page: Page, slug: str) -> None:
    page.goto(f"/#{slug}")
    expect(page.locator(".connection")).to_have_attribute("data-state", "live")
    expect(page.locator(f"#tab-{slug}")).to_have_attribute("aria-selected", "true")
    expect(page.locator(ROWS).first).to_be_visible()


def row(page: Page, code: str):
    return page.locator(f'#league-rows tr[data-trust="{code}"]')


def row_order(page: Page) -> list[str]:
    return page.locator(ROWS).evaluate_all("rows => rows.map(r => r.dataset.trust)")


def eventually(page: Page, condition, timeout_ms: int = 5000) -> None:
    for _ in range(timeout_ms // 50):
        if condition():
            return
        page.wait_for_timeout(50)
    assert condition()


def cloud_event(change: dict, kind: str) -> dict:
    return {"specversion": "1.0", "id": f"evt-{change['trust_code']}-{kind}-{change['league_version']}",
            "source": "/nof/scoring", "type": f"uk.nhs.nof.{kind}", "subject": change["trust_code"],
            "time": "2026-05-14T09:01:00Z", "datacontenttype": "application/json",
            "data": {"event_id": f"chg-{change['trust_code']}-{kind}", "type": kind, **change}}


def rx6_falls_to_segment_4(twin: PublisherTwin) -> tuple[dict, list[dict]]:
    """RX6 drops from segment 2 to 4 because of another trust's observation (METHODOLOGY §8's cascade)."""
    snapshot = changed_snapshot(twin.leagues["ambulance"], "RX6", average="2.75", segment=4, raw_segment=4,
                                average_range=["2.50", "3.00"], rank_range=[7, 9], distance_to_next_segment="0.05")
    cause = {"kind": "observation", "input_id": "obs-991", "trust_code": "RYE", "own_data": False,
             "metric_id": "PRV-AMB-C1"}
    base = {"league": "ambulance", "league_version": snapshot["version"], "trust_code": "RX6", "cause": cause}
    events = [
        cloud_event({**base, "old": {"segment": 2, "raw_segment": 2, "capped": False, "average": "2.17",
                                     "average_range": ["2.01", "2.35"]},
                     "new": {"segment": 4, "raw_segment": 4, "capped": False, "average": "2.75",
                             "average_range": ["2.50", "3.00"]}}, "segment.changed"),
        cloud_event({**base, "old": {"rank": 3, "unadjusted_rank": 4}, "new": {"rank": 7, "unadjusted_rank": 8}},
                    "rank.changed"),
    ]
    return snapshot, events


def test_table_lists_trusts_in_rank_order_with_segments_and_likely_ranges(page: Page, artifacts):
    open_league(page, "ambulance")

    assert row_order(page) == AMBULANCE_ORDER
    expect(row(page, "RX6")).to_have_class(re.compile(r"\bseg-2\b"))
    expect(row(page, "RX6").locator(".rank-cell")).to_have_text("3 (2–5)")
    expect(row(page, "RX6").locator(".average-cell")).to_have_text("2.17 (2.01–2.35)")
    expect(row(page, "RX6").locator(".completeness-cell")).to_have_text("4/4 metrics")
    expect(row(page, "RX6").locator(".segment-cell")).to_contain_text("2")
    expect(row(page, "RX8").locator(".segment-cell")).to_contain_text("capped (deficit)")
    expect(row(page, "RYC")).to_have_class(re.compile(r"\bseg-5\b"))
    expect(row(page, "RYC").locator(".segment-cell")).to_contain_text("intensive support")
    expect(row(page, "RX7")).to_have_class(re.compile(r"\bseg-none\b"))
    expect(row(page, "RX7").locator(".rank-cell")).to_have_text("unranked")
    # equal (segment, average) share a rank (§6)
    expect(row(page, "RRU").locator(".rank-cell")).to_have_text(re.compile(r"^6 "))
    expect(row(page, "RX9").locator(".rank-cell")).to_have_text(re.compile(r"^6 "))

    expect(page.locator("#league-table caption")).to_contain_text("Ambulance trusts")
    headers = page.locator("#league-table thead th")
    assert headers.count() == 7
    for i in range(headers.count()):
        expect(headers.nth(i)).to_have_attribute("scope", "col")
        expect(headers.nth(i).locator("button")).to_have_count(1)
    expect(page.locator('th[data-key="rank"]')).to_have_attribute("aria-sort", "ascending")
    expect(page.locator('#league-rows th[scope="row"]')).to_have_count(10)
    page.screenshot(path=artifacts / "dashboard-table.png", full_page=True)


def test_columns_sort_from_the_keyboard(page: Page):
    open_league(page, "ambulance")
    average = page.locator('th[data-key="average"]')

    average.locator("button").focus()
    page.keyboard.press("Enter")
    expect(average).to_have_attribute("aria-sort", "ascending")
    expect(page.locator('th[data-key="rank"]')).to_have_attribute("aria-sort", "none")
    assert row_order(page) == ["RYF", "RYE", "RX8", "RX6", "RYA", "RRU", "RX9", "RYC", "RYD", "RX7"]

    page.keyboard.press("Space")
    expect(average).to_have_attribute("aria-sort", "descending")
    assert row_order(page)[:2] == ["RYD", "RYC"]
    assert row_order(page)[-1] == "RX7", "a trust without an average sorts last either way"
    expect(page.locator("#league-table caption")).to_contain_text("sorted by average score (descending)")

    page.locator('th[data-key="trust_name"] button').click()
    assert row_order(page)[:2] == ["RX9", "RYC"]  # EAST MIDLANDS…, EAST OF ENGLAND…: names sort as text


def test_trust_page_has_its_own_address_and_the_back_button_returns(page: Page, artifacts):
    open_league(page, "ambulance")
    trust = row(page, "RX6").locator("a.trust-link")

    trust.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/trusts/RX6$"))
    expect(page.locator("#trust-title")).to_contain_text("(RX6)")
    expect(page.locator("#trust-body")).to_contain_text("3 (2–5)")
    expect(page.locator("#trust-body")).to_contain_text("average 2.17 <= 2.35 -> raw segment 2")
    spine = page.locator("#spine svg[role=img]")
    expect(spine).to_be_visible()
    expect(page.locator("#spine table tbody tr")).to_have_count(4)
    expect(page.locator("#spine table")).to_contain_text("7.95 minutes")
    expect(page.locator("#spine-summary")).to_contain_text("better half on")
    expect(page.locator("#history svg[role=img]")).to_be_visible()
    page.screenshot(path=artifacts / "dashboard-trust-page.png", full_page=True)

    page.go_back()
    expect(page).to_have_url(re.compile(r"/#ambulance$"))
    expect(page.locator(ROWS)).to_have_count(10)


def test_trust_page_merges_a_burst_of_changes_into_one_line(page: Page, twin: PublisherTwin):
    burst = [{"type": "rank.changed", "league_version": 100 + i, "old": {"rank": 5 + (i % 2)}, "new": {"rank": 6 - (i % 2)},
              "at": f"2026-05-14T09:00:{i:02d}Z",
              "cause": {"kind": "observation", "trust_code": "RYE" if i % 3 else "RX6", "own_data": i % 3 == 0,
                        "metric_id": "OF0082"}} for i in range(30)]
    twin.trusts["RX6"] = {**twin.trusts["RX6"], "history": burst + twin.trusts["RX6"]["history"]}

    page.goto("/trusts/RX6")
    lines = page.locator("#changes li")
    expect(lines).to_have_count(3)  # the burst, then the two older changes a day apart
    expect(lines.first).to_contain_text("rank 5 → 5 (30 changes)")
    expect(lines.first).to_contain_text("caused by another trust's data: RYE (OF0082) (20)")
    expect(lines.first).to_contain_text("caused by RX6's own data (OF0082) (10)")


def test_capped_trust_says_why_it_has_no_distance_to_the_next_segment(page: Page):
    open_league(page, "ambulance")
    expect(row(page, "RX8").locator(".distance-cell")).to_have_text("none: held at 3 by the deficit cap")
    expect(row(page, "RYC").locator(".distance-cell")).to_have_text("none: segment 5 is a decision")


def test_segment_change_updates_the_row_and_feed_without_reload(page: Page, twin: PublisherTwin, push, artifacts):
    open_league(page, "ambulance")
    page.evaluate("window.__notReloaded = true")
    expect(row(page, "RX6")).to_have_attribute("data-segment", "2")
    snapshot, events = rx6_falls_to_segment_4(twin)

    assert push("ambulance", snapshot=snapshot, events=events) == 2

    expect(row(page, "RX6")).to_have_attribute("data-segment", "4")
    expect(row(page, "RX6")).to_have_class(re.compile(r"\bseg-4\b"))
    expect(row(page, "RX6").locator(".rank-cell")).to_contain_text("down 4 places from 3")
    expect(row(page, "RX6").locator(".average-cell")).to_have_text("2.75 (2.50–3.00)")
    feed = page.locator("#feed-list li").first
    expect(feed).to_contain_text("RX6")
    expect(feed).to_contain_text("caused by another trust's data: RYE (PRV-AMB-C1)")
    # the debounced re-fetch reconciles the whole table: RYA moved up although no event named it
    expect(row(page, "RYA").locator(".rank-cell")).to_contain_text("up 1 place from 4")
    expect(page.locator(ROWS)).to_have_count(10)
    assert row_order(page)[2:3] == ["RYA"]
    assert page.evaluate("window.__notReloaded") is True
    page.screenshot(path=artifacts / "dashboard-live-twin.png", full_page=True)


def test_event_alone_updates_the_row_and_repeated_moves_are_listed_once(page: Page, push):
    open_league(page, "ambulance")
    alert = cloud_event({"league": "ambulance", "league_version": 41, "trust_code": "RYA",
                         "old": {"segment": 2, "average": "2.33"}, "new": {"segment": 1, "average": "2.05"},
                         "beyond_uncertainty": True, "basis": "ranges",
                         "cause": {"kind": "observation", "input_id": "obs-7", "trust_code": "RYA",
                                   "own_data": True, "metric_id": "OF0084"}}, "segment.improved")

    push("ambulance", events=[alert], sse_event="")  # sent without an `event:` line: reaches onmessage

    expect(row(page, "RYA")).to_have_attribute("data-segment", "1")
    feed = page.locator("#feed-list li")
    expect(feed.first).to_contain_text("caused by RYA's own data (OF0084)")
    expect(feed.first).to_contain_text("beyond the likely range")
    same_move = {**alert, "id": "another-id", "type": "uk.nhs.nof.segment.changed"}
    push("ambulance", events=[same_move])
    page.wait_for_timeout(300)
    expect(feed).to_have_count(1)


def test_an_event_ahead_of_the_snapshot_is_kept_until_the_snapshot_catches_up(page: Page, twin: PublisherTwin, push):
    open_league(page, "ambulance")
    snapshot, events = rx6_falls_to_segment_4(twin)

    push("ambulance", events=events)  # the table behind the event is not readable yet
    expect(row(page, "RX6")).to_have_attribute("data-segment", "4")
    page.wait_for_timeout(700)  # past the debounced re-fetch, which still sees the old version
    expect(row(page, "RX6")).to_have_attribute("data-segment", "4")

    push("ambulance", snapshot=snapshot)  # no event: the page's retry finds it
    expect(row(page, "RYA").locator(".rank-cell")).to_contain_text("up 1 place from 4", timeout=8000)
    expect(page.locator("#league-meta")).to_contain_text("version 42")


def test_tabs_switch_league_with_arrow_keys(page: Page, twin: PublisherTwin):
    page.goto("/")
    acute = page.locator("#tab-acute")
    expect(acute).to_have_attribute("aria-selected", "true")
    expect(page.locator("[role=tablist] [role=tab]")).to_have_count(3)
    expect(page.locator('[role=tab][tabindex="0"]')).to_have_count(1)
    expect(page.locator(ROWS)).to_have_count(4)

    acute.focus()
    page.keyboard.press("ArrowRight")
    mental_health = page.locator("#tab-mental-health-community")
    expect(mental_health).to_be_focused()
    expect(mental_health).to_have_attribute("aria-selected", "true")
    expect(acute).to_have_attribute("tabindex", "-1")
    expect(page.locator("[role=tabpanel]")).to_have_attribute("aria-labelledby", "tab-mental-health-community")
    expect(page.locator("#league-table caption")).to_contain_text("Mental health and community trusts")
    expect(page.locator(ROWS)).to_have_count(3)

    page.keyboard.press("ArrowRight")
    expect(page.locator("#tab-ambulance")).to_be_focused()
    expect(page.locator(ROWS)).to_have_count(10)
    page.keyboard.press("ArrowRight")
    expect(acute).to_be_focused()
    page.keyboard.press("End")
    expect(page.locator("#tab-ambulance")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Home")
    expect(acute).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#tab-ambulance")).to_be_focused()
    expect(page.locator(".connection")).to_have_attribute("data-state", "live")
    assert twin.stream_queries[-1]["league"] == "ambulance"
    assert twin.stream_queries[-1]["type"] == \
        "segment.changed,rank.changed,assessment.changed,segment.worsened,segment.improved"


def test_overflow_reopens_the_stream_and_updates_continue(page: Page, twin: PublisherTwin, push):
    open_league(page, "ambulance")
    opened = len(twin.stream_queries)

    push("ambulance", overflow=True)
    eventually(page, lambda: len(twin.stream_queries) == opened + 1)
    expect(page.locator(".connection")).to_have_attribute("data-state", "live")
    assert twin.stream_queries[-1].get("last_event_id"), "the reopened stream resumes from the last id"

    snapshot, events = rx6_falls_to_segment_4(twin)
    push("ambulance", snapshot=snapshot, events=events)
    expect(row(page, "RX6")).to_have_attribute("data-segment", "4")


def test_dashboard_files_load_nothing_from_outside():
    names = [p.relative_to(STATIC) for p in STATIC.rglob("*") if p.suffix in (".html", ".js", ".css")]
    assert {"index.html", "trust.html", "sensitivity.html", "build/charts.js", "build/nhsuk.css"} <= {str(n) for n in names}
    for name in names:
        text = (STATIC / name).read_text()
        assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text), name
        assert not re.search(r"""(import|url)\s*\(?\s*["']?https?://""", text), name
