"""Delivery safety: the lease outlives a slow delivery, stale cursor writes are fenced off, a subscriber that
fell behind the retained log is told so, and a subscription that keeps failing is disabled."""

from __future__ import annotations

import asyncio

from services.publisher import appender, metrics
from services.publisher.alerts import HoldDown
from services.publisher.dispatcher import Dispatcher
from services.publisher.event_log import MemoryEventLog
from services.publisher.hub import Hub
from services.publisher.retry import RetryPolicy
from services.publisher.ssrf import TargetGuard
from services.publisher.subscriptions import DeadLetter, MemorySubscriptionStore, Subscription
from tests.unit.publisher.publisher_builders import assessment

SECRET = "whsec_" + "A" * 44


class SlowHttp:
    """A receiver that takes ``seconds`` to answer each request, then answers ``status``."""

    def __init__(self, seconds: float, status: int | None = 204) -> None:
        self.seconds, self.status, self.requests = seconds, status, 0

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
        self.requests += 1
        await asyncio.sleep(self.seconds)
        return self.status, "" if self.status else "ConnectionRefused"


async def no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


def dispatcher(store, log, http, **kw) -> Dispatcher:  # noqa: ANN001
    kw.setdefault("lease_seconds", 0.3)
    return Dispatcher(store, Hub(log), http, kw.pop("policy", RetryPolicy(0.01, 0.01, 3)), TargetGuard(True),
                      poll_seconds=0.05, sleep=no_sleep, uniform=lambda a, b: b, **kw)


async def appended(log: MemoryEventLog, count: int, first_version: int = 1) -> None:
    await appender.append_changes(log, [assessment(v, trust=f"R{v:03d}") for v in
                                        range(first_version, first_version + count)], HoldDown(), {})


async def test_the_lease_is_renewed_while_a_delivery_takes_longer_than_it():
    store, log = MemorySubscriptionStore(), MemoryEventLog()
    sub = Subscription(url="http://127.0.0.1:9/hook", secret=SECRET)
    await store.create(sub, "0-0")
    await appended(log, 1)
    d = dispatcher(store, log, SlowHttp(1.2))  # one POST outlives the 0.3 s lease four times over
    worker = asyncio.create_task(d.work(sub))
    try:
        await asyncio.sleep(0.9)
        assert await store.acquire(sub.id, "another-instance", 300) is None
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    assert await store.acquire(sub.id, "another-instance", 300) is not None  # released on stop


async def test_a_cursor_behind_the_trimmed_log_gets_a_gap_dead_letter_a_metric_and_a_status():
    store, log = MemorySubscriptionStore(), MemoryEventLog(retained=5)
    sub = Subscription(url="http://127.0.0.1:9/hook", secret=SECRET)
    await appended(log, 2)
    cursor = (await log.read_after("0-0"))[0][0]  # delivered the first event, then stopped
    await store.create(sub, cursor)
    await appended(log, 10, first_version=3)  # the log keeps the last 5: events 2..7 are gone
    oldest = (await log.read_after("0-0"))[0][0]
    http = SlowHttp(0)
    d = dispatcher(store, log, http)
    gaps_before = metrics.delivery_gaps._value.get()
    worker = asyncio.create_task(d.work(sub))
    try:
        for _ in range(100):
            if http.requests >= 5:
                break
            await asyncio.sleep(0.02)
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    assert http.requests == 5  # every retained event, from the oldest
    (gap,) = await store.failed(sub.id)
    assert gap.kind == "gap" and gap.position == oldest and cursor in gap.last_error
    status = await store.status(sub.id)
    assert status.gaps == 1 and "trimmed" in status.reason
    assert metrics.delivery_gaps._value.get() == gaps_before + 1


async def test_a_gap_dead_letter_is_dropped_on_replay_not_sent():
    store, log = MemorySubscriptionStore(), MemoryEventLog()
    sub = Subscription(url="http://127.0.0.1:9/hook", secret=SECRET)
    await store.create(sub, "0-0")
    await store.dead_letter(sub.id, DeadLetter(kind="gap", position="5-0", event_id="", body="", attempts=0,
                                               last_status=None, last_error="trimmed"))
    assert await store.queue_replay(sub.id) == 1
    http = SlowHttp(0)
    worker = asyncio.create_task(dispatcher(store, log, http).work(sub))
    try:
        for _ in range(50):
            if await store.next_replay(sub.id) is None:
                break
            await asyncio.sleep(0.02)
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    assert await store.next_replay(sub.id) is None and http.requests == 0


