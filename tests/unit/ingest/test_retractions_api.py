"""POST /v1/retractions: an authorised client withdraws an observation or a flag change; the event travels
on the topic of what it withdraws (an observation retraction after the observation, in its partition)."""

from __future__ import annotations

import pytest

from services.ingest.sink import topic_for
from shared.events import InputRetracted
from shared.topics import OBSERVATIONS, TRUST_STATUS
from tests.unit.ingest.conftest import READER


async def test_an_observation_retraction_follows_the_observation(client, sink):
    sent = await client.post("/v1/observations", json={"observations": [
        {"trust_code": "R0A", "metric_id": "OF0013", "period": "2025-12", "value": 71.5}]})
    (obs_id,) = sent.json()["ids"]
    response = await client.post("/v1/retractions", json={"trust_code": "R0A", "input_id": obs_id,
                                                          "reason": "sent for the wrong trust"})
    assert response.status_code == 202, response.text
    (topic, record), = sink.records[1:]
    assert topic == OBSERVATIONS.name and record.key == sink.records[0][1].key  # same partition, after it
    assert isinstance(record.event, InputRetracted) and record.event.input_id == obs_id
    assert record.event.change_id == response.json()["ids"][0] and record.event.reason == "sent for the wrong trust"


async def test_a_retraction_by_metric_and_period_normalises_the_period(client, sink):
    response = await client.post("/v1/retractions", json={"trust_code": "R0A", "metric_id": "OF0013",
                                                          "period": "Q3 2025/26"})
    assert response.status_code == 202, response.text
    event = sink.records[-1][1].event
    assert (event.metric_id, event.period, event.input_id) == ("OF0013", "2025-26 Q3", None)


async def test_a_flag_retraction_goes_to_the_trust_status_topic(client, sink):
    fin = await client.put("/v1/trusts/R0A/finance", json={"in_deficit": True})
    response = await client.post("/v1/retractions", json={"trust_code": "R0A", "target": "finance",
                                                          "input_id": fin.json()["ids"][0]})
    assert response.status_code == 202
    assert topic_for(sink.records[-1][1]) == TRUST_STATUS.name


@pytest.mark.parametrize(("body", "field"), [
    ({"trust_code": "R0A"}, "input_id"),
    ({"trust_code": "R0A", "target": "finance"}, "input_id"),
    ({"trust_code": "R0A", "input_id": "x", "metric_id": "OF0013", "period": "2025-12"}, "input_id"),
    ({"trust_code": "R0A", "metric_id": "OF0013", "period": "2025-13"}, "period"),
    ({"trust_code": "R0A", "metric_id": "NOPE", "period": "2025-12"}, "metric_id"),
    ({"trust_code": "R0A", "target": "everything", "input_id": "x"}, "target"),
])
async def test_malformed_retractions_are_422_naming_the_field(client, sink, body, field):
    response = await client.post("/v1/retractions", json=body)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert sink.records == []


async def test_retractions_need_their_scope_and_a_known_trust(client, sink):
    lacking = await client.post("/v1/retractions", json={"trust_code": "R0A", "input_id": "x"},
                                headers={"Authorization": f"Bearer {READER}"})
    assert lacking.status_code == 403 and "retractions:write" in lacking.json()["detail"]
    unknown = await client.post("/v1/retractions", json={"trust_code": "NOPE9", "input_id": "x"})
    assert unknown.status_code == 404 and sink.records == []
