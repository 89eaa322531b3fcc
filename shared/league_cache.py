"""The league-table read model in Redis: key layout, atomic versioned writes, reads.

Redis is never the source of truth: the scorer's changelog-backed state is, and `nof cache rebuild`
or the scorer itself (when it finds Redis empty) rewrites everything here from that state.

Key layout (a public interface: downstream readers may rely on it; ``{p}`` is NOF_REDIS_KEY_PREFIX, default ``nof``):

==============================  ======  ==================================================================
key                             type    value
==============================  ======  ==================================================================
``{p}:leagues``                 hash    league slug → current league version (integer)
``{p}:league:{slug}``           string  JSON league snapshot: ``league``, ``version``, ``methodology_version``,
                                        ``updated_at``, ``entries`` (one object per trust, in rank order)
``{p}:trust:{code}``            string  JSON explanation of one trust, with ``league`` and ``version``
``{p}:trust:{code}:history``    list    newest first, JSON ``{type, league_version, old, new, at}`` of
                                        segment and rank changes (capped at 50 entries)
==============================  ======  ==================================================================

A league write replaces the snapshot, the changed trusts' explanations and the version in one Lua
script, and only when the new version is greater than the stored one, so readers never see a version
go backwards or a snapshot without its explanations.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

import redis.asyncio as aioredis

HISTORY_LIMIT = 50

_WRITE_LEAGUE = """
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '-1')
local version = tonumber(ARGV[2])
if version < current then return 0 end
if version == current and redis.call('EXISTS', KEYS[2]) == 1 and ARGV[4] == '0' then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
local n = (#KEYS - 2)
for i = 1, n do
  redis.call('SET', KEYS[2 + i], ARGV[4 + i])
end
return 1
"""


@dataclass(frozen=True)
class LeagueKeys:
    prefix: str = "nof"

    @property
    def leagues(self) -> str:
        return f"{self.prefix}:leagues"

    def league(self, slug: str) -> str:
        return f"{self.prefix}:league:{slug}"

    def trust(self, code: str) -> str:
        return f"{self.prefix}:trust:{code}"

    def history(self, code: str) -> str:
        return f"{self.prefix}:trust:{code}:history"


def _dumps(value: Any) -> bytes:
    """Compact JSON, encoded once (orjson); anything JSON has no type for is written as its string."""
    return orjson.dumps(value, default=str)


class LeagueCache:
    """Reads and writes the read model; one instance per process, over one async Redis client."""

    def __init__(self, client: aioredis.Redis, prefix: str = "nof") -> None:
        self.client = client
        self.keys = LeagueKeys(prefix)
        self._write = client.register_script(_WRITE_LEAGUE)

    async def write_league(
        self,
        slug: str,
        version: int,
        snapshot: Mapping[str, Any],
        explanations: Mapping[str, Mapping[str, Any]],
        *,
        force: bool = False,
    ) -> bool:
        """Atomically store a league snapshot and trust explanations if ``version`` is not older."""
        codes = sorted(explanations)
        keys = [self.keys.leagues, self.keys.league(slug), *(self.keys.trust(c) for c in codes)]
        args = [slug, str(version), _dumps(snapshot), "1" if force else "0", *(_dumps(explanations[c]) for c in codes)]
        return bool(await self._write(keys=keys, args=args))

    async def append_history(self, entries: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        if not entries:
            return
        pipe = self.client.pipeline(transaction=True)
        for code, entry in entries:
            pipe.lpush(self.keys.history(code), _dumps(entry))
            pipe.ltrim(self.keys.history(code), 0, HISTORY_LIMIT - 1)
        await pipe.execute()

    async def versions(self) -> dict[str, int]:
        raw = await self.client.hgetall(self.keys.leagues)
        return {k.decode(): int(v) for k, v in raw.items()}

    async def league(self, slug: str) -> dict[str, Any] | None:
        raw = await self.client.get(self.keys.league(slug))
        return None if raw is None else json.loads(raw)

    async def trust(self, code: str) -> dict[str, Any] | None:
        raw = await self.client.get(self.keys.trust(code))
        return None if raw is None else json.loads(raw)

    async def history(self, code: str, limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
        return [json.loads(x) for x in await self.client.lrange(self.keys.history(code), 0, limit - 1)]

    async def is_empty(self) -> bool:
        return not await self.client.exists(self.keys.leagues)
