"""POST /v1/observations: validation names index, field and reason; batches are all or nothing."""

from __future__ import annotations

from tests.unit.ingest.conftest import READER


def obs(**overrides):
    item = {"trust_code": "R0A", "metric_id": "OF0013", "period": "2025-12", "value": 71.5}
    item.update(overrides)
    return item


async def test_a_valid_batch_is_published_keyed_by_league(client, sink):
    response = await client.post("/v1/observations", json={"observations": [obs(), obs(trust_code="RYF", metric_id="OF0082", value=5.1)]})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["accepted"] == 2 and len(body["ids"]) == 2
    assert [(topic, r.key) for topic, r in sink.records] == [
        ("nof.observations.v1", "acute"), ("nof.observations.v1", "ambulance")]
    event = sink.records[0][1].event
    assert event.trust.trust_type == "Acute trust" and event.correlation_id == body["correlation_id"]


async def test_derived_ids_are_stable_and_explicit_ids_are_kept(client, sink):
    first = (await client.post("/v1/observations", json={"observations": [obs()]})).json()["ids"]
    again = (await client.post("/v1/observations", json={"observations": [obs()]})).json()["ids"]
    revised = (await client.post("/v1/observations", json={"observations": [obs(value=72.0)]})).json()["ids"]
    explicit = (await client.post("/v1/observations", json={"observations": [obs(observation_id="mine-1")]})).json()["ids"]
    assert first == again and first != revised
    assert explicit == ["mine-1"]


async def test_quarter_spellings_are_normalised(client, sink):
    await client.post("/v1/observations", json={"observations": [obs(period="Q3 2025/26"), obs(period="2025-26 Q3")]})
    assert {r.event.period for _, r in sink.records} == {"2025-26 Q3"}


async def test_every_bad_item_is_reported_and_nothing_is_published(client, sink):
    response = await client.post("/v1/observations", json={"observations": [
        obs(),
        obs(trust_code="ZZZ"),
        obs(metric_id="OF9999"),
        obs(value=101.0),
        obs(period="2025-13"),
        obs(metric_id="OF0063"),
    ]})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [
        (1, "trust_code"), (2, "metric_id"), (3, "value"), (4, "period"), (5, "metric_id")]
    assert "unknown trust 'ZZZ'" in errors[0]["reason"]
    assert "outside" in errors[2]["reason"]
    assert sink.records == []


async def test_wrong_types_and_non_finite_values_are_rejected_by_field(client, sink):
    response = await client.post("/v1/observations", json={"observations": [obs(value="71.5"), obs(value=True)]})
    assert response.status_code == 422
    assert [(e["index"], e["field"]) for e in response.json()["errors"]] == [(0, "value"), (1, "value")]
    nan = await client.post("/v1/observations", content=b'{"observations":[{"trust_code":"R0A","metric_id":"OF0013",'
                            b'"period":"2025-12","value":NaN}]}', headers={"Content-Type": "application/json"})
    assert nan.status_code == 422 and nan.json()["errors"][0]["field"] == "value"
    assert sink.records == []


async def test_oversized_batches_and_bodies_are_refused(client, sink):
    too_many = await client.post("/v1/observations", json={"observations": [obs(observation_id=str(i)) for i in range(51)]})
    assert too_many.status_code == 422 and "at most 50" in too_many.json()["errors"][0]["reason"]
    huge = await client.post("/v1/observations", json={"observations": [obs(source="x" * 100)] * 40 + [{"pad": "y" * 70000}]})
    assert huge.status_code == 413
    assert sink.records == []


async def test_credentials_are_required_and_scoped(client, sink):
    missing = await client.post("/v1/observations", json={"observations": [obs()]}, headers={"Authorization": ""})
    wrong = await client.post("/v1/observations", json={"observations": [obs()]}, headers={"Authorization": "Bearer nope"})
    lacking = await client.post("/v1/observations", json={"observations": [obs()]},
                                headers={"Authorization": f"Bearer {READER}"})
    assert (missing.status_code, wrong.status_code, lacking.status_code) == (401, 401, 403)
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert "observations:write" in lacking.json()["detail"]
    assert sink.records == []


async def test_kafka_down_answers_503_with_retry_after_and_accepts_after_it_returns(client, sink):
    sink.down = True
    down = await client.post("/v1/observations", json={"observations": [obs()]})
    assert down.status_code == 503 and int(down.headers["Retry-After"]) > 0
    assert sink.records == []
    sink.down = False
    assert (await client.post("/v1/observations", json={"observations": [obs()]})).status_code == 202
    assert len(sink.records) == 1
