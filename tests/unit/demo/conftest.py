"""Shared fixtures: the real register and methodology, and timelines for a few seeds."""

from __future__ import annotations

from functools import lru_cache

import pytest

from nof.demo.generator import GeneratorParams, Timeline, generate
from shared.methodology import get_methodology, load_trust_register


@lru_cache(maxsize=16)
def timeline_for(seed: int = 1, months: int = 3) -> Timeline:
    return generate(load_trust_register(), get_methodology(), GeneratorParams(seed=seed, months=months))


@pytest.fixture(scope="session")
def methodology():
    return get_methodology()


@pytest.fixture(scope="session")
def register():
    return load_trust_register()


@pytest.fixture(scope="session")
def timeline() -> Timeline:
    return timeline_for(1)
