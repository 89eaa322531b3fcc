"""Kafka client security options from the typed settings: one place for kafka-python, aiokafka and faust.

Every Kafka client in the system is built with these options, so a broker that requires SASL_SSL
(SCRAM over TLS) is reached the same way by ingest, the CLI, the admin step, the scorer and the
publisher. With ``PLAINTEXT`` (local development only; production refuses it) the options are empty.
"""

from __future__ import annotations

import ssl
from typing import Any

from faust.auth import SASLCredentials

from shared.settings import KafkaSettings


def ssl_context(settings: KafkaSettings) -> ssl.SSLContext:
    """Verifies the broker's certificate and host name against the CA file (or the system's trust store)."""
    cafile = str(settings.ssl_ca_file) if settings.ssl_ca_file else None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _password(settings: KafkaSettings) -> str:
    secret = settings.sasl_password
    if secret is None:  # the settings validator makes this unreachable for SASL_SSL
        raise ValueError("NOF_KAFKA_SASL_PASSWORD_FILE is required for SASL_SSL")
    return secret.get_secret_value()


def aiokafka_options(settings: KafkaSettings) -> dict[str, Any]:
    """Keyword arguments for aiokafka's AIOKafkaProducer and AIOKafkaConsumer."""
    if settings.security_protocol == "PLAINTEXT":
        return {"security_protocol": "PLAINTEXT"}
    return {
        "security_protocol": settings.security_protocol,
        "sasl_mechanism": settings.sasl_mechanism,
        "sasl_plain_username": settings.sasl_username,
        "sasl_plain_password": _password(settings),
        "ssl_context": ssl_context(settings),
    }


def kafka_python_options(settings: KafkaSettings) -> dict[str, Any]:
    """Keyword arguments for kafka-python's KafkaProducer, KafkaConsumer and KafkaAdminClient: aiokafka's,
    and kafka-python checks the broker's host name only when told to."""
    options = aiokafka_options(settings)
    if settings.security_protocol != "PLAINTEXT":
        options["ssl_check_hostname"] = True
    return options


def faust_credentials(settings: KafkaSettings) -> SASLCredentials | None:
    """``faust.App(broker_credentials=…)``: faust hands these to aiokafka as the options above."""
    if settings.security_protocol == "PLAINTEXT":
        return None
    return SASLCredentials(username=settings.sasl_username, password=_password(settings),
                           ssl_context=ssl_context(settings), mechanism=settings.sasl_mechanism)
