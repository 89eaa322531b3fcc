"""Webhook subscriptions: the model, and their working copy in Redis (with an in-memory twin).

Which subscriptions exist is recorded first in a compacted Kafka topic (subscription_log.py), the source
of truth; Redis holds the working copy, restored from that topic when Redis loses it (recovery.py).

The secret is stored sealed (secret_box.py) in both places: a reader of either cannot sign webhooks.

Keys (``{p}`` = NOF_REDIS_KEY_PREFIX): ``{p}:subs`` hash id → subscription JSON (with its sealed secret),
``{p}:sub:{id}:cursor`` the last event-log position fully handled, ``{p}:sub:{id}:failed`` dead letters
(list, oldest first), ``{p}:sub:{id}:replay`` dead letters queued for redelivery, ``{p}:sub:{id}:lease``
which publisher instance delivers for this subscription.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import redis.asyncio as aioredis
from pydantic import BaseModel, ConfigDict, Field

from shared.events import utcnow

from services.publisher.filters import Filters
from services.publisher.secret_box import SecretBox


class Subscription(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=lambda: f"sub_{uuid.uuid4().hex}")
    url: str
    filters: Filters = Field(default_factory=Filters)
    description: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    secret: str = Field(exclude=True, repr=False)

    def stored(self, box: SecretBox) -> str:
        """The JSON kept in the subscriptions topic and in Redis: the secret sealed, never in plain."""
        return json.dumps({**self.model_dump(mode="json"), "sealed_secret": box.seal(self.secret)})

    @classmethod
    def from_stored(cls, raw: str | bytes, box: SecretBox) -> "Subscription":
        data = json.loads(raw)
        sealed = data.pop("sealed_secret", None)
        if sealed is not None:
            data["secret"] = box.open(sealed)
        return cls.model_validate(data)  # a record from before sealing carries "secret" in plain


class DeadLetter(BaseModel):
    """A delivery given up after the maximum attempts; replay sends it again with the same webhook-id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    position: str = Field(description="event-log position (SSE id) of the event")
    event_id: str
    body: str = Field(description="the CloudEvent JSON as it was sent")
    occurred_ms: int = 0
    correlation_id: str = Field(default="", description="of the input that caused the event (also sent as X-Correlation-ID)")
    attempts: int
    last_status: int | None
    last_error: str
    failed_at: datetime = Field(default_factory=utcnow)


