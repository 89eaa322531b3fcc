"""SSE: message shape, filters, Last-Event-ID resume, heartbeats, the slow-client overflow policy."""

import asyncio
import json

import httpx

from services.publisher import appender
from services.publisher.alerts import HoldDown
from services.publisher.event_log import RedisEventLog
from tests.integration.publisher.publisher_live import running, settings_for, sse_events
from tests.unit.publisher.publisher_builders import assessment, seg, seg_change


async def append_later(log, events, delay=0.3):
    await asyncio.sleep(delay)
    await appender.append_changes(log, events, HoldDown(), {"RAA": "London"})


async def test_live_messages_resume_with_last_event_id(aredis, prefix, tmp_path):
    log = RedisEventLog(aredis, prefix, 1000)
    async with running(settings_for(prefix, tmp_path)) as base, httpx.AsyncClient(base_url=base, timeout=None) as c:
        feeder = asyncio.create_task(append_later(log, [seg_change(1, seg(2), seg(3), trust="RAA")]))
        first = await sse_events(c, "/v1/stream", count=2)
        await feeder
        assert [m["event"] for m in first] == ["uk.nhs.nof.segment.changed", "uk.nhs.nof.segment.worsened"]
        data = json.loads(first[1]["data"])
        assert data["type"] == "uk.nhs.nof.segment.worsened" and data["data"]["new_segment"] == 3
        assert first[0]["id"] < first[1]["id"] or len(first[0]["id"]) < len(first[1]["id"])

        # While disconnected, three more changes happen; resuming replays exactly those.
        await appender.append_changes(log, [assessment(v, trust="RAA") for v in (2, 3, 4)], HoldDown(), {})
        missed = await sse_events(c, "/v1/stream", headers={"Last-Event-ID": first[1]["id"]}, count=3)
        assert [json.loads(m["data"])["leagueversion"] for m in missed] == [2, 3, 4]
        via_query = await sse_events(c, f"/v1/stream?last_event_id={missed[0]['id']}", count=2)
        assert [m["id"] for m in via_query] == [m["id"] for m in missed[1:]]
        # resume + live: replay one, then receive a new one pushed live, without duplicates
        feeder = asyncio.create_task(append_later(log, [assessment(5, trust="RAA")]))
        both = await sse_events(c, "/v1/stream", headers={"Last-Event-ID": missed[1]["id"]}, count=2)
        await feeder
        assert [json.loads(m["data"])["leagueversion"] for m in both] == [4, 5]


async def test_filters_as_query_parameters(aredis, prefix, tmp_path):
    log = RedisEventLog(aredis, prefix, 1000)
    async with running(settings_for(prefix, tmp_path)) as base, httpx.AsyncClient(base_url=base, timeout=None) as c:
        events = [assessment(1, trust="RAA"), seg_change(2, seg(1), seg(2), trust="RAA"),
                  assessment(3, trust="RBB"), assessment(4, trust="RAA", league="ambulance")]
        feeder = asyncio.create_task(append_later(log, events))
        got = await sse_events(c, "/v1/stream?trust_code=RAA&region=London&type=segment.improved,segment.worsened",
                               count=1)
        await feeder
        assert [m["event"] for m in got] == ["uk.nhs.nof.segment.worsened"]
        for bad in (await c.get("/v1/stream?type=nope"),
                    await c.get("/v1/stream", headers={"Last-Event-ID": "yesterday"})):
            assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")


async def test_heartbeat_comments(prefix, tmp_path):
    async with running(settings_for(prefix, tmp_path, sse_heartbeat_seconds=0.2)) as base:
        async with httpx.AsyncClient(base_url=base, timeout=None) as c:
            got = await sse_events(c, "/v1/stream", count=2, keep_comments=True, timeout=5)
            assert all(m["comment"].startswith("ping") for m in got)


async def test_slow_client_gets_overflow_and_resumes_without_loss(aredis, prefix, tmp_path):
    log = RedisEventLog(aredis, prefix, 10_000)
    async with running(settings_for(prefix, tmp_path, sse_queue_size=5)) as base:
        async with httpx.AsyncClient(base_url=base, timeout=None) as c:
            # 200 events land at once: far more than a 5-deep queue holds.
            feeder = asyncio.create_task(append_later(log, [assessment(v, trust="RAA") for v in range(1, 201)]))
            first = await sse_events(c, "/v1/stream", count=1000)
            await feeder
            assert first[-1]["event"] == "overflow"
            resume_from = json.loads(first[-1]["data"])["last_event_id"]
            received = [m for m in first if m.get("event", "").startswith("uk.nhs.nof.")]
            assert resume_from and (received == [] or received[-1]["id"] == resume_from)
            while len(received) < 200:
                more = await sse_events(c, "/v1/stream", headers={"Last-Event-ID": resume_from},
                                        count=200 - len(received))
                received += [m for m in more if m.get("event", "").startswith("uk.nhs.nof.")]
                resume_from = received[-1]["id"]
            versions = [json.loads(m["data"])["leagueversion"] for m in received]
            assert versions == list(range(1, 201))
