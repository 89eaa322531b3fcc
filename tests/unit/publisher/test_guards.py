"""SSRF guard on webhook targets, the admin token check, and settings refused in production."""

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from services.publisher.auth import admin_token_hash, check_bearer, local_token, sha256_hex
from services.publisher.errors import ConfigurationError, TargetRefused, Unauthorized
from services.publisher.settings import PublisherSettings
from services.publisher.ssrf import TargetGuard
from shared.settings import CommonSettings, Environment, KafkaSettings, RedisSettings


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9000/hook", "http://10.1.2.3/x", "http://192.168.0.5/", "http://169.254.169.254/latest",
    "http://[::1]/", "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/", "ftp://203.0.113.9/", "http://user:pw@8.8.8.8/",
    "http:///nohost",
])
async def test_refuses_private_loopback_and_odd_urls(url):
    with pytest.raises(TargetRefused):
        await TargetGuard().check(url)


async def test_public_literal_is_accepted_and_allowances_work():
    await TargetGuard().check("https://8.8.8.8/hook")
    await TargetGuard(allow_private=True).check("http://127.0.0.1:9000/hook")
    await TargetGuard(allowlist=["10.0.0.0/8"]).check("http://10.1.2.3/x")
    await TargetGuard(allowlist=["hooks.internal"]).check("http://hooks.internal/x")
    with pytest.raises(TargetRefused):
        await TargetGuard(allowlist=["10.0.0.0/8"]).check("http://192.168.1.1/x")


def test_bearer_token_is_checked_against_its_hash():
    expected = sha256_hex("s3cret")
    check_bearer("Bearer s3cret", expected)
    for bad in (None, "", "Bearer", "Basic s3cret", "Bearer nope"):
        with pytest.raises(Unauthorized):
            check_bearer(bad, expected)


def test_local_token_file_is_created_once(tmp_path):
    token = local_token(tmp_path)
    assert local_token(tmp_path) == token and len(token) > 30
    assert (tmp_path / "publisher-admin-token").stat().st_mode & 0o777 == 0o600
    s = PublisherSettings(common=CommonSettings(local_dir=tmp_path))
    assert admin_token_hash(s) == sha256_hex(token)


def test_production_refuses_unsafe_settings(tmp_path):
    password = tmp_path / "kafka-password"
    password.write_text("secret\n")
    common = CommonSettings(environment=Environment.production, redis=RedisSettings(url="redis://redis:6379/0"),
                            kafka=KafkaSettings(bootstrap_servers="kafka:9093", security_protocol="SASL_SSL",
                                                sasl_username="publisher", sasl_password_file=password))
    with pytest.raises(ValidationError, match="ADMIN_TOKEN_SHA256"):
        PublisherSettings(common=common)
    with pytest.raises(ValidationError, match="NOF_PUBLISHER_SECRETS_KEYS is required"):
        PublisherSettings(common=common, admin_token_sha256="a" * 64)
    key = Fernet.generate_key().decode()
    with pytest.raises(ValidationError, match="ALLOW_PRIVATE_TARGETS"):
        PublisherSettings(common=common, admin_token_sha256="a" * 64, secrets_keys=key,
                          webhook_allow_private_targets=True)
    ok = PublisherSettings(common=common, admin_token_sha256="A" * 64, secrets_keys=key)
    assert admin_token_hash(ok) == "a" * 64
    with pytest.raises(ConfigurationError):
        admin_token_hash(ok.model_copy(update={"admin_token_sha256": None}))


@pytest.mark.parametrize("allowlist", ["0.0.0.0/0", "10.0.0.0/8, ::/0", "0.0.0.0/0,hooks.internal"])
def test_production_refuses_an_allowlist_of_every_address(tmp_path, allowlist):
    password = tmp_path / "kafka-password"
    password.write_text("secret\n")
    common = CommonSettings(environment=Environment.production, redis=RedisSettings(url="redis://redis:6379/0"),
                            kafka=KafkaSettings(bootstrap_servers="kafka:9093", security_protocol="SASL_SSL",
                                                sasl_username="publisher", sasl_password_file=password))
    fine = dict(common=common, admin_token_sha256="a" * 64, secrets_keys=Fernet.generate_key().decode())
    with pytest.raises(ValidationError, match="allows every address"):
        PublisherSettings(**fine, webhook_allowlist=allowlist)
    assert PublisherSettings(**fine, webhook_allowlist="10.20.0.0/16,hooks.internal").allowlist
