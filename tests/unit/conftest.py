"""Unit tests see default settings, whatever the stack scripts exported into the environment, in an
environment explicitly named ``test`` (as `make test` runs them), so local credentials may be made."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _default_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("NOF_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NOF_ENVIRONMENT", "test")
