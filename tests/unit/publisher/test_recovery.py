"""Losing Redis: subscriptions go to their topic first, a lost state is restored, the consumer retries its start."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from services.publisher import alerts, appender, consumer
from services.publisher.app import create_app
from services.publisher.auth import sha256_hex
from services.publisher.event_log import MemoryEventLog, StateLost
from services.publisher.hub import Hub
from services.publisher.recovery import Recovery
from services.publisher.settings import PublisherSettings
from services.publisher.subscription_log import MemorySubscriptionLog
from services.publisher.subscriptions import MemorySubscriptionStore, Subscription
from tests.unit.publisher.publisher_builders import assessment, seg, seg_change

TOKEN = "unit-admin-token"
HOLD = alerts.HoldDown(1, 0)


class Recording(MemorySubscriptionStore):
    """Notes the order of writes against the topic's twin."""

    def __init__(self, sub_log: MemorySubscriptionLog, order: list[str]) -> None:
        super().__init__()
        self.sub_log, self.order = sub_log, order

    async def create(self, sub: Subscription, cursor: str) -> None:
        self.order.append(f"redis create ({len(self.sub_log.records)} on the topic)")
        await super().create(sub, cursor)

    async def delete(self, sub_id: str) -> bool:
        self.order.append(f"redis delete ({len(self.sub_log.records)} on the topic)")
        return await super().delete(sub_id)


@pytest.fixture
def sub_log() -> MemorySubscriptionLog:
    return MemorySubscriptionLog()


@pytest.fixture
def order() -> list[str]:
    return []


@pytest.fixture
def store(sub_log, order) -> Recording:
    return Recording(sub_log, order)


@pytest.fixture
async def client(store, sub_log):
    settings = PublisherSettings(admin_token_sha256=sha256_hex(TOKEN), consume=False, dispatch=False,
                                 public_topic_enabled=False)
    app = create_app(settings, event_log=MemoryEventLog(), store=store, sub_log=sub_log)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://publisher",
                                 headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        yield c


async def test_create_and_delete_are_recorded_on_the_topic_before_redis(client, store, sub_log, order):
    r = await client.post("/v1/subscriptions", json={"url": "https://8.8.8.8/hook", "filters": {"leagues": ["acute"]}})
    assert r.status_code == 201
    sub_id = r.json()["id"]
    assert order == ["redis create (1 on the topic)"]
    [restored] = await sub_log.load()
    assert restored.id == sub_id and restored.secret == r.json()["secret"] and list(restored.filters.leagues) == ["acute"]

    assert (await client.delete(f"/v1/subscriptions/{sub_id}")).status_code == 204
    assert order[-1] == "redis delete (2 on the topic)"  # the tombstone went first
    assert sub_log.records[-1] == (f"nof/{sub_id}", None)
    assert await sub_log.load() == [] and store.subs == {}


async def test_a_topic_write_that_fails_answers_503_and_stores_nothing(client, store, sub_log):
    sub_log.failing = True
    r = await client.post("/v1/subscriptions", json={"url": "https://8.8.8.8/hook"})
    assert r.status_code == 503 and r.headers["Retry-After"] and "nothing was stored" in r.json()["detail"]
    assert store.subs == {} and sub_log.records == []

    sub_log.failing = False
    sub_id = (await client.post("/v1/subscriptions", json={"url": "https://8.8.8.8/hook"})).json()["id"]
    sub_log.failing = True
    assert (await client.delete(f"/v1/subscriptions/{sub_id}")).status_code == 503
    assert sub_id in store.subs and sub_log.ids() == {sub_id}  # still there, on both


async def test_a_redis_failure_after_the_topic_write_takes_the_record_back(client, store, sub_log):
    async def broken(sub, cursor):
        raise ConnectionError("redis is down")
    store.create = broken
    r = await client.post("/v1/subscriptions", json={"url": "https://8.8.8.8/hook"})
    assert r.status_code == 503
    assert await sub_log.load() == []


def _events(league: str = "acute") -> list:
    return [seg_change(3, seg(2), seg(3), trust="R0A", league=league), assessment(3, trust="RBB", league=league),
            assessment(4, trust="R0A", league=league)]


