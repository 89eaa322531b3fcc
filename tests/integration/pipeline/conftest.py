"""A fresh isolated ingest + scoring pipeline per test module."""

from __future__ import annotations

import pytest

from tests.support.pipeline import Pipeline


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    p = Pipeline(tmp_path_factory.mktemp("pipeline"))
    p.declare_topics()
    p.start("ingest")
    p.start("scoring")
    yield p
    p.cleanup()
