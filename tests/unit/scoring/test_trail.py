"""The scorer's log trail: one JSON line per correlation id per batch, and faust logs JSON too."""

from __future__ import annotations

import io
import json
import logging

from services.scoring.trail import InputTrail
from shared.telemetry import JsonFormatter, kafka_headers, logging_config


def trail_with_output() -> tuple[InputTrail, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("scoring"))
    logger = logging.Logger("test.trail", logging.INFO)
    logger.addHandler(handler)
    return InputTrail(logger), stream


def test_one_line_per_correlation_id_with_counts_and_offsets():
    trail, out = trail_with_output()
    for offset in (4, 5, 6):
        trail.note(kafka_headers("req-a"), "obs", 1, offset)
    trail.note(kafka_headers("req-b"), "obs", 2, 9)
    trail.note(dict(kafka_headers("req-a")), "status", 1, 0)
    trail.note([], "obs", 0, 3)  # produced without the header: no id to follow
    handled = trail.take()
    assert trail.pending == {}
    trail.emit(handled)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(e.get("correlation_id"), e["inputs"]) for e in lines] == [("req-a", 4), ("req-b", 1), (None, 1)]
    assert lines[0]["offsets"] == {"obs:1": [4, 6], "status:1": [0, 0]}
    assert all(e["msg"] == "inputs handled" and e["service"] == "scoring" for e in lines)


def test_nothing_noted_nothing_logged():
    trail, out = trail_with_output()
    trail.emit(trail.take())
    assert out.getvalue() == ""


def test_the_faust_app_installs_the_services_json_logging():
    from services.scoring.app import create_app
    from services.scoring.settings import ScoringSettings

    settings = ScoringSettings()
    app = create_app(settings)
    assert app.conf.logging_config == logging_config("scoring", settings.common.log_level, settings.common.log_json)
