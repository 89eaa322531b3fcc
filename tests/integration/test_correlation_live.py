"""One request's correlation id, followed from ingest to a webhook delivery through every service's logs.

An isolated pipeline (tests/support/pipeline.py) writes each service's output to <workdir>/<service>.log.
Every line there must be a JSON object; the id sent as ``X-Correlation-ID`` must turn up in ingest's
"accepted" line, the scorer's "inputs handled" line, and the publisher's "appended" and "webhook
delivered" lines, and the webhook request itself must carry it.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.publisher.auth import sha256_hex
from tests.integration.publisher.publisher_live import AUTH, TOKEN, receiver
from tests.support.pipeline import Pipeline, running
from tests.support.streams import generate


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    with running(tmp_path_factory.mktemp("correlation"),
                 extra_env={"NOF_PUBLISHER_ADMIN_TOKEN_SHA256": sha256_hex(TOKEN)}) as p:
        yield p


def json_lines(path: Path) -> list[dict[str, Any]]:
    """Every complete line of a service's log, parsed; a line that is not a JSON object fails the test."""
    out = []
    lines = path.read_text(errors="replace").split("\n")[:-1]  # the last one may still be being written
    for n, line in enumerate(lines, 1):
        try:
            entry = json.loads(line)
        except ValueError:
            pytest.fail(f"{path.name} line {n} is not JSON: {line[:300]!r}")
        assert isinstance(entry, dict), f"{path.name} line {n}: {line[:300]!r}"
        out.append(entry)
    return out


async def test_a_correlation_id_follows_one_request_from_ingest_to_delivery(pipeline: Pipeline):
    cid = f"it-corr-{uuid.uuid4().hex}"
    observations = [i.body for i in generate(seed=5, n=30, observations_only=True)]
    async with receiver() as rx, httpx.AsyncClient(timeout=30) as client:
        r = await client.post(f"{pipeline.url('publisher')}/v1/subscriptions", json={"url": rx.url("/hook")},
                              headers=AUTH)
        assert r.status_code == 201, r.text
        r = await client.post(f"{pipeline.url('ingest')}/v1/observations", json={"observations": observations},
                              headers={"Authorization": f"Bearer {pipeline.ingest_key}", "X-Correlation-ID": cid})
        assert r.status_code == 202, r.text
        assert r.json()["correlation_id"] == cid
        first = (await rx.wait_for("/hook", 1, timeout=60))[0]
        assert first.headers["X-Correlation-ID"] == cid
        assert first.event["data"]["cause"]["correlation_id"] == cid

    # The log lines are written as the work happens; poll the files until every hop has shown up.
    logs: dict[str, list[dict[str, Any]]] = {}
    wanted = {
        "ingest": lambda e: e["msg"] == "observations accepted" and e["accepted"] == len(observations),
        "scoring": lambda e: e["msg"] == "inputs handled",
        "publisher": lambda e: e["msg"] == "webhook delivered" and e["event_id"] == first.headers["webhook-id"],
    }
    def inputs_handled(lines: list[dict[str, Any]]) -> int:
        return sum(e["inputs"] for e in lines if e.get("correlation_id") == cid and e["msg"] == "inputs handled")

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        logs = {s: json_lines(pipeline.workdir / f"{s}.log") for s in wanted}
        # The scorer logs per batch, so one request's inputs may take several lines: wait for all of them.
        if all(any(e.get("correlation_id") == cid and ok(e) for e in logs[s]) for s, ok in wanted.items()) \
                and inputs_handled(logs["scoring"]) >= len(observations):
            break
        await asyncio.sleep(0.3)
    ours = {s: [e for e in lines if e.get("correlation_id") == cid] for s, lines in logs.items()}
    for service, ok in wanted.items():
        assert any(ok(e) for e in ours[service]), f"{service}: no such line with {cid}: {ours[service]}"
        assert all(e["service"] == service for e in ours[service])

    # Every input of the request is accounted for in the scorer's lines, each with its offsets.
    handled = [e for e in ours["scoring"] if e["msg"] == "inputs handled"]
    assert sum(e["inputs"] for e in handled) == len(observations)
    assert all(e["offsets"] for e in handled)
    appended = [e for e in ours["publisher"] if e["msg"] == "change events appended to the event log"]
    assert appended and all(e["events"] > 0 for e in appended)
    delivered = next(e for e in ours["publisher"] if e["msg"] == "webhook delivered")
    assert delivered["status"] == 204 and delivered["attempt"] == 1 and delivered["subscription"].startswith("sub_")
