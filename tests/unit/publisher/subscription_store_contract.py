"""Behaviour every subscription store must have (the Redis store and its in-memory twin): leases that one
instance holds at a time, fencing tokens that refuse stale cursor writes, and a status per subscription."""

from __future__ import annotations

import asyncio

from services.publisher.subscriptions import DeadLetter, Subscription, SubscriptionStatus

SECRET = "whsec_" + "A" * 44


async def _created(store) -> Subscription:  # noqa: ANN001
    sub = Subscription(url="https://receiver.example/hook", secret=SECRET)
    await store.create(sub, "0-0")
    return sub


async def one_instance_holds_a_lease_at_a_time(store) -> None:  # noqa: ANN001
    sub = await _created(store)
    token = await store.acquire(sub.id, "a", 5_000)
    assert token is not None
    assert await store.acquire(sub.id, "b", 5_000) is None
    assert await store.acquire(sub.id, "a", 5_000) == token  # held: extended, same token
    assert await store.renew(sub.id, "a", token, 5_000)
    await store.release(sub.id, "a", token)
    assert await store.acquire(sub.id, "b", 5_000) is not None


async def a_lapsed_lease_cannot_write_the_cursor(store) -> None:  # noqa: ANN001
    sub = await _created(store)
    old = await store.acquire(sub.id, "a", 150)
    await asyncio.sleep(0.3)  # "a" paused past its lease
    new = await store.acquire(sub.id, "b", 5_000)
    assert old is not None and new is not None and new > old
    assert not await store.renew(sub.id, "a", old, 5_000)
    assert await store.set_cursors({sub.id: ("9-0", old)}) == 1
    assert await store.cursor(sub.id) == "0-0"
    assert await store.set_cursor(sub.id, "7-0", new)
    assert await store.cursor(sub.id) == "7-0"
    assert await store.set_cursor(sub.id, "8-0")  # unfenced writes (no lease involved) still go through


async def status_is_kept_and_deleted_with_the_subscription(store) -> None:  # noqa: ANN001
    sub = await _created(store)
    assert (await store.status(sub.id)).state == "active"
    disabled = SubscriptionStatus(state="disabled", reason="failing", failing_since=12.5, gaps=2)
    await store.set_status(sub.id, disabled)
    assert await store.status(sub.id) == disabled
    await store.delete(sub.id)
    assert await store.status(sub.id) == SubscriptionStatus()


def _letter(n: int) -> DeadLetter:
    return DeadLetter(position=f"{n}-0", event_id=f"evt_{n}", body="{}", attempts=8, last_status=500,
                      last_error="HTTP 500")


async def dead_letters_are_capped_and_replayed_in_chunks(store) -> None:  # noqa: ANN001
    sub = await _created(store)
    store.max_dead_letters = 3
    dropped = [await store.dead_letter(sub.id, _letter(n)) for n in range(5)]
    assert dropped == [0, 0, 0, 1, 1]
    assert [d.event_id for d in await store.failed(sub.id)] == ["evt_2", "evt_3", "evt_4"]  # the newest kept
    assert await store.queue_replay(sub.id, chunk=2) == 3
    assert await store.failed_count(sub.id) == 0
    assert (await store.next_replay(sub.id)).event_id == "evt_2"
    for n in range(5, 8):
        await store.dead_letter(sub.id, _letter(n))
    assert await store.queue_replay(sub.id, chunk=2) == 0  # the replay queue is full: nothing moves yet
    await store.drop_replay(sub.id)
    assert await store.queue_replay(sub.id, chunk=2) == 1
    assert [d.event_id for d in await store.failed(sub.id)] == ["evt_6", "evt_7"]


CONTRACT = (one_instance_holds_a_lease_at_a_time, a_lapsed_lease_cannot_write_the_cursor,
            status_is_kept_and_deleted_with_the_subscription, dead_letters_are_capped_and_replayed_in_chunks)
