"""Settings are typed and refuse unsafe values in production."""

import pytest
from pydantic import ValidationError

from services.ingest.settings import IngestSettings
from services.publisher.auth import admin_token_hash
from services.publisher.secret_box import secret_box
from services.publisher.settings import PublisherSettings
from shared.settings import CommonSettings, CredentialsRefused, Environment


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


def _secret(tmp_path, text="s3cret\n"):
    path = tmp_path / "password"
    path.write_text(text)
    return path


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.1.2.3", "[::1]", "LOCALHOST", "[::ffff:127.0.0.1]"])
def test_production_refuses_every_loopback_form_for_kafka(monkeypatch, tmp_path, host):
    monkeypatch.setenv("NOF_ENVIRONMENT", "production")
    monkeypatch.setenv("NOF_REDIS_URL", "redis://redis.internal:6379/0")
    monkeypatch.setenv("NOF_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("NOF_KAFKA_SASL_USERNAME", "ingest")
    monkeypatch.setenv("NOF_KAFKA_SASL_PASSWORD_FILE", str(_secret(tmp_path)))
    monkeypatch.setenv("NOF_KAFKA_BOOTSTRAP_SERVERS", f"kafka-0.internal:9093,{host}:9093")
    with pytest.raises(ValidationError, match="loopback broker"):
        CommonSettings()


@pytest.mark.parametrize("url", ["redis://localhost:6379/0", "redis://127.0.0.2/0", "redis://[::1]:6379/0"])
def test_production_refuses_a_loopback_redis(monkeypatch, tmp_path, url):
    monkeypatch.setenv("NOF_ENVIRONMENT", "production")
    monkeypatch.setenv("NOF_KAFKA_BOOTSTRAP_SERVERS", "kafka.internal:9093")
    monkeypatch.setenv("NOF_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("NOF_KAFKA_SASL_USERNAME", "ingest")
    monkeypatch.setenv("NOF_KAFKA_SASL_PASSWORD_FILE", str(_secret(tmp_path)))
    monkeypatch.setenv("NOF_REDIS_URL", url)
    with pytest.raises(ValidationError, match="NOF_REDIS_URL points at a loopback Redis"):
        CommonSettings()


def test_production_refuses_plaintext_kafka(monkeypatch):
    monkeypatch.setenv("NOF_ENVIRONMENT", "production")
    monkeypatch.setenv("NOF_KAFKA_BOOTSTRAP_SERVERS", "kafka.internal:9092")
    monkeypatch.setenv("NOF_REDIS_URL", "redis://redis.internal:6379/0")
    with pytest.raises(ValidationError, match="NOF_KAFKA_SECURITY_PROTOCOL is PLAINTEXT in production"):
        CommonSettings()


def test_production_accepts_sasl_ssl_to_remote_infrastructure(monkeypatch, tmp_path):
    monkeypatch.setenv("NOF_ENVIRONMENT", "production")
    monkeypatch.setenv("NOF_KAFKA_BOOTSTRAP_SERVERS", "kafka-0.internal:9093,kafka-1.internal:9093")
    monkeypatch.setenv("NOF_REDIS_URL", "rediss://redis.internal:6380/0")
    monkeypatch.setenv("NOF_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("NOF_KAFKA_SASL_USERNAME", "ingest")
    monkeypatch.setenv("NOF_KAFKA_SASL_PASSWORD_FILE", str(_secret(tmp_path)))
    settings = CommonSettings()
    assert settings.kafka.sasl_password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


def test_sasl_ssl_names_each_missing_credential(monkeypatch, tmp_path):
    monkeypatch.setenv("NOF_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    with pytest.raises(ValidationError, match="NOF_KAFKA_SASL_USERNAME is required"):
        CommonSettings()
    monkeypatch.setenv("NOF_KAFKA_SASL_USERNAME", "ingest")
    with pytest.raises(ValidationError, match="NOF_KAFKA_SASL_PASSWORD_FILE is required"):
        CommonSettings()
    monkeypatch.setenv("NOF_KAFKA_SASL_PASSWORD_FILE", str(_secret(tmp_path, "  \n")))
    with pytest.raises(ValidationError, match="NOF_KAFKA_SASL_PASSWORD_FILE: .* missing, unreadable or empty"):
        CommonSettings()
    monkeypatch.setenv("NOF_KAFKA_SASL_PASSWORD_FILE", str(_secret(tmp_path)))
    monkeypatch.setenv("NOF_KAFKA_SSL_CA_FILE", str(tmp_path / "absent.pem"))
    with pytest.raises(ValidationError, match="NOF_KAFKA_SSL_CA_FILE: .* missing"):
        CommonSettings()


def test_min_insync_replicas_cannot_exceed_the_replication_factor(monkeypatch):
    monkeypatch.setenv("NOF_KAFKA_REPLICATION_FACTOR", "3")
    monkeypatch.setenv("NOF_KAFKA_MIN_INSYNC_REPLICAS", "2")
    kafka = CommonSettings().kafka
    assert (kafka.replication_factor, kafka.min_insync_replicas) == (3, 2)
    monkeypatch.setenv("NOF_KAFKA_MIN_INSYNC_REPLICAS", "4")
    with pytest.raises(ValidationError, match="NOF_KAFKA_MIN_INSYNC_REPLICAS"):
        CommonSettings()


def test_local_credentials_need_an_explicit_development_or_test_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("NOF_ENVIRONMENT", raising=False)  # a server where nobody said what it is
    monkeypatch.setenv("NOF_LOCAL_DIR", str(tmp_path))
    with pytest.raises(CredentialsRefused, match="NOF_ENVIRONMENT is unset.*NOF_INGEST_API_KEYS"):
        IngestSettings().key_ring()
    with pytest.raises(CredentialsRefused, match="NOF_ENVIRONMENT is unset.*ADMIN_TOKEN"):
        admin_token_hash(PublisherSettings())
    with pytest.raises(CredentialsRefused, match="NOF_ENVIRONMENT is unset.*SECRETS_KEYS"):
        secret_box(PublisherSettings())
    assert list(tmp_path.iterdir()) == []  # nothing was made
    monkeypatch.setenv("NOF_ENVIRONMENT", "development")
    assert IngestSettings().key_ring().keys and admin_token_hash(PublisherSettings())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ingest-dev-key", "publisher-admin-token"]
