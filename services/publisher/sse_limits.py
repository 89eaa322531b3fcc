"""How many SSE clients the publisher serves: at most so many in total and from one client address.

Each connected client holds a queue and a task; without a cap one address could open connections until
the process runs out of memory or file descriptors. A client over either cap gets ``429`` with
``Retry-After`` and may reconnect later with its ``Last-Event-ID`` (nothing is lost, the log is retained).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable


class ConnectionLimits:
    def __init__(self, total: int, per_address: int) -> None:
        self.total, self.per_address = total, per_address
        self.open: Counter[str] = Counter()

    def admit(self, address: str) -> str | None:
        """Count a new connection from ``address``; None when admitted, else why it is refused."""
        if sum(self.open.values()) >= self.total:
            return f"the publisher serves at most {self.total} event streams; try again later"
        if self.open[address] >= self.per_address:
            return f"at most {self.per_address} event streams per client address; close one or try again later"
        self.open[address] += 1
        return None

    def leave(self, address: str) -> None:
        self.open[address] -= 1
        if self.open[address] <= 0:
            del self.open[address]

    def releaser(self, address: str) -> Callable[[], Awaitable[None]]:
        """One admitted connection's release, safe to call more than once: the stream calls it when it ends,
        and the response once more afterwards, for a client gone before its stream ever started."""
        done = False

        async def release() -> None:
            nonlocal done
            if not done:
                done = True
                self.leave(address)
        return release
