"""The idempotency ledger: what each client-given observation id carried, and what each series (trust,
metric, period) last carried, shared by every ingest replica through Redis.

Two promises rest on it:

- a client's ``observation_id`` is an idempotency key: sent again with the same payload it is a no-op (the
  scorer ignores an id it has applied), sent again with a different payload it is refused (409), as a
  reused idempotency key is elsewhere;
- a value set back to an earlier one (A, then B, then A again) takes effect. Without a client id, an
  observation's id is derived from its payload, so the second A would carry the first A's id and the
  scorer would drop it as a duplicate. The ledger numbers each change of a series (its revision); an
  observation that changes the series gets an id derived from its payload and that revision, while a
  true re-send (the series already holds that payload) keeps the id it had.

``claim`` is atomic for a whole batch (one Lua script in Redis; a lock in the twin): either every item is
recorded, or a conflict is reported and nothing is. The payload digest covers trust, metric, period, value
and source (not ``observed_at``, a timestamp a client may refresh on a retry).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import redis

from shared.errors import Unavailable


@dataclass(frozen=True)
class Claim:
    """One observation to record: its series, payload digest and, when the client gave one, its id."""

    series: str
    digest: str
    observation_id: str | None = None


def digest(trust: str, metric: str, period: str, value: float, source: str | None) -> str:
    return hashlib.sha256("\x1f".join((trust, metric, period, repr(float(value)), source or "")).encode()).hexdigest()[:32]


def series(trust: str, metric: str, period: str) -> str:
    return f"{trust}|{metric}|{period}"


class Conflicts(Exception):
    """Client ids already recorded with another payload: the positions in the batch."""

    def __init__(self, positions: list[int]) -> None:
        super().__init__(f"{len(positions)} observation id(s) reused with another payload")
        self.positions = positions


class Ledger(Protocol):
    def claim(self, claims: Sequence[Claim]) -> list[int]:
        """Each claim's series revision after recording it; raises Conflicts (nothing recorded) or Unavailable."""
        ...

    def healthy(self) -> bool: ...


class MemoryLedger:
    """In-memory twin with the same semantics (one process)."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self.series: dict[str, tuple[str, int]] = {}
        self.down = False
        self._lock = threading.Lock()

    def claim(self, claims: Sequence[Claim]) -> list[int]:
        if not claims:
            return []
        if self.down:
            raise Unavailable("the idempotency ledger (Redis) is unavailable; nothing was accepted")
        with self._lock:
            conflicts = [i for i, c in enumerate(claims)
                         if c.observation_id is not None and self.ids.get(c.observation_id, c.digest) != c.digest]
            if conflicts:
                raise Conflicts(conflicts)
            revisions = []
            for c in claims:
                if c.observation_id is not None:
                    self.ids[c.observation_id] = c.digest
                held, revision = self.series.get(c.series, ("", -1))
                if held != c.digest:
                    revision += 1
                    self.series[c.series] = (c.digest, revision)
                revisions.append(revision)
            return revisions

    def healthy(self) -> bool:
        return not self.down


# KEYS: per claim, its id key then its series key. ARGV: the id TTL in seconds, then per claim its digest and
# "1" when the client gave the id. Answers {0, positions} on a conflict, else {1, revisions}.
CLAIM_SCRIPT = """
local ttl = tonumber(ARGV[1])
local n = #KEYS / 2
local conflicts = {}
for i = 1, n do
  if ARGV[2 * i + 1] == "1" then
    local held = redis.call("GET", KEYS[2 * i - 1])
    if held and held ~= ARGV[2 * i] then table.insert(conflicts, i - 1) end
  end
end
if #conflicts > 0 then return {0, conflicts} end
local revisions = {}
for i = 1, n do
  local d = ARGV[2 * i]
  if ARGV[2 * i + 1] == "1" then redis.call("SET", KEYS[2 * i - 1], d, "EX", ttl) end
  local held = redis.call("HMGET", KEYS[2 * i], "digest", "revision")
  local revision = tonumber(held[2]) or -1
  if held[1] ~= d then
    revision = revision + 1
    redis.call("HSET", KEYS[2 * i], "digest", d, "revision", revision)
  end
  revisions[i] = revision
end
return {1, revisions}
"""


class RedisLedger:
    """The ledger in Redis. Keys share the hash tag ``{<prefix>:ingest}`` so one script may touch a whole batch
    on a cluster too: ``{nof:ingest}:id:<observation id>`` (expires after ``ttl_s``) and
    ``{nof:ingest}:series:<trust>|<metric>|<period>`` (a hash of digest and revision)."""

    def __init__(self, client: redis.Redis, prefix: str, ttl_s: int) -> None:
        self.client = client
        self.tag = "{" + prefix + ":ingest}"
        self.ttl_s = ttl_s
        self.script = client.register_script(CLAIM_SCRIPT)

    def claim(self, claims: Sequence[Claim]) -> list[int]:
        if not claims:
            return []
        keys, args = [], [self.ttl_s]
        for c in claims:
            keys += [f"{self.tag}:id:{c.observation_id or ''}", f"{self.tag}:series:{c.series}"]
            args += [c.digest, "1" if c.observation_id is not None else "0"]
        try:
            ok, values = self.script(keys=keys, args=args)
        except redis.RedisError as exc:
            raise Unavailable(f"the idempotency ledger (Redis) is unavailable ({type(exc).__name__}); "
                              "nothing was accepted") from exc
        if not ok:
            raise Conflicts([int(v) for v in values])
        return [int(v) for v in values]

    def healthy(self) -> bool:
        try:
            return bool(self.client.ping())
        except redis.RedisError:
            return False

    def close(self) -> None:
        self.client.close()
