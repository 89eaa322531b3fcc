"""Telemetry shared by every service: structured JSON logs with a correlation id, Prometheus exposition."""

from __future__ import annotations

import contextvars
import json
import logging
import logging.config
import time
import uuid
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

#: Follows one observation (or request) from ingest through scoring to delivery.
correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)

#: Where the id travels: the HTTP header a client may send to ingest and that webhook deliveries carry,
#: and the header of every input record on Kafka (the record's JSON carries it too).
HTTP_HEADER = "X-Correlation-ID"
KAFKA_HEADER = "correlation_id"


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def kafka_headers(cid: str | None) -> list[tuple[str, bytes]]:
    """The Kafka record headers that carry a correlation id (none when there is no id)."""
    return [(KAFKA_HEADER, cid.encode())] if cid else []


def correlation_from_headers(headers: Any) -> str | None:
    """The correlation id in Kafka record headers (a list of (key, value) pairs or a mapping), if any."""
    if not headers:
        return None
    pairs = headers.items() if hasattr(headers, "items") else headers
    for key, value in pairs:
        if key == KAFKA_HEADER:
            return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    return None


#: Loggers that are chatty at INFO: held at WARNING (or the service's level, if higher).
NOISY_LOGGERS = ("kafka", "aiokafka", "uvicorn.access")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, service, logger, message, correlation id, extra fields.

    The correlation id is the record's own ``correlation_id`` (``extra={"correlation_id": …}``), else the
    ``correlation_id`` context variable of the code that logged. uvicorn's ``color_message`` (the message
    again, with terminal colours) is left out.
    """

    _skip = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "color_message"}

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        cid = getattr(record, "correlation_id", None) or correlation_id.get()
        if cid:
            entry["correlation_id"] = cid
        for key, value in record.__dict__.items():
            if key not in self._skip and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def logging_config(service: str, level: str = "INFO", json_logs: bool = True) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` form of every service's logging: one handler on stderr, JSON lines
    (or plain text when ``json_logs`` is false), the noisy client libraries held at WARNING.

    The scorer hands it to faust (``faust.App(logging_config=…)``), whose worker would otherwise install
    its own text format when it starts; the other services apply it with ``configure_logging``.
    """
    root = logging.getLevelName(level.upper())
    if not isinstance(root, int):
        raise ValueError(f"unknown log level {level!r}")
    formatter: dict[str, Any] = (
        {"()": JsonFormatter, "service": service} if json_logs
        else {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"nof": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "nof"}},
        "root": {"level": root, "handlers": ["stderr"]},
        "loggers": {name: {"level": max(logging.WARNING, root)} for name in NOISY_LOGGERS},
    }


def configure_logging(service: str, level: str = "INFO", json_logs: bool = True) -> None:
    logging.config.dictConfig(logging_config(service, level, json_logs))


def metrics_payload(registry: CollectorRegistry = REGISTRY) -> tuple[bytes, str]:
    """The Prometheus text exposition and its content type."""
    return generate_latest(registry), CONTENT_TYPE_LATEST