async def test_a_lost_state_is_restored_from_the_topics(sub_log):
    """After a loss: subscriptions come back with their secrets and cursors at the start of the rebuilt log,
    which holds every retained change again under the same ids (no duplicates of an id in the log)."""
    event_log, store = MemoryEventLog(), MemorySubscriptionStore()
    topic = _events()  # what nof.changes.v1 retains

    async def rebuild(expect: str) -> int:
        return (await appender.append_changes(event_log, topic, HOLD, {}, expect=expect)).appended

    recovery = Recovery(event_log, store, sub_log, rebuild)
    sub = Subscription(url="https://8.8.8.8/hook", secret="whsec_x")
    await sub_log.put(sub)
    assert await recovery.check()  # first start: the marker was missing, so the state is built
    first_epoch = recovery.expected
    await appender.append_changes(event_log, topic, HOLD, {}, expect=first_epoch)  # the consumer: all duplicates
    before = [(e.event_id, e.body) for _, e in event_log.rows]
    assert len(before) == len({i for i, _ in before}) == len(topic) + 1  # + the segment alert
    await store.set_cursor(sub.id, event_log.rows[-1][0])

    changed: list[str] = []
    recovery.on_change.append(lambda: changed.append("reset"))
    event_log.lose_state()
    await store.reset()
    with pytest.raises(StateLost):  # nothing lands in a Redis that lost its state
        await appender.append_changes(event_log, [assessment(5, trust="R0A")], HOLD, {}, expect=first_epoch)
    assert event_log.rows == []

    assert await recovery.check()
    assert recovery.expected != first_epoch and changed == ["reset"] and recovery.recoveries == 2
    assert [(e.event_id, e.body) for _, e in event_log.rows] == before  # same ids, same content
    [restored] = await store.all()
    assert restored == sub and restored.secret == "whsec_x"
    assert await store.cursor(sub.id) == "0-0"  # owed every event of the rebuilt log


async def test_a_watching_instance_waits_and_only_one_restores(sub_log):
    event_log, store = MemoryEventLog(), MemorySubscriptionStore()
    calls: list[str] = []

    async def rebuild(expect: str) -> int:
        calls.append(expect)
        return 0

    watcher = Recovery(event_log, store, sub_log, rebuild, recover=False)
    assert not await watcher.check() and calls == []
    other = Recovery(event_log, store, sub_log, rebuild)
    await event_log.lock("someone-else", 1000)
    assert not await other.check() and calls == []  # another instance holds the recovery lease
    await event_log.unlock("someone-else")
    assert await other.check() and len(calls) == 1
    assert await watcher.check() and watcher.expected == other.expected


async def test_an_existing_log_without_a_marker_is_adopted_not_rebuilt(sub_log):
    event_log, store = MemoryEventLog(), MemorySubscriptionStore()
    await appender.append_changes(event_log, _events(), HOLD, {})
    rows = list(event_log.rows)

    async def rebuild(expect: str) -> int:
        raise AssertionError("an existing log is not rebuilt")

    assert await Recovery(event_log, store, sub_log, rebuild).check()
    assert event_log.rows == rows


async def test_the_hub_forgets_its_ring_after_a_restore():
    event_log = MemoryEventLog()
    hub = Hub(event_log, ring_size=100)
    await appender.append_changes(event_log, _events(), HOLD, {})
    hub._publish(list(event_log.rows))
    old = event_log.rows[0][0]
    event_log.lose_state()
    await appender.append_changes(event_log, _events()[:1], HOLD, {})
    hub.reset()
    assert [e.event_id for _, e in await hub.read_after(old)] == [e.event_id for _, e in event_log.rows]


class FlakyConsumer:
    """A consumer twin whose start fails while the broker is "down"."""

    def __init__(self, down: list[bool], started: list[int]) -> None:
        self.down, self.started = down, started

    async def start(self) -> None:
        if self.down[0]:
            raise ConnectionError("no broker")
        self.started.append(1)

    async def stop(self) -> None:
        return None

    async def getmany(self, timeout_ms: int = 0, max_records: int = 0) -> dict:
        await asyncio.sleep(timeout_ms / 1000)
        return {}


