"""Fuzz fixtures: each service in-process over its in-memory twins, one app per test module.

An app is shared by the examples of a module (Hypothesis runs many examples per test, and function-scoped
fixtures are not reset between them), so every test compares what was written before and after each request.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.fuzz.support import ADMIN, WRITER, Client, Ingest, Publisher, build_ingest, build_publisher


@pytest.fixture(scope="session", autouse=True)
def _default_settings() -> Iterator[None]:
    """Default settings, whatever the stack scripts exported into the environment (as in tests/unit)."""
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("NOF_"):
                mp.delenv(name)
        mp.setenv("NOF_ENVIRONMENT", "test")  # explicit, as `make test` runs it: local credentials allowed
        yield


@pytest.fixture(scope="module")
def ingest() -> Iterator[Ingest]:
    app, sink = build_ingest()
    client = Client(app, "http://ingest", {"Authorization": f"Bearer {WRITER}"})
    yield Ingest(client=client, sink=sink, settings=app.state.ingest.settings)
    client.close()


@pytest.fixture(scope="module")
def publisher() -> Iterator[Publisher]:
    app, store, event_log = build_publisher()
    client = Client(app, "http://publisher", {"Authorization": f"Bearer {ADMIN}"})
    yield Publisher(client=client, store=store, event_log=event_log)
    client.close()
