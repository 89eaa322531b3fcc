"""The dashboard's pages against the publisher twin: accessibility (axe-core, WCAG 2.2 A/AA), no horizontal scroll
at 360 px, the sensitivity view, the feed's uncertainty labels, "Find a trust" and the downloads."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import Page, expect

from tests.support.accessibility import axe_violations, no_scroll_overflow
from tests.unit.dashboard.test_dashboard import ROWS, cloud_event, open_league, row

PAGES = {"league": "/#ambulance", "trust": "/trusts/RX6", "sensitivity": "/leagues/ambulance/sensitivity"}
READY = {"league": "#caterpillar svg[role=img]", "trust": "#spine svg[role=img]", "sensitivity": "#sensitivity svg[role=img]"}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_no_wcag_violations(page: Page, name: str):
    page.goto(PAGES[name])
    expect(page.locator(READY[name])).to_be_visible()
    violations = axe_violations(page)
    assert violations == [], "\n".join(f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes'][:3]}" for v in violations)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_no_horizontal_scroll_at_360_px(page: Page, name: str, artifacts):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(PAGES[name])
    expect(page.locator(READY[name])).to_be_visible()
    page.wait_for_timeout(200)  # the chart is drawn again for the narrow width
    assert no_scroll_overflow(page) <= 0, f"the {name} page scrolls sideways at 360 px"
    page.screenshot(path=artifacts / f"dashboard-{name}-360.png", full_page=True)


def test_sensitivity_view_shows_each_trusts_span_with_a_plain_sentence(page: Page, artifacts):
    page.goto(PAGES["sensitivity"])
    expect(page.locator("#page-title")).to_contain_text("Ambulance trusts")
    expect(page.locator("#sensitivity-sentence")).to_contain_text("get a different rank under at least one of the 5 methods")
    expect(page.locator("#sensitivity table tbody tr")).to_have_count(10)
    rx8 = page.locator("#sensitivity table tbody tr", has_text="RX8")
    expect(rx8.locator("td").last).to_have_text("2")  # capped: rank 5 published, 3 without the cap
    expect(page.locator(".nhsuk-summary-list")).to_contain_text("nof-2025-26+no-cap")
    page.screenshot(path=artifacts / "dashboard-sensitivity.png", full_page=True)


def test_a_move_within_the_range_is_labelled_and_can_be_hidden(page: Page, push):
    open_league(page, "ambulance")
    within = cloud_event({"league": "ambulance", "league_version": 42, "trust_code": "RX6",
                          "old": {"segment": 2, "average": "2.33", "average_range": ["2.10", "2.60"]},
                          "new": {"segment": 3, "average": "2.37", "average_range": ["2.12", "2.62"]},
                          "cause": {"kind": "observation", "trust_code": "RX6", "own_data": True}}, "segment.changed")
    beyond = cloud_event({"league": "ambulance", "league_version": 43, "trust_code": "RYA",
                          "old": {"segment": 2, "average": "2.33", "average_range": ["2.20", "2.40"]},
                          "new": {"segment": 4, "average": "3.10", "average_range": ["2.90", "3.30"]},
                          "cause": {"kind": "observation", "trust_code": "RYA", "own_data": True}}, "segment.changed")
    push("ambulance", events=[within, beyond])

    feed = page.locator("#feed-list li")
    expect(feed).to_have_count(2)
    expect(page.locator('#feed-list li[data-trust="RX6"]')).to_contain_text("within the likely range")
    expect(page.locator('#feed-list li[data-trust="RYA"]')).to_contain_text("beyond the likely range")
    page.locator("#hide-within").check()
    expect(page.locator('#feed-list li[data-trust="RX6"]')).to_be_hidden()
    expect(page.locator('#feed-list li[data-trust="RYA"]')).to_be_visible()


def test_the_alert_decides_the_label_when_it_follows_its_segment_change(page: Page, push):
    open_league(page, "ambulance")
    change = cloud_event({"league": "ambulance", "league_version": 42, "trust_code": "RX6",
                          "old": {"segment": 2, "average": "2.33", "average_range": ["2.10", "2.60"]},
                          "new": {"segment": 3, "average": "2.37", "average_range": ["2.12", "2.62"]},
                          "cause": {"kind": "observation", "trust_code": "RX6", "own_data": True}}, "segment.changed")
    alert = cloud_event({"league": "ambulance", "league_version": 42, "trust_code": "RX6", "alert_id": "a-1",
                         "old_segment": 2, "new_segment": 3, "beyond_uncertainty": True, "basis": "threshold",
                         "cause": {"kind": "observation", "trust_code": "RX6", "own_data": True}}, "segment.worsened")
    push("ambulance", events=[change])
    item = page.locator('#feed-list li[data-trust="RX6"]')
    expect(item).to_contain_text("within the likely range")
    push("ambulance", events=[alert])
    expect(item).to_contain_text("beyond the likely range")
    expect(page.locator("#feed-list li")).to_have_count(1)


def test_find_a_trust_filters_the_table_and_links_to_trust_pages(page: Page):
    open_league(page, "ambulance")
    page.locator("#trust-search").fill("london")
    expect(page.locator(ROWS)).to_have_count(1)
    expect(row(page, "RRU")).to_be_visible()
    link = page.locator("#trust-results a", has_text="RRU")
    expect(link).to_have_attribute("href", "/trusts/RRU")
    page.locator("#trust-search").fill("")
    page.locator("#region-filter").select_option("North East and Yorkshire")
    expect(page.locator(ROWS)).to_have_count(2)  # RX6 and RX8
    page.locator("#trust-search").fill("RX8")
    page.keyboard.press("Enter")
    expect(page).to_have_url(__import__("re").compile(r"/trusts/RX8$"))


def test_the_table_downloads_as_csv_in_the_league_table_layout(page: Page):
    open_league(page, "ambulance")
    with page.expect_download() as caught:
        page.locator("#download-csv").click()
    text = caught.value.path().read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0])[:10] == ["Region", "Trust_type", "Trust_subtype", "Trust_code", "Trust_name", "Quarter",
                                  "Average_score", "Segment", "Trust_in_financial_deficit", "Rank"]
    rx8 = next(r for r in rows if r["Trust_code"] == "RX8")
    assert (rx8["Segment"], rx8["Trust_in_financial_deficit"], rx8["Capped"], rx8["Rank"]) == ("3", "Yes", "Yes", "5")
    assert rx8["Average_score_likely_low"] and rx8["Unadjusted_rank"] == "3"
    assert len(rows) == 10


@pytest.mark.parametrize("kind", ["svg", "png"])
def test_the_chart_downloads(page: Page, kind: str):
    open_league(page, "ambulance")
    expect(page.locator(READY["league"])).to_be_visible()
    with page.expect_download() as caught:
        page.locator(f'#caterpillar button[data-download="{kind}"]').click()
    data = caught.value.path().read_bytes()
    assert caught.value.suggested_filename == f"nof-ambulance-caterpillar.{kind}"
    assert data.startswith(b"<svg") if kind == "svg" else data.startswith(b"\x89PNG")


def test_the_caterpillar_chart_moves_as_changes_arrive(page: Page, twin, push):
    from tests.unit.dashboard.test_dashboard import rx6_falls_to_segment_4

    open_league(page, "ambulance")
    titles = page.locator("#caterpillar svg[role=img] title")
    expect(titles.filter(has_text="RX6: average 2.17")).to_have_count(1)
    snapshot, events = rx6_falls_to_segment_4(twin)

    push("ambulance", snapshot=snapshot, events=events)

    expect(titles.filter(has_text="RX6: average 2.75 (likely 2.50–3.00), segment 4")).to_have_count(1)
    expect(titles.filter(has_text="RX6: average 2.17")).to_have_count(0)
    expect(page.locator("#caterpillar-summary")).to_contain_text("of 9 trusts have a likely range that overlaps")


def test_each_chart_is_reached_from_the_keyboard_and_described_in_words(page: Page):
    page.goto(PAGES["trust"])
    expect(page.locator(READY["trust"])).to_be_visible()
    for chart in ("spine", "history"):
        svg = page.locator(f"#{chart} svg[role=img]")
        svg.focus()
        expect(svg).to_be_focused()
        expect(svg).to_have_attribute("tabindex", "0")
        expect(svg).to_have_attribute("aria-describedby", f"{chart}-summary")
        assert svg.get_attribute("aria-label")
        assert page.locator(f"#{chart}-summary").inner_text().strip()
