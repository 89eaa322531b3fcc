"""Webhook subscriptions: the model, and their working copy in Redis (with an in-memory twin).

Which subscriptions exist is recorded first in a compacted Kafka topic (subscription_log.py), the source
of truth; Redis holds the working copy, restored from that topic when Redis loses it (recovery.py).

The secret is stored sealed (secret_box.py) in both places: a reader of either cannot sign webhooks.

Keys (``{p}`` = NOF_REDIS_KEY_PREFIX): ``{p}:subs`` hash id → subscription JSON (with its sealed secret),
``{p}:sub:{id}:cursor`` the last event-log position fully handled, ``{p}:sub:{id}:failed`` dead letters
(list, oldest first), ``{p}:sub:{id}:replay`` dead letters queued for redelivery, ``{p}:sub:{id}:lease``
which publisher instance delivers for this subscription (``<owner>:<token>``), ``{p}:sub:{id}:fence`` the
token of the latest lease granted.

Fencing: each new lease gets a larger token, and a cursor write names the token it was made under; a write
whose token is no longer the latest is dropped, so an instance that lost its lease (a pause longer than the
lease, say) cannot move the cursor of the instance that took over.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Literal

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
    """A delivery given up after the maximum attempts; replay sends it again with the same webhook-id.

    A ``gap`` dead letter records events that were trimmed from the event log before this subscription got
    them (its cursor fell behind the retained log): they cannot be sent, so replay drops it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["delivery", "gap"] = "delivery"
    position: str = Field(description="event-log position (SSE id) of the event")
    event_id: str
    body: str = Field(description="the CloudEvent JSON as it was sent")
    occurred_ms: int = 0
    correlation_id: str = Field(default="", description="of the input that caused the event (also sent as X-Correlation-ID)")
    attempts: int
    last_status: int | None
    last_error: str
    failed_at: datetime = Field(default_factory=utcnow)


class SubscriptionStatus(BaseModel):
    """Whether the worker delivers (``active``) or the circuit breaker stopped it (``disabled``), and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state: Literal["active", "disabled"] = "active"
    reason: str = ""
    failing_since: float | None = Field(default=None, description="epoch seconds of the first failure in a row")
    gaps: int = Field(default=0, description="times the cursor fell behind the retained event log")


# KEYS: failed, replay. ARGV: chunk, most the replay queue may hold. Moves the oldest dead letters, at most
# one chunk per call (a long list never blocks Redis for long); returns how many moved.
_MOVE_CHUNK = """
local room = tonumber(ARGV[2]) - redis.call('LLEN', KEYS[2])
local n = math.min(tonumber(ARGV[1]), room)
if n <= 0 then return 0 end
local items = redis.call('LRANGE', KEYS[1], 0, n - 1)
for i = 1, #items do redis.call('RPUSH', KEYS[2], items[i]) end
redis.call('LTRIM', KEYS[1], #items, -1)
return #items
"""

#: Dead letters kept per subscription (the oldest are dropped past it) and moved per replay step.
MAX_DEAD_LETTERS = 10_000
REPLAY_CHUNK = 500

# KEYS: lease, fence. ARGV: owner, ttl ms. The token of the lease held or newly granted; -1 if another holds it.
_ACQUIRE = """
local held = redis.call('GET', KEYS[1])
if held then
  local owner, token = string.match(held, '^(.*):(%d+)$')
  if owner == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(token)
  end
  return -1
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. token, 'PX', ARGV[2])
return token
"""

# KEYS: lease. ARGV: owner:token, ttl ms (0 releases it: PEXPIRE 0 deletes the key).
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

# KEYS: cursor1, fence1, cursor2, fence2, ... ARGV: position1, token1, ... Returns the writes refused.
_FENCED_SET = """
local refused = 0
for i = 1, #KEYS, 2 do
  local token = ARGV[i + 1]
  if token == '' or redis.call('GET', KEYS[i + 1]) == token then
    redis.call('SET', KEYS[i], ARGV[i])
  else
    refused = refused + 1
  end
