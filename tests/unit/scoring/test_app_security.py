"""The scorer's faust app listens where the settings say and reaches Kafka with the service's credentials."""

from __future__ import annotations

from services.scoring.app import create_app
from services.scoring.settings import ScoringSettings
from shared.settings import CommonSettings, KafkaSettings


def test_the_web_server_binds_the_configured_host_not_every_interface():
    app = create_app(ScoringSettings(host="127.0.0.7", port=18002))
    assert app.conf.web_bind == "127.0.0.7"
    assert app.conf.web_port == 18002


def test_the_worker_uses_sasl_ssl_when_the_settings_say_so(tmp_path):
    password = tmp_path / "password"
    password.write_text("pa55word\n")
    kafka = KafkaSettings(security_protocol="SASL_SSL", sasl_username="scoring", sasl_password_file=password)
    app = create_app(ScoringSettings(common=CommonSettings(kafka=kafka)))
    credentials = app.conf.broker_credentials
    assert (credentials.username, credentials.password) == ("scoring", "pa55word")
    assert credentials.protocol.value == "SASL_SSL" and credentials.mechanism.value == "SCRAM-SHA-512"


def test_plaintext_leaves_faust_without_credentials():
    assert create_app(ScoringSettings()).conf.broker_credentials is None
