"""The ingest app over its in-memory sink, with two known API keys."""

from __future__ import annotations

import httpx
import pytest

from services.ingest.app import create_app
from services.ingest.settings import IngestSettings
from services.ingest.ledger import MemoryLedger
from services.ingest.trust_log import MemoryTrustLog
from services.ingest.sink import MemoryInputSink
from shared.api_keys import ApiKey, hash_key

WRITER = "test-writer-key"
READER = "test-status-only-key"


@pytest.fixture
def sink() -> MemoryInputSink:
    return MemoryInputSink()


@pytest.fixture
def ledger() -> MemoryLedger:
    return MemoryLedger()


@pytest.fixture
def settings(tmp_path) -> IngestSettings:
    return IngestSettings(
        max_batch=50,
        max_body_bytes=64 * 1024,
        csv_chunk_rows=3,
        api_keys=[
            ApiKey(name="writer", sha256=hash_key(WRITER), scopes={"observations:write", "status:write", "trusts:write", "retractions:write"}),
            ApiKey(name="status", sha256=hash_key(READER), scopes={"status:write"}),
        ],
    )


@pytest.fixture
async def client(settings, sink, ledger):
    app = create_app(settings, sink=sink, ledger=ledger, trust_log=MemoryTrustLog())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingest",
                                 headers={"Authorization": f"Bearer {WRITER}"}) as c:
        yield c
