"""The typed Kafka settings become the same security options for kafka-python, aiokafka and faust."""

from __future__ import annotations

import ssl

import pytest

from shared.kafka_security import aiokafka_options, faust_credentials, kafka_python_options
from shared.settings import KafkaSettings


@pytest.fixture
def secured(tmp_path) -> KafkaSettings:
    password = tmp_path / "password"
    password.write_text("pa55word\n")
    return KafkaSettings(bootstrap_servers="kafka.internal:9093", security_protocol="SASL_SSL",
                         sasl_username="scoring", sasl_password_file=password)


def test_plaintext_adds_no_credentials():
    settings = KafkaSettings()
    assert kafka_python_options(settings) == {"security_protocol": "PLAINTEXT"}
    assert aiokafka_options(settings) == {"security_protocol": "PLAINTEXT"}
    assert faust_credentials(settings) is None


def test_sasl_ssl_options_for_kafka_python(secured):
    options = kafka_python_options(secured)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("scoring", "pa55word")
    context = options["ssl_context"]
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname


def test_sasl_ssl_options_for_aiokafka(secured):
    options = aiokafka_options(secured)
    assert {k: options[k] for k in ("security_protocol", "sasl_mechanism", "sasl_plain_username",
                                    "sasl_plain_password")} == {
        "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "scoring", "sasl_plain_password": "pa55word"}
    assert options["ssl_context"].verify_mode is ssl.CERT_REQUIRED


def test_faust_credentials_reach_aiokafka_as_sasl_ssl(secured):
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

    auth = credentials_to_aiokafka_auth(faust_credentials(secured))
    assert auth["security_protocol"] == "SASL_SSL"
    assert auth["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (auth["sasl_plain_username"], auth["sasl_plain_password"]) == ("scoring", "pa55word")
    assert auth["ssl_context"].verify_mode is ssl.CERT_REQUIRED


def test_an_unreadable_ca_file_is_a_settings_error(secured, tmp_path):
    with pytest.raises(ValueError, match="NOF_KAFKA_SSL_CA_FILE"):
        KafkaSettings(**{**secured.model_dump(), "ssl_ca_file": tmp_path / "none.pem"})
