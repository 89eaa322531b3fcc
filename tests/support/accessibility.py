"""axe-core (the npm package the dashboard's front-end installs) run in a Playwright page: WCAG 2.2 A/AA rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "services" / "publisher" / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """The page's violations of WCAG 2.2 A/AA rules, each as {id, impact, help, nodes: [target, summary]}."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: `make install` installs the dashboard's front-end packages")
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("""async (tags) => {
        const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => [n.target.join(' '), n.failureSummary]) }));
    }""", WCAG_TAGS)
    return result


def no_scroll_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than its viewport (0: no horizontal scroll)."""
    return page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth")
