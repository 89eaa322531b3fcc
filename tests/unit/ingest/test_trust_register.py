"""The shared trust register over its in-memory twin: seeded once from the shipped file, an API entry reaches
every replica and survives a restart, and an entry changed through the API is not overwritten by the file."""

from __future__ import annotations

import threading

import httpx
import pytest

from services.ingest.app import create_app
from services.ingest.ledger import MemoryLedger
from services.ingest.sink import MemoryInputSink
from services.ingest.trust_log import MemoryTrustLog
from services.ingest.trust_register import TrustRegister
from shared.errors import Unavailable
from shared.methodology import TrustInfo, load_trust_register

SHIPPED = load_trust_register()
NEW = TrustInfo("RZZ9", "A NEW TRUST", "Acute trust", "", "London", "api")


def test_the_topic_is_seeded_once_from_the_shipped_file():
    topic: list[TrustInfo] = []
    first = TrustRegister(MemoryTrustLog(topic), SHIPPED)
    first.sync()
    assert {t.code for t in topic} == set(SHIPPED) and len(topic) == len(SHIPPED)
    second = TrustRegister(MemoryTrustLog(topic), SHIPPED)
    second.sync()
    assert len(topic) == len(SHIPPED)  # already seeded: nothing written again


def test_an_entry_registered_on_one_replica_reaches_another_and_a_restarted_one():
    topic: list[TrustInfo] = []
    one, two = TrustRegister(MemoryTrustLog(topic), SHIPPED), TrustRegister(MemoryTrustLog(topic), SHIPPED)
    one.sync(), two.sync()
    one.register(NEW)
    assert NEW.code in one.entries and NEW.code not in two.entries
    two.sync()
    assert two.entries[NEW.code] == NEW
    restarted = TrustRegister(MemoryTrustLog(topic), SHIPPED)
    restarted.sync()
    assert restarted.entries[NEW.code] == NEW


def test_an_entry_changed_through_the_api_is_not_overwritten_by_the_file():
    topic: list[TrustInfo] = []
    code = next(iter(SHIPPED))
    renamed = TrustInfo(code, "RENAMED", SHIPPED[code].trust_type, source="api")
    one = TrustRegister(MemoryTrustLog(topic), SHIPPED)
    one.sync()
    one.register(renamed)
    restarted = TrustRegister(MemoryTrustLog(topic), SHIPPED)
    restarted.sync()
    assert restarted.entries[code].name == "RENAMED" and topic[-1] == renamed


def test_a_topic_down_keeps_the_file_and_follow_retries():
    trust_log = MemoryTrustLog()
    trust_log.down = True
    register = TrustRegister(trust_log, SHIPPED)
    with pytest.raises(Unavailable):
        register.sync()
    assert register.entries == SHIPPED
    stop = threading.Event()
    follower = threading.Thread(target=register.follow, args=(stop, 0.01))
    follower.start()
    trust_log.down = False
    for _ in range(500):
        if register.seeded:
            break
        stop.wait(0.01)
    stop.set()
    follower.join(5)
    assert register.seeded and len(trust_log.records) == len(SHIPPED)


async def test_post_trusts_on_one_replica_is_known_to_another(settings):
    topic: list[TrustInfo] = []
    apps = [create_app(settings, sink=MemoryInputSink(), ledger=MemoryLedger(), trust_log=MemoryTrustLog(topic))
            for _ in range(2)]
    headers = {"Authorization": "Bearer test-writer-key"}
    clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://ingest", headers=headers)
               for a in apps]
    observation = {"observations": [{"trust_code": "RZZ9", "metric_id": "OF0013", "period": "2025-12", "value": 70.0}]}
    async with clients[0] as one, clients[1] as two:
        created = await one.post("/v1/trusts", json={"trust_code": "RZZ9", "trust_name": "A NEW TRUST",
                                                     "trust_type": "Acute trust"})
        assert created.status_code == 202
        assert (await two.post("/v1/observations", json=observation)).status_code == 422  # not synced yet
        apps[1].state.ingest.trusts.sync()
        assert (await two.post("/v1/observations", json=observation)).status_code == 202
