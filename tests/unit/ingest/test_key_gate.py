"""An anonymous or unknown client is refused before ingest reads a byte of its body."""

from __future__ import annotations

import json

import pytest

from services.ingest.app import create_app
from tests.unit.ingest.conftest import READER, WRITER


async def call(app, headers: list[tuple[bytes, bytes]], path: str = "/v1/observations") -> tuple[int, dict, int]:  # noqa: ANN001
    """Drive the app as a server would; returns (status, JSON body, times the body was asked for)."""
    asked, sent = 0, []
    body = json.dumps({"observations": [{"trust_code": "RXX"}] * 50_000}).encode()

    async def receive() -> dict:
        nonlocal asked
        asked += 1
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                         *headers], "client": ("127.0.0.1", 50000), "server": ("ingest", 80)}
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(payload), asked


@pytest.mark.parametrize("headers", [[], [(b"authorization", b"Bearer not-a-key")], [(b"authorization", b"Basic x")]])
async def test_an_unknown_key_is_refused_without_reading_the_body(settings, sink, headers):
    app = create_app(settings.model_copy(update={"max_body_bytes": 8 * 1024 * 1024}), sink=sink)
    status, body, asked = await call(app, headers)
    assert (status, body["type"], body["status"], asked) == (401, "urn:nof-live:problem:unauthorized", 401, 0)
    assert sink.records == []


async def test_a_known_key_gets_its_body_read_and_its_scope_checked(settings, sink):
    app = create_app(settings.model_copy(update={"max_body_bytes": 8 * 1024 * 1024}), sink=sink)
    status, _, asked = await call(app, [(b"authorization", f"Bearer {READER}".encode())])
    assert (status, asked) == (403, 1)  # a known key: read, then refused for lacking observations:write
    status, body, asked = await call(app, [(b"authorization", f"Bearer {WRITER}".encode())])
    assert status == 422 and asked == 1  # read and validated: the items lack their fields
