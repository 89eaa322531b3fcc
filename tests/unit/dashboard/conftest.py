"""Browser fixtures: the publisher twin on a free port, headless Chromium (Debian's), one clean page per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.unit.dashboard.publisher_twin import ROOT, PublisherTwin, serve

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def twin() -> PublisherTwin:
    return PublisherTwin()


@pytest.fixture(scope="session")
def twin_url(twin: PublisherTwin) -> Iterator[str]:
    with serve(twin) as url:
        yield url


@pytest.fixture(scope="module")
def browser(twin_url: str) -> Iterator[Browser]:
    # Module scope: Playwright's sync API holds an event loop in this thread while it runs, which would
    # break the asyncio tests collected after this folder. Requesting twin_url first makes the browser
    # close before the server stops (no dangling streams).
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: the dashboard tests need Debian's `chromium` package "
                    "(`make install` installs it). They fail rather than skip so a missing browser is noticed.")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


class Push:
    """Pushes a league snapshot and CloudEvents through the twin, as the publisher would after scoring."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def __call__(self, league: str, **body) -> int:
        answer = httpx.post(f"{self.base_url}/_twin/push", json={"league": league, **body}, timeout=5)
        answer.raise_for_status()
        return answer.json()["delivered"]


@pytest.fixture
def push(twin_url: str) -> Push:
    return Push(twin_url)


@pytest.fixture
def page(browser: Browser, twin: PublisherTwin, twin_url: str) -> Iterator[Page]:
    """A fresh page on fresh fixtures; fails the test on script errors or any request leaving 127.0.0.1."""
    twin.reset()
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, base_url=twin_url)
    outside: list[str] = []
    errors: list[str] = []

    def only_local(route, request) -> None:
        if urlsplit(request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()
    assert not outside, f"the dashboard requested resources outside the server: {outside}"
    assert not errors, f"the page logged errors: {errors}"