_MOVE_ALL = """
local items = redis.call('LRANGE', KEYS[1], 0, -1)
for i = 1, #items do redis.call('RPUSH', KEYS[2], items[i]) end
redis.call('DEL', KEYS[1])
return #items
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class RedisSubscriptionStore:
    def __init__(self, client: aioredis.Redis, prefix: str, box: SecretBox) -> None:
        self.client, self.prefix, self.box = client, prefix, box
        self.index = f"{prefix}:subs"
        self._renew = client.register_script(_RENEW)
        self._move_all = client.register_script(_MOVE_ALL)

    def _key(self, sub_id: str, what: str) -> str:
        return f"{self.prefix}:sub:{sub_id}:{what}"

    async def create(self, sub: Subscription, cursor: str) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(self.index, sub.id, sub.stored(self.box))
        pipe.set(self._key(sub.id, "cursor"), cursor)
        await pipe.execute()

    async def reset(self) -> None:
        """Delete every subscription and its keys (cursors, dead letters, replays, leases, the relay's cursor)."""
        keys = [k async for k in self.client.scan_iter(match=f"{self.prefix}:sub:*", count=1000)]
        await self.client.delete(self.index, *keys)

    async def all(self) -> list[Subscription]:
        raw = await self.client.hgetall(self.index)
        return sorted((Subscription.from_stored(v, self.box) for v in raw.values()), key=lambda s: s.created_at)

    async def get(self, sub_id: str) -> Subscription | None:
        raw = await self.client.hget(self.index, sub_id)
        return None if raw is None else Subscription.from_stored(raw, self.box)

    async def delete(self, sub_id: str) -> bool:
        pipe = self.client.pipeline(transaction=True)
        pipe.hdel(self.index, sub_id)
        pipe.delete(*(self._key(sub_id, w) for w in ("cursor", "failed", "replay", "lease")))
        return bool((await pipe.execute())[0])

    async def cursor(self, sub_id: str) -> str:
        raw = await self.client.get(self._key(sub_id, "cursor"))
        return raw.decode() if raw else "0-0"

    async def set_cursor(self, sub_id: str, position: str) -> None:
        await self.client.set(self._key(sub_id, "cursor"), position)

    async def set_cursors(self, positions: dict[str, str]) -> None:
        if positions:
            await self.client.mset({self._key(k, "cursor"): v for k, v in positions.items()})

    async def dead_letter(self, sub_id: str, item: DeadLetter) -> None:
        await self.client.rpush(self._key(sub_id, "failed"), item.model_dump_json())

    async def failed(self, sub_id: str, limit: int = 1000) -> list[DeadLetter]:
        rows = await self.client.lrange(self._key(sub_id, "failed"), 0, limit - 1)
        return [DeadLetter.model_validate_json(r) for r in rows]

    async def failed_count(self, sub_id: str) -> int:
        return int(await self.client.llen(self._key(sub_id, "failed")))

    async def queue_replay(self, sub_id: str) -> int:
        """Move every dead letter to the replay queue (atomically); returns how many."""
        return int(await self._move_all(keys=[self._key(sub_id, "failed"), self._key(sub_id, "replay")]))

    async def next_replay(self, sub_id: str) -> DeadLetter | None:
        raw = await self.client.lindex(self._key(sub_id, "replay"), 0)
        return None if raw is None else DeadLetter.model_validate_json(raw)

    async def drop_replay(self, sub_id: str) -> None:
        await self.client.lpop(self._key(sub_id, "replay"))

    async def acquire(self, sub_id: str, owner: str, ttl_ms: int) -> bool:
        key = self._key(sub_id, "lease")
        if await self.client.set(key, owner, nx=True, px=ttl_ms):
            return True
        return bool(await self._renew(keys=[key], args=[owner, ttl_ms]))

    async def release(self, sub_id: str, owner: str) -> None:
        await self._renew(keys=[self._key(sub_id, "lease")], args=[owner, 1])


class MemorySubscriptionStore:
    """In-memory twin (one process, so every lease is granted)."""

    def __init__(self) -> None:
        self.subs: dict[str, Subscription] = {}
        self.cursors: dict[str, str] = {}
        self.failures: dict[str, list[DeadLetter]] = {}
        self.replays: dict[str, list[DeadLetter]] = {}

    async def create(self, sub: Subscription, cursor: str) -> None:
        self.subs[sub.id], self.cursors[sub.id] = sub, cursor

    async def reset(self) -> None:
        for d in (self.subs, self.cursors, self.failures, self.replays):
            d.clear()

    async def all(self) -> list[Subscription]:
        return sorted(self.subs.values(), key=lambda s: s.created_at)

    async def get(self, sub_id: str) -> Subscription | None:
        return self.subs.get(sub_id)

    async def delete(self, sub_id: str) -> bool:
        for d in (self.cursors, self.failures, self.replays):
            d.pop(sub_id, None)
        return self.subs.pop(sub_id, None) is not None

    async def cursor(self, sub_id: str) -> str:
        return self.cursors.get(sub_id, "0-0")

    async def set_cursor(self, sub_id: str, position: str) -> None:
        self.cursors[sub_id] = position

    async def set_cursors(self, positions: dict[str, str]) -> None:
        self.cursors.update(positions)

    async def dead_letter(self, sub_id: str, item: DeadLetter) -> None:
        self.failures.setdefault(sub_id, []).append(item)

    async def failed(self, sub_id: str, limit: int = 1000) -> list[DeadLetter]:
        return self.failures.get(sub_id, [])[:limit]

    async def failed_count(self, sub_id: str) -> int:
        return len(self.failures.get(sub_id, []))

    async def queue_replay(self, sub_id: str) -> int:
        items = self.failures.pop(sub_id, [])
        self.replays.setdefault(sub_id, []).extend(items)
        return len(items)

    async def next_replay(self, sub_id: str) -> DeadLetter | None:
        q = self.replays.get(sub_id)
        return q[0] if q else None

    async def drop_replay(self, sub_id: str) -> None:
        q = self.replays.get(sub_id)
        if q:
            q.pop(0)

    async def acquire(self, sub_id: str, owner: str, ttl_ms: int) -> bool:
        return True

    async def release(self, sub_id: str, owner: str) -> None:
        return None


SubscriptionStore = RedisSubscriptionStore | MemorySubscriptionStore
