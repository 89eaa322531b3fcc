"""The shared trust register on a real broker: a trust registered through one ingest instance is accepted by
a second instance and by an instance started afterwards (a restart), each reading the compacted topic."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
import uuid
from dataclasses import replace

import httpx

from services.ingest.app import create_app
from services.ingest.ledger import MemoryLedger
from services.ingest.settings import IngestSettings
from services.ingest.sink import MemoryInputSink
from services.ingest.trust_log import KafkaTrustLog
from shared.api_keys import ApiKey, hash_key
from shared.kafka_admin import declare
from shared.topics import TRUSTS

KEY = "integration-writer-key"
OBSERVATION = {"metric_id": "OF0013", "period": "2025-12", "value": 70.0}


@asynccontextmanager
async def _instance(kafka_settings, topic: str) -> AsyncIterator[httpx.AsyncClient]:
    """An ingest instance with its lifespan running (it reads and follows the register topic)."""
    settings = IngestSettings(trust_sync_seconds=0.2, api_keys=[
        ApiKey(name="writer", sha256=hash_key(KEY), scopes={"observations:write", "trusts:write"})])
    app = create_app(settings, sink=MemoryInputSink(), ledger=MemoryLedger(),
                     trust_log=KafkaTrustLog(kafka_settings, topic))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingest",
                                     headers={"Authorization": f"Bearer {KEY}"}) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


async def _accepts(client: httpx.AsyncClient, code: str) -> int:
    response = await client.post("/v1/observations", json={"observations": [{"trust_code": code, **OBSERVATION}]})
    return response.status_code


async def test_a_trust_registered_on_one_instance_is_known_to_another_and_after_a_restart(kafka_settings):
    topic = f"{TRUSTS.name}.test-{uuid.uuid4().hex[:8]}"
    declare(kafka_settings, (replace(TRUSTS, name=topic),))
    code = "RT" + uuid.uuid4().hex[:4].upper()
    async with _instance(kafka_settings, topic) as one, _instance(kafka_settings, topic) as two:
        assert await _accepts(two, code) == 422
        created = await one.post("/v1/trusts", json={"trust_code": code, "trust_name": "A TRUST REGISTERED BY API",
                                                     "trust_type": "Acute trust", "region": "London"})
        assert created.status_code == 202, created.text
        assert await _accepts(one, code) == 202
        deadline = time.monotonic() + 20
        while await _accepts(two, code) != 202:
            assert time.monotonic() < deadline, "the second instance never learned the new trust"
            await asyncio.sleep(0.2)
    async with _instance(kafka_settings, topic) as restarted:  # reads the topic before its first request
        assert await _accepts(restarted, code) == 202
        register = restarted.app.state.ingest.trusts
        assert register.entries[code].region == "London" and register.seeded
