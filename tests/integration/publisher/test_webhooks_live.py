"""Webhook delivery to a real local receiver: signatures, order, retries, dead letters, replay, isolation."""

import asyncio
import time

import httpx

from services.publisher import appender, signing
from services.publisher.alerts import HoldDown
from services.publisher.event_log import RedisEventLog
from tests.integration.publisher.publisher_live import AUTH, receiver, running, settings_for
from tests.unit.publisher.publisher_builders import assessment, change, seg, seg_change


async def subscribe(client: httpx.AsyncClient, url: str, **filters) -> dict:
    r = await client.post("/v1/subscriptions", json={"url": url, "filters": filters}, headers=AUTH)
    assert r.status_code == 201, r.text
    return r.json()


async def test_signed_ordered_delivery_with_retries_then_recovery(aredis, prefix, tmp_path):
    log = RedisEventLog(aredis, prefix, 1000)
    async with receiver() as rx, running(settings_for(prefix, tmp_path)) as base:
        rx.fail_first["/flaky"] = 2
        async with httpx.AsyncClient(base_url=base) as client:
            sub = await subscribe(client, rx.url("/flaky"), leagues=["acute"])
            assert sub["secret"].startswith("whsec_")
            events = [assessment(v, trust="RAA") for v in (1, 2, 3)]
            events.append(assessment(4, trust="RAA", league="ambulance"))  # filtered out
            await appender.append_changes(log, events, HoldDown(), {})
            got = await rx.wait_for("/flaky", 3)
            await asyncio.sleep(0.3)
            assert [d.event["leagueversion"] for d in rx.deliveries["/flaky"]] == [1, 2, 3]
            assert rx.attempts["/flaky"] == 5  # two 500s, then three deliveries
            for d in got:
                h = d.headers
                assert h["webhook-id"] == d.event["id"] == d.event["data"]["event_id"]
                assert signing.verify(sub["secret"], h["webhook-id"], int(h["webhook-timestamp"]), d.body,
                                      h["webhook-signature"], now=int(time.time()))
                assert d.event["specversion"] == "1.0" and d.event["type"] == "uk.nhs.nof.assessment.changed"
            listed = (await client.get(f"/v1/subscriptions/{sub['id']}", headers=AUTH)).json()
            assert "secret" not in listed and listed["failed"] == 0


async def test_max_attempts_dead_letter_then_replay(aredis, prefix, tmp_path):
    log = RedisEventLog(aredis, prefix, 1000)
    async with receiver() as rx, running(settings_for(prefix, tmp_path)) as base:
        rx.always_fail.add("/down")
        async with httpx.AsyncClient(base_url=base) as client:
            sub = await subscribe(client, rx.url("/down"))
            events = [seg_change(1, seg(2), seg(3), trust="RBB")]
            await appender.append_changes(log, events, HoldDown(), {})  # a change and its alert
            failed: list = []
            for _ in range(100):
                failed = (await client.get(f"/v1/subscriptions/{sub['id']}/failed", headers=AUTH)).json()
                if len(failed) == 2:
                    break
                await asyncio.sleep(0.1)
            assert [f["attempts"] for f in failed] == [3, 3] and rx.attempts["/down"] == 6
            assert failed[0]["last_status"] == 500 and failed[0]["event_id"] == events[0].event_id
            rx.always_fail.clear()
            r = await client.post(f"/v1/subscriptions/{sub['id']}/replay", headers=AUTH)
            assert r.json() == {"queued": 2}
            got = await rx.wait_for("/down", 2)
            assert [d.headers["webhook-id"] for d in got] == [f["event_id"] for f in failed]
            assert [d.event["type"] for d in got] == ["uk.nhs.nof.segment.changed", "uk.nhs.nof.segment.worsened"]
            assert (await client.get(f"/v1/subscriptions/{sub['id']}/failed", headers=AUTH)).json() == []


async def test_a_slow_subscriber_does_not_delay_the_others(aredis, prefix, tmp_path):
    log = RedisEventLog(aredis, prefix, 1000)
    async with receiver() as rx, running(settings_for(prefix, tmp_path, webhook_timeout_seconds=10)) as base:
        rx.delay["/slow"] = 2.0
        async with httpx.AsyncClient(base_url=base) as client:
            await subscribe(client, rx.url("/slow"))
            await subscribe(client, rx.url("/fast"))
            await asyncio.sleep(1.2)  # both workers started
            started = time.monotonic()
            await appender.append_changes(log, [assessment(v, trust="RCC") for v in (1, 2, 3)], HoldDown(), {})
            await rx.wait_for("/fast", 3, timeout=5)
            assert time.monotonic() - started < 1.0
            assert len(rx.deliveries["/slow"]) == 0


async def test_subscription_admin_rules(prefix, tmp_path):
    async with running(settings_for(prefix, tmp_path, webhook_allow_private_targets=False)) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            body = {"url": "http://127.0.0.1:9/hook"}
            assert (await client.post("/v1/subscriptions", json=body)).status_code == 401
            bad = {"Authorization": "Bearer wrong"}
            assert (await client.post("/v1/subscriptions", json=body, headers=bad)).status_code == 401
            r = await client.post("/v1/subscriptions", json=body, headers=AUTH)
            assert r.status_code == 422 and "loopback" in r.json()["errors"][0]["reason"]
            r = await client.post("/v1/subscriptions", json={"url": "https://8.8.8.8/h", "filters": {"types": ["x"]}},
                                  headers=AUTH)
            assert r.status_code == 422
            r = await client.post("/v1/subscriptions", json={"url": "https://8.8.8.8/h",
                                                             "filters": {"types": ["rank.changed"], "min_rank_movement": 3}},
                                  headers=AUTH)
            assert r.status_code == 201
            sub_id = r.json()["id"]
            assert [s["id"] for s in (await client.get("/v1/subscriptions", headers=AUTH)).json()] == [sub_id]
            assert (await client.delete(f"/v1/subscriptions/{sub_id}", headers=AUTH)).status_code == 204
            assert (await client.delete(f"/v1/subscriptions/{sub_id}", headers=AUTH)).status_code == 404
            assert (await client.get(f"/v1/subscriptions/{sub_id}/failed", headers=AUTH)).status_code == 404


async def test_rank_filter_on_a_real_delivery(aredis, prefix, tmp_path):
    log = RedisEventLog(aredis, prefix, 1000)
    async with receiver() as rx, running(settings_for(prefix, tmp_path)) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            await subscribe(client, rx.url("/big-moves"), types=["rank.changed"], min_rank_movement=5)
            events = [change("rank.changed", 1, {"rank": 10}, {"rank": 8}, trust="RDD"),
                      change("rank.changed", 2, {"rank": 8}, {"rank": 1}, trust="RDD"),
                      assessment(3, trust="RDD")]
            await appender.append_changes(log, events, HoldDown(), {})
            got = await rx.wait_for("/big-moves", 1)
            await asyncio.sleep(0.3)
            assert [d.event["leagueversion"] for d in got] == [2]
