"""JSON log lines with the correlation id, and the one logging configuration every service (faust too) uses."""

from __future__ import annotations

import io
import json
import logging

import pytest

from shared import telemetry
from shared.telemetry import JsonFormatter, configure_logging, correlation_from_headers, kafka_headers, logging_config


def emit(logger: logging.Logger, formatter: logging.Formatter, *args, **kwargs) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    try:
        logger.warning(*args, **kwargs)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_a_line_is_one_json_object_with_the_context_correlation_id():
    token = telemetry.correlation_id.set("cid-from-context")
    try:
        line = emit(logging.getLogger("t.json"), JsonFormatter("svc"), "%s accepted", 3, extra={"trust_code": "RX9"})
    finally:
        telemetry.correlation_id.reset(token)
    assert line.endswith("\n") and line.count("\n") == 1
    entry = json.loads(line)
    assert entry["service"] == "svc" and entry["logger"] == "t.json" and entry["level"] == "warning"
    assert entry["msg"] == "3 accepted" and entry["trust_code"] == "RX9"
    assert entry["correlation_id"] == "cid-from-context"


def test_an_explicit_correlation_id_wins_and_none_is_left_out():
    token = telemetry.correlation_id.set("outer")
    try:
        entry = json.loads(emit(logging.getLogger("t.json"), JsonFormatter("svc"), "x", extra={"correlation_id": "inner"}))
    finally:
        telemetry.correlation_id.reset(token)
    assert entry["correlation_id"] == "inner"
    assert "correlation_id" not in json.loads(emit(logging.getLogger("t.json"), JsonFormatter("svc"), "x"))


def test_uvicorns_coloured_copy_of_the_message_is_dropped():
    entry = json.loads(emit(logging.getLogger("uvicorn.error"), JsonFormatter("svc"), "Started server process [%d]", 7,
                            extra={"color_message": "Started server process [\x1b[36m%d\x1b[0m]"}))
    assert entry["msg"] == "Started server process [7]" and "color_message" not in entry


def test_exceptions_travel_inside_the_json_line():
    try:
        raise ValueError("boom")
    except ValueError:
        line = emit(logging.getLogger("t.json"), JsonFormatter("svc"), "failed", exc_info=True)
    entry = json.loads(line)
    assert line.count("\n") == 1 and "ValueError: boom" in entry["exc"]


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    saved = root.handlers[:], root.level, {n: logging.getLogger(n).level for n in telemetry.NOISY_LOGGERS}
    yield
    root.handlers[:], root.level = saved[0], saved[1]
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


def test_configure_logging_writes_json_lines_to_stderr(restore_logging, capsys):
    configure_logging("ingest", "debug")
    logging.getLogger("services.x").debug("hello", extra={"n": 1})
    logging.getLogger("kafka.conn").info("chatter")  # held at WARNING
    lines = capsys.readouterr().err.splitlines()
    assert [json.loads(line)["msg"] for line in lines] == ["hello"]
    assert json.loads(lines[0])["service"] == "ingest" and json.loads(lines[0])["n"] == 1
    assert logging.getLogger().level == logging.DEBUG and logging.getLogger("kafka").level == logging.WARNING


def test_configure_logging_can_write_plain_text(restore_logging, capsys):
    configure_logging("ingest", "INFO", json_logs=False)
    logging.getLogger("services.x").info("hello")
    assert capsys.readouterr().err.rstrip().endswith("INFO services.x hello")


def test_the_dict_config_is_reusable_and_checks_the_level():
    config = logging_config("scoring", "error")
    assert config["root"]["level"] == logging.ERROR
    assert all(v["level"] == logging.ERROR for v in config["loggers"].values())
    assert config["formatters"]["nof"] == {"()": JsonFormatter, "service": "scoring"}
    with pytest.raises(ValueError, match="unknown log level"):
        logging_config("scoring", "loud")


def test_kafka_headers_carry_the_id_both_ways():
    assert kafka_headers(None) == [] and kafka_headers("") == []
    headers = kafka_headers("abc")
    assert correlation_from_headers(headers) == "abc"
    assert correlation_from_headers(dict(headers)) == "abc"
    assert correlation_from_headers([("other", b"x")]) is None and correlation_from_headers(None) is None
