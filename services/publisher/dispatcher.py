"""Webhook delivery: one worker task per subscription, so a slow or failing subscriber delays only itself.

Each worker holds a Redis lease on its subscription (one deliverer across publisher instances), renewed
in the background every third of its life however long a delivery takes, and stops delivering as soon as
a renewal fails. It delivers queued replays, then event-log entries after its cursor in log order
(= league version order), retrying each with backoff and jitter up to the maximum attempts, then
dead-lettering it. The cursor moves only after an entry is handled and is flushed to Redis every 100 ms,
fenced by the lease's token (an instance that lost its lease cannot move it), so a restart resumes where
it stopped and re-sends at most the last moments' events, with the same webhook-id (at-least-once).

A cursor behind the oldest retained entry means events were trimmed before this subscriber got them: the
gap is dead-lettered (``kind: gap``), counted (``nof_publisher_delivery_gaps_total``) and shown in the
subscription's status. A subscription whose deliveries have failed without a success for
``disable_after_seconds`` is disabled (circuit breaking; ``nof_publisher_subscriptions_disabled_total``)
until an operator enables it again.

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
from services.publisher.event_log import id_key
from services.publisher.subscriptions import DeadLetter, Subscription, SubscriptionStatus, SubscriptionStore
from services.publisher.webhook_client import WebhookClient

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class Disabled(Exception):
    """The circuit breaker disabled the subscription: its worker stops."""


class Dispatcher:
    def __init__(self, store: SubscriptionStore, hub: Hub, http: WebhookClient, policy: RetryPolicy,
                 guard: TargetGuard, *, lease_seconds: float = 15.0, poll_seconds: float = 1.0,
                 disable_after_seconds: float = 3 * 24 * 3600, sleep: Sleep = asyncio.sleep,
                 uniform: Uniform = random.uniform, clock: Callable[[], float] = time.time) -> None:
        self.store, self.hub, self.http, self.policy, self.guard = store, hub, http, policy, guard
        self.lease_ms, self.poll = int(lease_seconds * 1000), poll_seconds
        self.disable_after = disable_after_seconds
        self.sleep, self.uniform, self.clock = sleep, uniform, clock
        self.owner = f"publisher-{uuid.uuid4().hex[:12]}"
        self.workers: dict[str, asyncio.Task[None]] = {}
        self.dirty: dict[str, tuple[str, int]] = {}  # subscription -> (cursor, lease token)
        #: subscriptions whose stored status this instance knows has no failure streak (it holds their lease,
        #: and only the lease holder records failures), so a success need not read the status again
        self.not_failing: set[str] = set()
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
            self.not_failing.discard(sub_id)
        for sub_id, sub in subs.items():
            if sub_id not in self.workers or self.workers[sub_id].done():
                if (await self.store.status(sub_id)).state == "disabled":
                    continue  # the circuit breaker stopped it; an operator enables it again
                self.workers[sub_id] = asyncio.create_task(self.work(sub), name=f"webhook-{sub_id}")

    async def work(self, sub: Subscription) -> None:
        """Hold the lease (renewed in the background) and deliver from the cursor while it is held."""
        while True:
            token: int | None = None
            try:
                token = await self.store.acquire(sub.id, self.owner, self.lease_ms)
                if token is None:
                    await asyncio.sleep(self.lease_ms / 3000)  # another instance delivers
                    continue
                delivering = asyncio.create_task(self.deliver_from_cursor(sub, token), name=f"deliver-{sub.id}")
                try:
                    await self.keep_lease(sub.id, token, delivering)
                finally:
                    delivering.cancel()
                    # gather, not a bare await: a cancellation of this worker must not be swallowed here
                    await asyncio.gather(delivering, return_exceptions=True)
            except asyncio.CancelledError:
                if token is not None:
                    await asyncio.shield(self.store.release(sub.id, self.owner, token))
                raise
            except Disabled:
                await self.store.release(sub.id, self.owner, token or 0)
                return
            except Exception:
                log.exception("webhook worker failed", extra={"subscription": sub.id})
                await asyncio.sleep(1)

    async def keep_lease(self, sub_id: str, token: int, delivering: asyncio.Task[None]) -> None:
        """Renew the lease every third of its life until ``delivering`` ends (its failure is raised here);
        return as soon as a renewal fails, so the caller stops delivering."""
        while not delivering.done():
            await asyncio.wait({delivering}, timeout=self.lease_ms / 3000 * self.uniform(0.7, 1.0))
            if delivering.done():
                break
            if not await self.store.renew(sub_id, self.owner, token, self.lease_ms):
                log.warning("webhook lease lost; delivery stops here", extra={"subscription": sub_id})
                return
        delivering.result()

    async def deliver_from_cursor(self, sub: Subscription, token: int) -> None:
        self.not_failing.discard(sub.id)  # a new lease: another instance may have recorded failures meanwhile
        cursor = await self.store.cursor(sub.id)
        replay_at = 0.0
        while True:
            now = time.monotonic()
            if now >= replay_at:
                replay_at = now + self.poll
                while (item := await self.store.next_replay(sub.id)) is not None:
                    if item.kind == "delivery":  # a gap has nothing left to send
                        await self.deliver(sub, item.position, item.event_id, item.body.encode(), item.occurred_ms,
                                           item.correlation_id)
                    await self.store.drop_replay(sub.id)
            cursor = await self.skip_trimmed(sub, cursor, token)
            rows = await self.hub.read_after(cursor, 200)
            if not rows:
                await self.hub.wait(cursor, self.poll)
                continue
            for position, entry in rows:
                if matches(sub.filters, entry.facts):
                    await self.deliver(sub, position, entry.event_id, entry.body, entry.occurred_ms,
                                       entry.correlation_id)
                cursor = position
                self.dirty[sub.id] = (position, token)

    async def skip_trimmed(self, sub: Subscription, cursor: str, token: int) -> str:
        """When the log no longer holds what follows ``cursor``, record the gap and go on from the oldest entry."""
        if self.hub.covers(cursor):  # what follows is in the hub's memory: nothing of it can be lost
            return cursor
        first = await self.hub.log.first()
        if first is None or id_key(cursor) == (0, 0) or id_key(first) <= id_key(cursor):
            return cursor
        reason = f"events after {cursor} up to {first} were trimmed from the event log before delivery"
        await self.store.dead_letter(sub.id, DeadLetter(
            kind="gap", position=first, event_id="", body="", attempts=0, last_status=None, last_error=reason))
        status = await self.store.status(sub.id)
        await self.store.set_status(sub.id, status.model_copy(update={"gaps": status.gaps + 1, "reason": reason}))
        metrics.delivery_gaps.inc()
        log.warning("webhook subscriber fell behind the retained event log",
                    extra={"subscription": sub.id, "cursor": cursor, "oldest_retained": first})
        behind = f"{id_key(first)[0]}-{id_key(first)[1] - 1}" if id_key(first)[1] else f"{id_key(first)[0] - 1}-0"
        self.dirty[sub.id] = (behind, token)  # just before the oldest entry, so it is delivered next
        return behind

    async def flush(self) -> None:
        """Write the cursors that moved, in one round trip (a crash re-sends at most this interval)."""
        dirty = {k: v for k, v in self.dirty.items() if k in self.workers}
        self.dirty.clear()
        if dirty and (refused := await self.store.set_cursors(dirty)):
            log.warning("cursor writes refused: another instance holds those leases now", extra={"refused": refused})

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
                await self.note_success(sub.id)
                metrics.deliveries.labels("delivered").inc()
                if occurred_ms:
                    metrics.change_to_delivery.labels("webhook").observe(max(0.0, time.time() - occurred_ms / 1000))
                log.info("webhook delivered", extra={**facts, "attempt": attempt, "status": status})
                return True
            wait = self.policy.delay(attempt, self.uniform)
            if wait is None or await self.note_failure(sub.id, error):
                break
            metrics.deliveries.labels("retrying").inc()
            metrics.retries.inc()
            log.info("webhook delivery attempt failed; retrying",
                     extra={**facts, "attempt": attempt, "status": status, "error": error, "retry_in_s": round(wait, 3)})
            await self.sleep(wait)
        metrics.deliveries.labels("dead_lettered").inc()
        dropped = await self.store.dead_letter(sub.id, DeadLetter(
            position=position, event_id=event_id, body=body.decode(), occurred_ms=occurred_ms,
            correlation_id=correlation_id, attempts=attempt, last_status=status, last_error=error))
        if dropped:
            metrics.dead_letters_dropped.inc(dropped)
            log.warning("oldest dead letters dropped: the list is at its cap", extra={**facts, "dropped": dropped})
        log.warning("webhook delivery dead-lettered",
                    extra={**facts, "attempts": attempt, "status": status, "error": error})
        if (await self.store.status(sub.id)).state == "disabled":
            raise Disabled(sub.id)
        return False

    async def note_success(self, sub_id: str) -> None:
        if sub_id in self.not_failing:
            return
        status = await self.store.status(sub_id)
        if status.failing_since is not None:
            await self.store.set_status(sub_id, status.model_copy(update={"failing_since": None}))
        self.not_failing.add(sub_id)

    async def note_failure(self, sub_id: str, error: str) -> bool:
        """Record a failed attempt; True when the subscription has now failed long enough to be disabled."""
        self.not_failing.discard(sub_id)
        status, now = await self.store.status(sub_id), self.clock()
        if status.failing_since is None:
            await self.store.set_status(sub_id, status.model_copy(update={"failing_since": now}))
            return False
        if now - status.failing_since < self.disable_after:
            return False
        reason = (f"disabled after failing for {now - status.failing_since:.0f} s without a success "
                  f"(limit {self.disable_after:.0f} s); last error: {error}")
        await self.store.set_status(sub_id, status.model_copy(update={"state": "disabled", "reason": reason}))
        metrics.subscriptions_disabled.inc()
        log.warning("webhook subscription disabled", extra={"subscription": sub_id, "reason": reason})
        return True

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

