"""The publisher's event log: a Redis Stream of outward events (``{p}:events``) plus an in-memory twin.

Each stream entry is one CloudEvent with the facts filters need (and the correlation id of the input that
caused it, for the delivery logs); its entry id (``<ms>-<seq>``) is the
resumable position used as the SSE event id and as each subscription's delivery cursor. Appends are
idempotent: the consumer checks ``known`` event ids and each league's ``high_versions`` and writes the
entries, the ids and the alert hold-down state in one MULTI, so a crash leaves all or nothing.

Keys: ``{p}:events`` (stream, MAXLEN ~ retained), ``{p}:events:seen`` (zset event id → append time, trimmed
to the same size and to ids younger than ``seen_max_age_s``; an older copy of an event is still refused by its
league version), ``{p}:events:versions`` (hash league → highest version appended),
``{p}:events:holds`` (hash ``league|trust`` → alert hold-down JSON), ``{p}:events:offsets`` (hash
``topic:partition`` → the next nof.changes.v1 offset, written in the same MULTI as the entries it covers, so a
Redis restored from an older snapshot can be told apart: its offsets are behind the consumer group's),
``{p}:publisher:state`` (the state
marker: ``ready:<epoch>`` or ``rebuilding:<epoch>``; missing once Redis lost the publisher's state, see
recovery.py) and ``{p}:publisher:recovery`` (the lease of the instance that is restoring it).

A commit given ``expect`` is made only while the marker still holds that value (WATCH/MULTI): an append
can never land in a Redis that lost its state after the caller checked it (it raises ``StateLost``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from services.publisher.filters import EventFacts

StreamId = str

#: A position as clients send it (SSE ``Last-Event-ID``, a subscription's ``from_position``). Redis stream ids
#: are two unsigned 64-bit numbers: at most 19 ASCII digits each keeps every accepted position a valid id.
POSITION_PATTERN = r"^[0-9]{1,19}(-[0-9]{1,19})?$"


def id_key(stream_id: StreamId) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


class StateLost(Exception):
    """The state marker changed (Redis lost the publisher's state, or it is being restored): nothing was written."""


_LOCK = """
local v = redis.call('GET', KEYS[1])
if not v then return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) and 1 or 0 end
if v == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True, slots=True)
class LogEntry:
    facts: EventFacts
    event_id: str  # the CloudEvent id (stable)
    body: bytes  # CloudEvent JSON
    occurred_ms: int  # when the change occurred (for change-to-delivery latency)
    correlation_id: str = ""  # of the input that caused it ("" when unknown)

    def fields(self) -> dict[str, bytes | str | int]:
        f = self.facts
        return {"t": f.type, "l": f.league, "c": f.trust_code, "r": f.region,
                "m": "" if f.rank_movement is None else f.rank_movement, "o": self.occurred_ms, "i": self.event_id,
                "x": self.correlation_id, "ce": self.body}

    @classmethod
    def from_fields(cls, raw: Mapping[bytes, bytes]) -> "LogEntry":
        m = raw.get(b"m", b"")
        facts = EventFacts(type=raw[b"t"].decode(), league=raw[b"l"].decode(), trust_code=raw[b"c"].decode(),
                           region=raw.get(b"r", b"").decode(), rank_movement=int(m) if m else None)
        return cls(facts=facts, event_id=raw[b"i"].decode(), body=raw[b"ce"], occurred_ms=int(raw.get(b"o", b"0")),
                   correlation_id=raw.get(b"x", b"").decode())


@dataclass(frozen=True, slots=True)
class Appended:
    """One change event accepted into the log (for dedupe and the version high-water mark)."""

    event_id: str
    league: str
    league_version: int


class RedisEventLog:
    def __init__(self, client: aioredis.Redis, prefix: str, retained: int,
                 seen_max_age_s: float = 14 * 24 * 3600) -> None:
        self.client, self.retained, self.seen_max_age_s = client, retained, seen_max_age_s
        self.stream, self.seen = f"{prefix}:events", f"{prefix}:events:seen"
        self.versions, self.holds_key = f"{prefix}:events:versions", f"{prefix}:events:holds"
        self.offsets_key = f"{prefix}:events:offsets"
        self.marker, self.lock_key = f"{prefix}:publisher:state", f"{prefix}:publisher:recovery"
        self._lock = client.register_script(_LOCK)
        self._unlock = client.register_script(_UNLOCK)

    async def state(self) -> str | None:
        raw = await self.client.get(self.marker)
        return raw.decode() if raw is not None else None

    async def set_state(self, value: str) -> None:
        await self.client.set(self.marker, value)

    async def offsets(self) -> dict[str, int]:
        """The consumed offsets recorded with the appends: ``topic:partition`` → next offset."""
        return {k.decode(): int(v) for k, v in (await self.client.hgetall(self.offsets_key)).items()}

    async def lock(self, owner: str, ttl_ms: int) -> bool:
        """Take (or renew) the recovery lease; False while another instance holds it."""
        return bool(await self._lock(keys=[self.lock_key], args=[owner, ttl_ms]))

    async def unlock(self, owner: str) -> None:
        await self._unlock(keys=[self.lock_key], args=[owner])

    async def reset(self) -> None:
        """Delete the log (entries, seen ids, versions, hold-down state): the start of a rebuild."""
        await self.client.delete(self.stream, self.seen, self.versions, self.holds_key, self.offsets_key)

    async def known(self, event_ids: Sequence[str]) -> set[str]:
        if not event_ids:
            return set()
        scores = await self.client.zmscore(self.seen, list(event_ids))
        return {e for e, s in zip(event_ids, scores) if s is not None}

    async def high_versions(self) -> dict[str, int]:
        return {k.decode(): int(v) for k, v in (await self.client.hgetall(self.versions)).items()}

    async def holds(self, keys: Sequence[str]) -> dict[str, str]:
        if not keys:
            return {}
        values = await self.client.hmget(self.holds_key, list(keys))
        return {k: v.decode() for k, v in zip(keys, values) if v is not None}

    async def commit(self, appended: Sequence[Appended], entries: Sequence[LogEntry], holds: Mapping[str, str],
                     expect: str | None = None, offsets: Mapping[str, int] | None = None) -> list[StreamId]:
        async with self.client.pipeline(transaction=True) as pipe:
            if expect is not None:
                await pipe.watch(self.marker)
                current = await pipe.get(self.marker)
                if (current.decode() if current is not None else None) != expect:
                    raise StateLost(f"state marker is {current!r}, expected {expect!r}")
                pipe.multi()
            self._queue(pipe, appended, entries, holds)
            if offsets:
                pipe.hset(self.offsets_key, mapping={k: str(v) for k, v in offsets.items()})
            try:
                result = await pipe.execute()
            except WatchError:
                raise StateLost("the state marker changed during the append") from None
        return [r.decode() for r in result[: len(entries)]]

    def _queue(self, pipe, appended: Sequence[Appended], entries: Sequence[LogEntry],  # noqa: ANN001 - a pipeline
               holds: Mapping[str, str]) -> None:
        for entry in entries:
            pipe.xadd(self.stream, entry.fields(), maxlen=self.retained, approximate=True)
        now = time.time()
        if appended:
            pipe.zadd(self.seen, {a.event_id: now for a in appended})
            pipe.zremrangebyrank(self.seen, 0, -self.retained - 1)
            pipe.zremrangebyscore(self.seen, "-inf", f"({now - self.seen_max_age_s}")
            top: dict[str, int] = {}
            for a in appended:
                top[a.league] = max(top.get(a.league, -1), a.league_version)
            pipe.hset(self.versions, mapping={k: str(v) for k, v in top.items()})
        if holds:
            pipe.hset(self.holds_key, mapping=dict(holds))

    async def read_after(self, after: StreamId, count: int = 500) -> list[tuple[StreamId, LogEntry]]:
        rows = await self.client.xrange(self.stream, min=f"({after}", max="+", count=count)
        return [(i.decode(), LogEntry.from_fields(f)) for i, f in rows]

    async def wait_after(self, after: StreamId, timeout_ms: int, count: int = 500) -> list[tuple[StreamId, LogEntry]]:
        reply = await self.client.xread({self.stream: after}, count=count, block=timeout_ms)
        return [(i.decode(), LogEntry.from_fields(f)) for _, rows in reply or [] for i, f in rows]

    async def hold_keys(self) -> list[str]:
        return [k.decode() for k in await self.client.hkeys(self.holds_key)]

    async def head(self) -> StreamId:
        rows = await self.client.xrevrange(self.stream, count=1)
        return rows[0][0].decode() if rows else "0-0"

    async def first(self) -> StreamId | None:
        rows = await self.client.xrange(self.stream, count=1)
        return rows[0][0].decode() if rows else None


class MemoryEventLog:
    """The in-memory twin: same behaviour, for unit tests and the dashboard's offline development."""

    def __init__(self, retained: int = 10_000) -> None:
        self.retained = retained
        self.rows: list[tuple[StreamId, LogEntry]] = []
        self.seen: dict[str, None] = {}
        self.versions: dict[str, int] = {}
        self.hold_state: dict[str, str] = {}
        self._changed = asyncio.Condition()
        self._last = (0, 0)
        self.marker: str | None = None
        self.lock_owner: str | None = None
        self.consumed: dict[str, int] = {}

    async def state(self) -> str | None:
        return self.marker

    async def set_state(self, value: str) -> None:
        self.marker = value

    async def offsets(self) -> dict[str, int]:
        return dict(self.consumed)

    async def lock(self, owner: str, ttl_ms: int) -> bool:
        if self.lock_owner in (None, owner):
            self.lock_owner = owner
            return True
        return False

    async def unlock(self, owner: str) -> None:
        if self.lock_owner == owner:
            self.lock_owner = None

    async def reset(self) -> None:
        self.rows.clear()
        self.seen.clear()
        self.versions.clear()
        self.hold_state.clear()
        self.consumed.clear()

    def lose_state(self) -> None:
        """What a Redis flush does to the log (tests): everything gone, the marker too; positions keep rising."""
        self.rows.clear()
        self.seen.clear()
        self.versions.clear()
        self.hold_state.clear()
        self.marker = self.lock_owner = None

    async def known(self, event_ids: Sequence[str]) -> set[str]:
        return {e for e in event_ids if e in self.seen}

    async def high_versions(self) -> dict[str, int]:
        return dict(self.versions)

    async def holds(self, keys: Sequence[str]) -> dict[str, str]:
        return {k: self.hold_state[k] for k in keys if k in self.hold_state}

    def _next_id(self) -> StreamId:
        ms = int(time.time() * 1000)
        self._last = (ms, 0) if ms > self._last[0] else (self._last[0], self._last[1] + 1)
        return f"{self._last[0]}-{self._last[1]}"

    async def commit(self, appended: Sequence[Appended], entries: Sequence[LogEntry], holds: Mapping[str, str],
                     expect: str | None = None, offsets: Mapping[str, int] | None = None) -> list[StreamId]:
        if expect is not None and self.marker != expect:
            raise StateLost(f"state marker is {self.marker!r}, expected {expect!r}")
        self.consumed.update(offsets or {})
        ids = [self._next_id() for _ in entries]
        self.rows.extend(zip(ids, entries))
        del self.rows[: max(0, len(self.rows) - self.retained)]
        for a in appended:
            self.seen[a.event_id] = None
            self.versions[a.league] = max(self.versions.get(a.league, -1), a.league_version)
        self.hold_state.update(holds)
        async with self._changed:
            self._changed.notify_all()
        return ids

    async def read_after(self, after: StreamId, count: int = 500) -> list[tuple[StreamId, LogEntry]]:
        k = id_key(after)
        return [r for r in self.rows if id_key(r[0]) > k][:count]

    async def wait_after(self, after: StreamId, timeout_ms: int, count: int = 500) -> list[tuple[StreamId, LogEntry]]:
        if after == "$":
            after = await self.head()
        rows = await self.read_after(after, count)
        if rows:
            return rows
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait(), timeout_ms / 1000)
            except asyncio.TimeoutError:
                return []
        return await self.read_after(after, count)

    async def hold_keys(self) -> list[str]:
        return list(self.hold_state)

    async def head(self) -> StreamId:
        return self.rows[-1][0] if self.rows else "0-0"

    async def first(self) -> StreamId | None:
        return self.rows[0][0] if self.rows else None


EventLog = RedisEventLog | MemoryEventLog


def hold_key(league: str, trust_code: str) -> str:
    return f"{league}|{trust_code}"

