"""Idempotency that cannot swallow a change: a reused observation_id with another payload is a 409, a re-send
is a no-op with the same id, and a value set back to an earlier one (A, B, A) gets a new id so it takes effect."""

from __future__ import annotations

import pytest

from services.ingest.ledger import Claim, Conflicts, MemoryLedger

OBS = {"trust_code": "R0A", "metric_id": "OF0013", "period": "2025-12"}


def ids(response) -> list[str]:  # noqa: ANN001
    assert response.status_code == 202, response.text
    return response.json()["ids"]


async def send(client, **fields):  # noqa: ANN001, ANN201
    return await client.post("/v1/observations", json={"observations": [{**OBS, **fields}]})


async def test_a_reused_observation_id_with_another_payload_is_409_and_nothing_is_published(client, sink):
    assert ids(await send(client, value=71.5, observation_id="client-1")) == ["client-1"]
    response = await client.post("/v1/observations", json={"observations": [
        {**OBS, "period": "2025-11", "value": 70.0, "observation_id": "client-2"},
        {**OBS, "value": 72.0, "observation_id": "client-1"}]})
    assert response.status_code == 409 and response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"index": 1, "field": "observation_id", "reason": "already accepted with a different payload"}]
    assert len(sink.records) == 1  # the first request only; the refused batch wrote nothing
    assert ids(await send(client, period="2025-11", value=70.0, observation_id="client-2")) == ["client-2"]


async def test_a_re_sent_observation_keeps_its_id(client, sink):
    first = ids(await send(client, value=71.5))
    assert ids(await send(client, value=71.5)) == first
    assert ids(await send(client, value=71.5, observation_id="k")) == ["k"]
    assert ids(await send(client, value=71.5, observation_id="k")) == ["k"]


async def test_a_value_set_back_to_an_earlier_one_gets_a_new_id(client, sink):
    a1 = ids(await send(client, value=71.5))
    b = ids(await send(client, value=60.0))
    a2 = ids(await send(client, value=71.5))
    assert len({a1[0], b[0], a2[0]}) == 3  # the scorer applies each: none is taken for a re-send
    assert ids(await send(client, value=71.5)) == a2  # a re-send of the latest is still a re-send
    assert [r.event.value for _, r in sink.records] == [71.5, 60.0, 71.5, 71.5]


async def test_a_value_withdrawn_by_metric_and_period_and_sent_again_gets_a_new_id(client, sink):
    first = ids(await send(client, value=71.5))
    response = await client.post("/v1/retractions", json={"trust_code": "R0A", "metric_id": "OF0013",
                                                          "period": "2025-12", "reason": "sent in error"})
    assert response.status_code == 202, response.text
    again = ids(await send(client, value=71.5))
    assert again != first  # the retraction spent the first id: the scorer would drop it as a re-send
    assert ids(await send(client, value=71.5)) == again  # a re-send of it is still a re-send
    assert ids(await client.post("/v1/retractions", json={"trust_code": "R0A", "metric_id": "OF0013",
                                                          "period": "2025-11"})) != []  # another series
    assert ids(await send(client, value=71.5)) == again


async def test_the_ledger_down_is_503_and_nothing_is_published(client, sink, ledger):
    ledger.down = True
    response = await send(client, value=71.5)
    assert response.status_code == 503 and "Retry-After" in response.headers and sink.records == []


def test_the_twin_records_a_batch_all_or_nothing():
    ledger = MemoryLedger()
    assert ledger.claim([Claim("s", "a", "id1"), Claim("s", "b")]) == [0, 1]
    with pytest.raises(Conflicts) as conflict:
        ledger.claim([Claim("t", "x"), Claim("s", "c", "id1")])
    assert conflict.value.positions == [1] and "t" not in ledger.series
    assert ledger.claim([Claim("s", "a"), Claim("s", "a"), Claim("s", "b")]) == [2, 2, 3]