async def test_a_subscription_failing_longer_than_the_limit_is_disabled_and_stays_stopped():
    now = [1_000.0]
    store, log = MemorySubscriptionStore(), MemoryEventLog()
    sub = Subscription(url="http://127.0.0.1:9/hook", secret=SECRET)
    await store.create(sub, "0-0")
    await appended(log, 50)
    http = SlowHttp(0, status=500)

    async def clock_moves(seconds: float) -> None:  # each retry wait moves time on by a minute
        now[0] += 60
        await asyncio.sleep(0)

    d = Dispatcher(store, Hub(log), http, RetryPolicy(0.01, 0.01, 3), TargetGuard(True), lease_seconds=0.3,
                   poll_seconds=0.05, disable_after_seconds=600, sleep=clock_moves, uniform=lambda a, b: b,
                   clock=lambda: now[0])
    disabled_before = metrics.subscriptions_disabled._value.get()
    await asyncio.wait_for(d.work(sub), 10)  # returns by itself once disabled
    status = await store.status(sub.id)
    assert status.state == "disabled" and "without a success" in status.reason
    assert metrics.subscriptions_disabled._value.get() == disabled_before + 1
    assert http.requests < 50 * 3  # it stopped instead of retrying every event
    await d.sync()
    assert sub.id not in d.workers  # and is not started again until enabled


async def test_a_success_resets_the_failing_clock():
    now = [0.0]
    store, log = MemorySubscriptionStore(), MemoryEventLog()
    sub = Subscription(url="http://127.0.0.1:9/hook", secret=SECRET)
    await store.create(sub, "0-0")
    d = dispatcher(store, log, SlowHttp(0), clock=lambda: now[0], disable_after_seconds=600)
    assert not await d.note_failure(sub.id, "HTTP 500")
    now[0] = 500.0
    await d.note_success(sub.id)
    now[0] = 700.0
    assert not await d.note_failure(sub.id, "HTTP 500")  # a new failing spell starts here
    now[0] = 1_400.0
    assert await d.note_failure(sub.id, "HTTP 500")


class CountingStore(MemorySubscriptionStore):
    """Counts status reads (one Redis round trip each in production)."""

    def __init__(self) -> None:
        super().__init__()
        self.status_reads = 0

    async def status(self, sub_id: str):  # noqa: ANN201
        self.status_reads += 1
        return await super().status(sub_id)


async def test_successes_read_the_status_once_per_lease_and_after_a_failure_again():
    store, log = CountingStore(), MemoryEventLog()
    sub = Subscription(url="http://127.0.0.1:9/hook", secret=SECRET)
    await store.create(sub, "0-0")
    d = dispatcher(store, log, SlowHttp(0))
    for _ in range(5):
        await d.note_success(sub.id)
    assert store.status_reads == 1  # the first success learns there is no failure streak
    assert not await d.note_failure(sub.id, "HTTP 500")
    reads = store.status_reads
    await d.note_success(sub.id)  # ends the streak: read and cleared
    assert store.status_reads == reads + 1 and (await store.status(sub.id)).failing_since is None
    # Another instance may have held the lease meanwhile and recorded failures: a new lease reads again.
    await store.set_status(sub.id, (await store.status(sub.id)).model_copy(update={"failing_since": 5.0}))
    token = await store.acquire(sub.id, d.owner, 300)
    delivering = asyncio.create_task(d.deliver_from_cursor(sub, token))
    await asyncio.sleep(0.01)
    delivering.cancel()
    await asyncio.gather(delivering, return_exceptions=True)
    await d.note_success(sub.id)
    assert (await store.status(sub.id)).failing_since is None


class CountingLog(MemoryEventLog):
    """Counts reads of the oldest retained position (one Redis round trip each in production)."""

    def __init__(self, **kw) -> None:  # noqa: ANN003
        super().__init__(**kw)
        self.first_reads = 0

    async def first(self):  # noqa: ANN201
        self.first_reads += 1
        return await super().first()


async def test_a_cursor_the_hubs_memory_covers_is_not_checked_against_the_log():
    store, log = MemorySubscriptionStore(), CountingLog()
    sub = Subscription(url="http://127.0.0.1:9/hook", secret=SECRET)
    await store.create(sub, "0-0")
    d = dispatcher(store, log, SlowHttp(0))
    await appended(log, 3)
    before = (await log.read_after("0-0"))[0][0]  # appended before the hub started reading
    assert await d.skip_trimmed(sub, before, 1) == before and log.first_reads == 1  # not in memory: asked
    reader = asyncio.create_task(d.hub.run())
    try:
        await d.hub.ready.wait()
        await appended(log, 3, first_version=4)
        for _ in range(100):
            if len(d.hub.ring) == 3:
                break
            await asyncio.sleep(0.01)
        after = d.hub.ring[0][0]
        assert d.hub.covers(after) and not d.hub.covers(before)
        assert await d.skip_trimmed(sub, after, 1) == after and log.first_reads == 1  # in memory: not asked
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)


async def test_a_deleted_subscription_is_forgotten_with_its_worker():
    store, log = MemorySubscriptionStore(), MemoryEventLog()
    sub = Subscription(url="http://127.0.0.1:9/hook", secret=SECRET)
    await store.create(sub, "0-0")
    d = dispatcher(store, log, SlowHttp(0))
    await d.sync()
    await d.note_success(sub.id)
    assert sub.id in d.workers and sub.id in d.not_failing
    await store.delete(sub.id)
    await d.sync()
    assert sub.id not in d.workers and sub.id not in d.not_failing
