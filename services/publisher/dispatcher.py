"""Webhook delivery: one worker task per subscription, so a slow or failing subscriber delays only itself.

Each worker holds a Redis lease on its subscription (one deliverer across publisher instances), delivers
queued replays, then event-log entries after its cursor in log order (= league version order), retrying
each with backoff and jitter up to the maximum attempts, then dead-lettering it. The cursor moves only
after an entry is handled and is flushed to Redis every 100 ms, so a restart resumes where it stopped
and re-sends at most the last moments' events, with the same webhook-id (at-least-once).

Every attempt is logged (INFO: delivered, or failed and retrying; WARNING: dead-lettered) with the
subscription, the event id and the correlation id of the input that caused the event; the request carries
that id as ``X-Correlation-ID``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable

from shared.telemetry import HTTP_HEADER as CORRELATION_HEADER
from shared.telemetry import correlation_id as correlation_var

from services.publisher import metrics, signing
from services.publisher.errors import TargetRefused
from services.publisher.filters import matches
from services.publisher.hub import Hub
from services.publisher.retry import RetryPolicy, Uniform, delivered
from services.publisher.ssrf import TargetGuard
from services.publisher.subscriptions import DeadLetter, Subscription, SubscriptionStore
from services.publisher.webhook_client import WebhookClient

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class Dispatcher:
    def __init__(self, store: SubscriptionStore, hub: Hub, http: WebhookClient, policy: RetryPolicy,
                 guard: TargetGuard, *, lease_seconds: float = 15.0, poll_seconds: float = 1.0,
                 sleep: Sleep = asyncio.sleep, uniform: Uniform = random.uniform) -> None:
        self.store, self.hub, self.http, self.policy, self.guard = store, hub, http, policy, guard
        self.lease_ms, self.poll = int(lease_seconds * 1000), poll_seconds
        self.sleep, self.uniform = sleep, uniform
        self.owner = f"publisher-{uuid.uuid4().hex[:12]}"
        self.workers: dict[str, asyncio.Task[None]] = {}
        self.dirty: dict[str, str] = {}
        self._syncs = 0

    async def run(self, flush_seconds: float = 0.1) -> None:
        """Keep one worker per stored subscription (new ones picked up, deleted ones stopped); flush cursors."""
        next_sync = 0.0
        try:
            while True:
                try:
                    if time.monotonic() >= next_sync:
                        next_sync = time.monotonic() + self.poll
                        await self.sync()
                    await self.flush()
                except Exception:
                    log.exception("subscription sync failed")
                await asyncio.sleep(flush_seconds)
        finally:
            for task in self.workers.values():
                task.cancel()
            await asyncio.gather(*self.workers.values(), return_exceptions=True)
            await self.flush()

    def restart(self) -> None:
        """Redis lost its state and it was restored: stop every worker; the next sync starts them again from
        the restored cursors (the start of the rebuilt log)."""
        for task in self.workers.values():
            task.cancel()
        self.workers.clear()
        self.dirty.clear()

    async def sync(self) -> None:
        subs = {s.id: s for s in await self.store.all()}
        self._syncs += 1
        if self._syncs % 10 == 1:
            metrics.dead_letter_size.set(sum([await self.store.failed_count(i) for i in subs]))
        for sub_id in set(self.workers) - set(subs):
            self.workers.pop(sub_id).cancel()
        for sub_id, sub in subs.items():
            if sub_id not in self.workers or self.workers[sub_id].done():
                self.workers[sub_id] = asyncio.create_task(self.work(sub), name=f"webhook-{sub_id}")

    async def work(self, sub: Subscription) -> None:
        """Hold the lease (renewed every third of its life), then deliver in log order from the cursor."""
        cursor: str | None = None
        renew_at = replay_at = 0.0
        while True:
            try:
                now = time.monotonic()
                if now >= renew_at:
                    if not await self.store.acquire(sub.id, self.owner, self.lease_ms):
                        cursor = None  # another instance delivers; re-read its cursor if we take over
                        await asyncio.sleep(self.lease_ms / 3000)
                        continue
                    renew_at = now + self.lease_ms / 3000 * self.uniform(0.7, 1.0)  # spread renewals out
                    if cursor is None:
                        cursor = await self.store.cursor(sub.id)
                if now >= replay_at:
                    replay_at = now + self.poll
                    while (item := await self.store.next_replay(sub.id)) is not None:
                        await self.deliver(sub, item.position, item.event_id, item.body.encode(), item.occurred_ms,
                                           item.correlation_id)
                        await self.store.drop_replay(sub.id)
                rows = await self.hub.read_after(cursor, 200)
                if not rows:
                    await self.hub.wait(cursor, self.poll)
                    continue
                for position, entry in rows:
                    if matches(sub.filters, entry.facts):
                        await self.deliver(sub, position, entry.event_id, entry.body, entry.occurred_ms,
                                           entry.correlation_id)
                    cursor = position
                    self.dirty[sub.id] = position
            except asyncio.CancelledError:
                await asyncio.shield(self.store.release(sub.id, self.owner))
                raise
            except Exception:
                log.exception("webhook worker failed", extra={"subscription": sub.id})
                renew_at = 0.0  # the in-memory cursor stays valid while the lease is ours; re-check it
                await asyncio.sleep(1)

    async def flush(self) -> None:
        """Write the cursors that moved, in one round trip (a crash re-sends at most this interval)."""
        dirty = {k: v for k, v in self.dirty.items() if k in self.workers}
        self.dirty.clear()
        if dirty:
            await self.store.set_cursors(dirty)

    async def deliver(self, sub: Subscription, position: str, event_id: str, body: bytes, occurred_ms: int,
                      correlation_id: str = "") -> bool:
        """POST one event until it is accepted or the attempts run out (then dead-letter it)."""
        token = correlation_var.set(correlation_id or None)  # every log line of this delivery carries it
        try:
            return await self._deliver(sub, position, event_id, body, occurred_ms, correlation_id)
        finally:
            correlation_var.reset(token)

    async def _deliver(self, sub: Subscription, position: str, event_id: str, body: bytes, occurred_ms: int,
                       correlation_id: str) -> bool:
        attempt, status, error = 0, None, ""
        facts = {"subscription": sub.id, "event_id": event_id, "position": position}
        while True:
            attempt += 1
            status, error = await self.post(sub, event_id, body, correlation_id)
            if delivered(status):
                metrics.deliveries.labels("delivered").inc()
                if occurred_ms:
                    metrics.change_to_delivery.labels("webhook").observe(max(0.0, time.time() - occurred_ms / 1000))
                log.info("webhook delivered", extra={**facts, "attempt": attempt, "status": status})
                return True
            wait = self.policy.delay(attempt, self.uniform)
            if wait is None:
                break
            metrics.deliveries.labels("retrying").inc()
            metrics.retries.inc()
            log.info("webhook delivery attempt failed; retrying",
                     extra={**facts, "attempt": attempt, "status": status, "error": error, "retry_in_s": round(wait, 3)})
            await self.sleep(wait)
        metrics.deliveries.labels("dead_lettered").inc()
        await self.store.dead_letter(sub.id, DeadLetter(
            position=position, event_id=event_id, body=body.decode(), occurred_ms=occurred_ms,
            correlation_id=correlation_id, attempts=attempt, last_status=status, last_error=error))
        log.warning("webhook delivery dead-lettered",
                    extra={**facts, "attempts": attempt, "status": status, "error": error})
        return False

    async def post(self, sub: Subscription, event_id: str, body: bytes, correlation_id: str = "") -> tuple[int | None, str]:
        try:
            await self.guard.check(sub.url)
        except TargetRefused as exc:
            return None, exc.message
        headers = signing.headers(sub.secret, event_id, int(time.time()), body)
        if correlation_id:
            headers[CORRELATION_HEADER] = correlation_id
        started = time.perf_counter()
        status, error = await self.http.post(sub.url, body, headers)
        metrics.delivery_latency.observe(time.perf_counter() - started)
        return status, error or ("" if delivered(status) else f"HTTP {status}")

