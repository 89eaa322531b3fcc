"""Test tiers by folder: every test under tests/integration, tests/faults and tests/e2e is marked by its tier."""

from __future__ import annotations

from pathlib import Path

import pytest

TIERS = {"integration": pytest.mark.integration, "e2e": pytest.mark.e2e, "faults": pytest.mark.faults}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).parts
        for tier, mark in TIERS.items():
            if tier in parts:
                item.add_marker(mark)