end
return refused
"""


class RedisSubscriptionStore:
    def __init__(self, client: aioredis.Redis, prefix: str, box: SecretBox,
                 max_dead_letters: int = MAX_DEAD_LETTERS) -> None:
        self.client, self.prefix, self.box = client, prefix, box
        self.max_dead_letters = max_dead_letters
        self.index = f"{prefix}:subs"
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._fenced_set = client.register_script(_FENCED_SET)
        self._move_chunk = client.register_script(_MOVE_CHUNK)

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
        pipe.delete(*(self._key(sub_id, w) for w in ("cursor", "failed", "replay", "lease", "fence", "status")))
        return bool((await pipe.execute())[0])

    async def cursor(self, sub_id: str) -> str:
        raw = await self.client.get(self._key(sub_id, "cursor"))
        return raw.decode() if raw else "0-0"

    async def set_cursor(self, sub_id: str, position: str, token: int | None = None) -> bool:
        """Move the cursor, unless ``token`` is given and a newer lease was granted since (then False)."""
        return await self.set_cursors({sub_id: (position, token)}) == 0

    async def set_cursors(self, positions: dict[str, tuple[str, int | None]]) -> int:
        """Move several cursors in one round trip, each fenced by its token; returns how many were refused."""
        if not positions:
            return 0
        keys, args = [], []
        for sub_id, (position, token) in positions.items():
            keys += [self._key(sub_id, "cursor"), self._key(sub_id, "fence")]
            args += [position, "" if token is None else str(token)]
        return int(await self._fenced_set(keys=keys, args=args))

    async def dead_letter(self, sub_id: str, item: DeadLetter) -> int:
        """Append a dead letter, dropping the oldest past the cap; returns how many were dropped."""
        key = self._key(sub_id, "failed")
        pipe = self.client.pipeline(transaction=True)
        pipe.rpush(key, item.model_dump_json())
        pipe.ltrim(key, -self.max_dead_letters, -1)
        length = (await pipe.execute())[0]
        return max(0, int(length) - self.max_dead_letters)

    async def status(self, sub_id: str) -> SubscriptionStatus:
        raw = await self.client.get(self._key(sub_id, "status"))
        return SubscriptionStatus() if raw is None else SubscriptionStatus.model_validate_json(raw)

    async def set_status(self, sub_id: str, status: SubscriptionStatus) -> None:
        await self.client.set(self._key(sub_id, "status"), status.model_dump_json())

    async def failed(self, sub_id: str, limit: int = 1000) -> list[DeadLetter]:
        rows = await self.client.lrange(self._key(sub_id, "failed"), 0, limit - 1)
        return [DeadLetter.model_validate_json(r) for r in rows]

    async def failed_count(self, sub_id: str) -> int:
        return int(await self.client.llen(self._key(sub_id, "failed")))

    async def queue_replay(self, sub_id: str, chunk: int = REPLAY_CHUNK) -> int:
        """Move the dead letters to the replay queue, a chunk at a time, while it has room; returns how many."""
        keys, moved = [self._key(sub_id, "failed"), self._key(sub_id, "replay")], 0
        while step := int(await self._move_chunk(keys=keys, args=[chunk, self.max_dead_letters])):
            moved += step
        return moved

    async def next_replay(self, sub_id: str) -> DeadLetter | None:
        raw = await self.client.lindex(self._key(sub_id, "replay"), 0)
        return None if raw is None else DeadLetter.model_validate_json(raw)

    async def drop_replay(self, sub_id: str) -> None:
        await self.client.lpop(self._key(sub_id, "replay"))

    async def acquire(self, sub_id: str, owner: str, ttl_ms: int) -> int | None:
        """The lease's fencing token if ``owner`` holds it now (newly granted or extended), else None."""
        token = int(await self._acquire(keys=[self._key(sub_id, "lease"), self._key(sub_id, "fence")],
                                        args=[owner, ttl_ms]))
        return None if token < 0 else token

    async def renew(self, sub_id: str, owner: str, token: int, ttl_ms: int) -> bool:
        """Extend the lease granted with ``token``; False when it lapsed or another instance holds it."""
        return bool(await self._renew(keys=[self._key(sub_id, "lease")], args=[f"{owner}:{token}", ttl_ms]))

    async def release(self, sub_id: str, owner: str, token: int) -> None:
        await self._renew(keys=[self._key(sub_id, "lease")], args=[f"{owner}:{token}", 0])  # 0 deletes it


