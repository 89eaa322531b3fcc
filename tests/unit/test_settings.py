"""Settings are typed and refuse unsafe values in production."""

import pytest
from pydantic import ValidationError

from shared.settings import CommonSettings, Environment


def test_development_defaults_point_at_the_local_stack(monkeypatch):
    monkeypatch.delenv("NOF_KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("NOF_ENVIRONMENT", raising=False)
    settings = CommonSettings()
    assert settings.environment is Environment.development
    assert settings.kafka.bootstrap_list == ["127.0.0.1:9092"]


def test_production_refuses_a_loopback_broker(monkeypatch):
    monkeypatch.setenv("NOF_ENVIRONMENT", "production")
    monkeypatch.setenv("NOF_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    with pytest.raises(ValidationError, match="loopback broker"):
        CommonSettings()


def test_bootstrap_list_splits_and_trims(monkeypatch):
    monkeypatch.setenv("NOF_KAFKA_BOOTSTRAP_SERVERS", " a:1, b:2 ,")
    assert CommonSettings().kafka.bootstrap_list == ["a:1", "b:2"]