async def test_the_consumer_retries_its_start_and_reports_its_state():
    down, started = [True], []
    status = consumer.Status()
    task = asyncio.create_task(consumer.run(lambda: FlakyConsumer(down, started), MemoryEventLog(), HOLD, {}, "urn:x",
                                            status=status, retry_seconds=0.01))
    try:
        await asyncio.sleep(0.05)
        assert not status.running and status.state.startswith("retrying") and started == []
        down[0] = False
        for _ in range(100):
            if status.running:
                break
            await asyncio.sleep(0.01)
        assert status.running and started == [1]
        assert not task.done()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_healthz_reports_a_consumer_that_has_not_started():
    settings = PublisherSettings(admin_token_sha256=sha256_hex(TOKEN), dispatch=False, public_topic_enabled=False)
    event_log, sub_log = MemoryEventLog(), MemorySubscriptionLog()

    async def rebuild(expect: str) -> int:
        return 0

    app = create_app(settings, event_log=event_log, store=MemorySubscriptionStore(), sub_log=sub_log, rebuild=rebuild,
                     new_consumer=lambda: FlakyConsumer([True], []))
    status = app.state.consumer_status
    status.state = "retrying: KafkaConnectionError"
    app.state.recovery.epoch = "e"  # (the lifespan's tasks do not run here: only the checks are exercised)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://publisher") as c:
        r = await c.get("/healthz")
    assert r.json()["checks"]["consumer"] == "down" and r.json()["checks"]["state"] == "ok"


async def test_a_first_start_logs_no_warning(sub_log, caplog):
    """Empty Redis and empty topics: the state is initialised quietly; a loss with something to restore warns."""
    event_log, store = MemoryEventLog(), MemorySubscriptionStore()

    async def rebuild(expect: str) -> int:
        return (await appender.append_changes(event_log, [], HOLD, {}, expect=expect)).appended

    recovery = Recovery(event_log, store, sub_log, rebuild)
    with caplog.at_level("INFO", logger="services.publisher.recovery"):
        assert await recovery.check()
    assert [r.levelname for r in caplog.records if r.levelname == "WARNING"] == []
    assert any("nothing to restore" in r.getMessage() for r in caplog.records)

    caplog.clear()
    await sub_log.put(Subscription(url="https://8.8.8.8/hook", secret="whsec_x"))
    event_log.lose_state()
    with caplog.at_level("INFO", logger="services.publisher.recovery"):
        assert await recovery.check()
    assert "Redis lost the publisher's state; restored it from Kafka" in [
        r.getMessage() for r in caplog.records if r.levelname == "WARNING"]


async def test_appends_record_the_consumed_offsets_in_the_same_commit():
    event_log = MemoryEventLog()
    await event_log.set_state("ready:e")
    await appender.append_changes(event_log, _events(), HOLD, {}, expect="ready:e",
                                  offsets={"nof.changes.v1:0": 3})
    await appender.append_changes(event_log, [], HOLD, {}, expect="ready:e", offsets={"nof.changes.v1:1": 9})
    assert await event_log.offsets() == {"nof.changes.v1:0": 3, "nof.changes.v1:1": 9}
    with pytest.raises(StateLost):  # offsets go with the append, or not at all
        await appender.append_changes(event_log, [], HOLD, {}, expect="ready:other", offsets={"nof.changes.v1:0": 5})
    assert (await event_log.offsets())["nof.changes.v1:0"] == 3


async def test_a_redis_restored_from_an_older_snapshot_is_restored_from_kafka(sub_log):
    """The snapshot kept the marker and a subscription deleted since; Kafka's offsets show it is behind."""
    event_log, store = MemoryEventLog(), MemorySubscriptionStore()
    topic = _events()

    async def rebuild(expect: str) -> int:
        return (await appender.append_changes(event_log, topic, HOLD, {}, expect=expect)).appended

    kept = Subscription(url="https://8.8.8.8/kept", secret="whsec_k")
    deleted = Subscription(url="https://8.8.8.8/deleted", secret="whsec_d")
    await sub_log.put(kept)
    await store.create(kept, "0-0")
    await store.create(deleted, "0-0")  # in the snapshot; removed from the topic after it was taken
    await event_log.set_state("ready:snapshot")
    await appender.append_changes(event_log, topic[:1], HOLD, {}, expect="ready:snapshot",
                                  offsets={"nof.changes.v1:0": 1})

    async def behind() -> bool:  # the group committed offset 3 on that partition
        return (await event_log.offsets()).get("nof.changes.v1:0", 3) < 3

    recovery = Recovery(event_log, store, sub_log, rebuild, behind=behind)
    assert await recovery.distrust_an_old_snapshot()
    assert await recovery.check() and recovery.recoveries == 1
    assert [s.id for s in await store.all()] == [kept.id]
    assert len(event_log.rows) == len(topic) + 1  # every retained change (and its alert), not just the first
    assert not await Recovery(event_log, store, sub_log, rebuild, behind=lambda: _false()).distrust_an_old_snapshot()


async def _false() -> bool:
    return False