class MemorySubscriptionStore:
    """In-memory twin: leases expire and are fenced as in Redis (``clock`` is monotonic seconds)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_dead_letters: int = MAX_DEAD_LETTERS) -> None:
        self.clock, self.max_dead_letters = clock, max_dead_letters
        self.leases: dict[str, tuple[str, int, float]] = {}  # id -> owner, token, expires at
        self.fences: dict[str, int] = {}
        self.subs: dict[str, Subscription] = {}
        self.cursors: dict[str, str] = {}
        self.failures: dict[str, list[DeadLetter]] = {}
        self.replays: dict[str, list[DeadLetter]] = {}
        self.statuses: dict[str, SubscriptionStatus] = {}

    async def create(self, sub: Subscription, cursor: str) -> None:
        self.subs[sub.id], self.cursors[sub.id] = sub, cursor

    async def reset(self) -> None:
        for d in (self.subs, self.cursors, self.failures, self.replays, self.leases, self.fences, self.statuses):
            d.clear()

    async def all(self) -> list[Subscription]:
        return sorted(self.subs.values(), key=lambda s: s.created_at)

    async def get(self, sub_id: str) -> Subscription | None:
        return self.subs.get(sub_id)

    async def delete(self, sub_id: str) -> bool:
        for d in (self.cursors, self.failures, self.replays, self.leases, self.fences, self.statuses):
            d.pop(sub_id, None)
        return self.subs.pop(sub_id, None) is not None

    async def cursor(self, sub_id: str) -> str:
        return self.cursors.get(sub_id, "0-0")

    async def set_cursor(self, sub_id: str, position: str, token: int | None = None) -> bool:
        return await self.set_cursors({sub_id: (position, token)}) == 0

    async def set_cursors(self, positions: dict[str, tuple[str, int | None]]) -> int:
        refused = 0
        for sub_id, (position, token) in positions.items():
            if token is None or self.fences.get(sub_id) == token:
                self.cursors[sub_id] = position
            else:
                refused += 1
        return refused

    async def dead_letter(self, sub_id: str, item: DeadLetter) -> int:
        items = self.failures.setdefault(sub_id, [])
        items.append(item)
        dropped = max(0, len(items) - self.max_dead_letters)
        del items[:dropped]
        return dropped

    async def status(self, sub_id: str) -> SubscriptionStatus:
        return self.statuses.get(sub_id, SubscriptionStatus())

    async def set_status(self, sub_id: str, status: SubscriptionStatus) -> None:
        self.statuses[sub_id] = status

    async def failed(self, sub_id: str, limit: int = 1000) -> list[DeadLetter]:
        return self.failures.get(sub_id, [])[:limit]

    async def failed_count(self, sub_id: str) -> int:
        return len(self.failures.get(sub_id, []))

    async def queue_replay(self, sub_id: str, chunk: int = REPLAY_CHUNK) -> int:
        failed, queue = self.failures.get(sub_id, []), self.replays.setdefault(sub_id, [])
        moved = min(len(failed), max(0, self.max_dead_letters - len(queue)))
        queue.extend(failed[:moved])
        del failed[:moved]
        return moved

    async def next_replay(self, sub_id: str) -> DeadLetter | None:
        q = self.replays.get(sub_id)
        return q[0] if q else None

    async def drop_replay(self, sub_id: str) -> None:
        q = self.replays.get(sub_id)
        if q:
            q.pop(0)

    def _held(self, sub_id: str) -> tuple[str, int, float] | None:
        lease = self.leases.get(sub_id)
        return lease if lease is not None and lease[2] > self.clock() else None

    async def acquire(self, sub_id: str, owner: str, ttl_ms: int) -> int | None:
        held = self._held(sub_id)
        if held is not None and held[0] != owner:
            return None
        token = held[1] if held is not None else self.fences.get(sub_id, 0) + 1
        self.fences[sub_id] = max(self.fences.get(sub_id, 0), token)
        self.leases[sub_id] = (owner, token, self.clock() + ttl_ms / 1000)
        return token

    async def renew(self, sub_id: str, owner: str, token: int, ttl_ms: int) -> bool:
        held = self._held(sub_id)
        if held is None or held[:2] != (owner, token):
            return False
        self.leases[sub_id] = (owner, token, self.clock() + ttl_ms / 1000)
        return True

    async def release(self, sub_id: str, owner: str, token: int) -> None:
        if (held := self._held(sub_id)) is not None and held[:2] == (owner, token):
            del self.leases[sub_id]


SubscriptionStore = RedisSubscriptionStore | MemorySubscriptionStore
