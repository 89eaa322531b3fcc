"""Each accepted request is logged once, as JSON, with its correlation id (the client's X-Correlation-ID or a new one)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from shared.telemetry import JsonFormatter


@pytest.fixture
def logged():
    """The route module's log lines so far, parsed (formatted when logged, in the request's context)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("ingest"))
    logger = logging.getLogger("services.ingest.routes")
    saved = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(saved)


OBS = {"trust_code": "R0A", "metric_id": "OF0013", "period": "2025-12", "value": 71.5}


async def test_the_clients_correlation_id_is_on_the_accepted_line_and_the_records(client, sink, logged):
    r = await client.post("/v1/observations", json={"observations": [OBS, {**OBS, "value": 70}]},
                          headers={"X-Correlation-ID": "client-chosen-1"})
    assert r.status_code == 202 and r.json()["correlation_id"] == "client-chosen-1"
    assert {rec.event.correlation_id for _, rec in sink.records} == {"client-chosen-1"}
    (line,) = logged()
    assert (line["msg"], line["accepted"], line["correlation_id"]) == ("observations accepted", 2, "client-chosen-1")


async def test_without_a_header_a_new_id_is_made_and_logged(client, logged):
    r = await client.put("/v1/trusts/R0A/finance", json={"in_deficit": True})
    assert r.status_code == 202
    (line,) = logged()
    assert line["msg"] == "finance status accepted" and line["trust_code"] == "R0A"
    assert line["correlation_id"] == r.json()["correlation_id"] and len(line["correlation_id"]) == 32
