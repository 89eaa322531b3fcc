"""The trust register ingest checks inputs against, shared by every replica through the TRUSTS topic.

It starts as the shipped ``shared/data/trusts.csv``; ``sync`` reads the topic's new entries over it (a later
entry for a code replaces the earlier one), and after its first complete read writes the shipped entries the
topic lacks, so the topic is seeded once and an entry changed through the API is never overwritten by the
file again. ``register`` writes an entry to the topic (acknowledged) before this replica uses it; the others
pick it up at their next sync (every ``NOF_INGEST_TRUST_SYNC_SECONDS``), and a restarted replica reads it back.
"""

from __future__ import annotations

import logging
import threading

from services.ingest.trust_log import TrustLog
from shared.errors import Unavailable
from shared.methodology import TrustInfo

log = logging.getLogger(__name__)


class TrustRegister:
    def __init__(self, trust_log: TrustLog, shipped: dict[str, TrustInfo], timeout_s: float = 15.0) -> None:
        self.log = trust_log
        self.shipped = dict(shipped)
        self.entries: dict[str, TrustInfo] = dict(shipped)  # the acceptor reads this mapping; updated in place
        self.timeout_s = timeout_s
        self.seeded = False
        self._in_topic: set[str] = set()

    def sync(self) -> int:
        """Read the topic's new entries (and seed it after the first read); the number of entries read."""
        found = self.log.read()
        for info in found:
            self.entries[info.code] = info
            self._in_topic.add(info.code)
        if not self.seeded:
            missing = [info for code, info in self.shipped.items() if code not in self._in_topic]
            for info in missing:
                self.log.put(info, self.timeout_s)
                self._in_topic.add(info.code)
            self.seeded = True
            if missing:
                log.info("trust register topic seeded from the shipped file", extra={"entries": len(missing)})
        return len(found)

    def register(self, info: TrustInfo) -> None:
        """Write ``info`` to the shared register (raises Unavailable when not acknowledged), then use it here."""
        self.log.put(info, self.timeout_s)
        self._in_topic.add(info.code)
        self.entries[info.code] = info

    def follow(self, stop: threading.Event, every_s: float) -> None:
        """Sync until ``stop`` is set; a topic that cannot be read is retried (the file's entries stay in use)."""
        warned = False
        while not stop.is_set():
            try:
                self.sync()
                warned = False
            except Unavailable as exc:
                if not warned:
                    log.warning("trust register topic unreadable; retrying", extra={"error": str(exc)})
                    warned = True
            stop.wait(every_s)
