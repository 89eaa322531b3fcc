"""One kill soak: an isolated ingest + scoring pipeline, a generated stream sent through ingest over HTTP, the
scorer SIGKILLed ``kills`` times at random moments (and started again each time) while a CPU hog competes
for the cores, then the checks:

- stalls: every input partition's records are applied to its end within ``settle_s`` of the stream's end
  (tests/soak/progress.py);
- mismatches: the league tables in Redis equal the batch methodology on the accepted inputs, and every
  change event re-sent on nof.changes.v1 is byte-identical to its first copy;
- events missing: every event id of a crash-free run over the same inputs is on nof.changes.v1
  (tests/support/crash_free.py).
"""

from __future__ import annotations

import json
import random
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shared.events import ChangeEvent
from tests.faults.harness import ARTIFACTS, Sender
from tests.integration.pipeline.helpers import wait_for_tables
from tests.soak.hog import CpuHog
from tests.soak.progress import INPUT_TOPICS, PartitionProgress, progress
from tests.support.crash_free import crash_free_events, emitted_versions
from tests.support.pipeline import Pipeline
from tests.support.streams import M, expected, generate
from tests.support.subscribers import poll

Say = Callable[[str], None]
NUMBER = re.compile(r"\b\d+(\.\d+)?\b")  # log messages told apart by their words, not their numbers
LOG_BASICS = {"level", "service", "logger", "msg", "exc", "correlation_id"}


@dataclass(frozen=True)
class SoakConfig:
    kills: int = 20
    seed: int = 7
    pace_s: float = 0.05  # between ingest requests (10 observations, or one finance change)
    between_kills_s: tuple[float, float] = (0.2, 4.0)  # from the worker being healthy to the next kill
    down_s: tuple[float, float] = (0.0, 1.5)  # from a kill to the next start
    tail_items: int = 200  # sent after the last restart, before the stream ends
    settle_s: float = 90.0  # after the stream ends: the bound on applying, tables and events
    hogs: int = 1

    @property
    def items(self) -> int:
        """Long enough never to run out before the last kill; what is not sent is not checked."""
        return 1500 * (self.kills + 1)


@dataclass
class SoakResult:
    kills: int = 0
    stalls: int = 0
    tables: int = 0  # differences between the tables in Redis and the batch result
    conflicts: int = 0  # event ids whose copies on nof.changes.v1 are not byte-identical
    missing: int = 0
    events: int = 0  # distinct change event ids on nof.changes.v1
    aborted: str | None = None

    @property
    def mismatches(self) -> int:
        return self.tables + self.conflicts

    @property
    def ok(self) -> bool:
        return not (self.stalls or self.mismatches or self.missing or self.aborted)

    def line(self) -> str:
        return (f"soak: {self.kills} kills, {self.stalls} stalls, {self.mismatches} mismatches, "
                f"{self.missing} events missing")


@dataclass(frozen=True)
class EventCheck:
    records: int
    ids: int  # distinct event ids among the records
    reference: dict[str, ChangeEvent]  # the crash-free run's events, by id
    missing: set[str]
    extra: set[str]
    conflicting: dict[str, list[ChangeEvent]]  # ids whose copies on the topic are not byte-identical


def describe(e: ChangeEvent) -> str:
    return f"{e.event_id} ({e.league} v{e.league_version} {e.trust_code} {e.type}, caused by {e.cause.input_id})"


class Soak:
    def __init__(self, config: SoakConfig, bootstrap: str, workdir: Path, say: Say = print) -> None:
        self.config, self.workdir, self.say = config, workdir, say
        self.pipeline = Pipeline(workdir, bootstrap=bootstrap)
        self.result = SoakResult()
        self.rng = random.Random(config.seed)
        self.hog = CpuHog(config.hogs)
        self.sender: Sender | None = None

    def run(self) -> SoakResult:
        try:
            self._stream_with_kills()
            self._check()
        except Exception as exc:  # the harness itself failed: say why, and still clean up
            self.result.aborted = f"{type(exc).__name__}: {exc}"
            self.say(f"soak: aborted: {self.result.aborted}")
        finally:
            self._scorer_log_summary()
            self.close()
        return self.result

    # -- the stream and the kills ------------------------------------------------------------------
    def _stream_with_kills(self) -> None:
        c, p = self.config, self.pipeline
        p.declare_topics()
        p.start("ingest")
        p.start("scoring")
        items = generate(seed=c.seed, n=c.items)
        self.sender = Sender(p, items, pace_s=c.pace_s, give_up_s=120.0 * (c.kills + 2))
        self.hog.start()
        self.sender.start()
        if not poll(lambda: self.sender.count >= 20 or not self.sender.is_alive(), 120, every=0.1):
            raise RuntimeError("ingest accepted nothing for 120 s")  # so that every kill is mid-stream
        started = time.monotonic()
        for k in range(1, c.kills + 1):
            time.sleep(self.rng.uniform(*c.between_kills_s))
            if not self.sender.is_alive():
                raise RuntimeError(f"the stream stopped before kill {k}: {self.sender.error or 'all sent'}")
            at = self.sender.count
            self._note_exit(f"before kill {k}")
            p.kill("scoring")  # SIGKILL: no shutdown, no final commit, buffers lost
            self.result.kills += 1
            time.sleep(self.rng.uniform(*c.down_s))
            down = time.monotonic()
            p.start("scoring", timeout=120)
            self.say(f"kill {k}/{c.kills} at {at} inputs accepted ({time.monotonic() - started:.0f} s in); "
                     f"healthy again {time.monotonic() - down:.1f} s after the start")
        want = self.sender.count + c.tail_items
        poll(lambda: self.sender.count >= want or not self.sender.is_alive(), 120, every=0.1)
        self.sender.cancelled.set()
        self.sender.join(timeout=90)
        self.hog.stop()
        if self.sender.is_alive():
            raise RuntimeError("the sender did not stop")
        self.say(f"stream ended: {self.sender.count} inputs accepted, {len(self.sender.refusals)} x 503 retried, "
                 f"{self.sender.transport_errors} dropped connections retried")

    def _note_exit(self, when: str) -> None:
        """Say so when the worker exited by itself (a crash the soak did not cause)."""
        code = self.pipeline.procs["scoring"].poll()
        if code is not None:
            self.say(f"the scorer had exited by itself {when}, with code {code}")

    # -- the checks --------------------------------------------------------------------------------
    def _check(self) -> None:
        c, p, r = self.config, self.pipeline, self.result
        assert self.sender is not None
        ended = time.monotonic()
        where: dict[str, PartitionProgress] = {}

        def applied() -> bool:
            nonlocal where
            where = progress(p)
            return not any(w.unapplied for w in where.values())

        poll(applied, c.settle_s, every=2.0)
        stalled = {tp: w for tp, w in where.items() if w.unapplied}
        r.stalls = len(stalled)
        for tp, w in sorted(stalled.items()):
            self.say(f"stalled: {tp}: {w}, {c.settle_s:.0f} s after the stream ended")
        self.say(f"applied to the end: {r.stalls == 0} ({time.monotonic() - ended:.0f} s after the stream ended)")
        self._note_exit("after the stream ended")

        results = expected(list(self.sender.accepted))
        diff = wait_for_tables(p, results, timeout=max(10.0, c.settle_s - (time.monotonic() - ended)))
        r.tables = len(diff)
        for d in diff[:10]:
            self.say(f"table mismatch: {d}")

        inputs = [rec for name in INPUT_TOPICS for rec in p.read_topic(name, timeout_s=120)]
        check = self._events(inputs)
        if check.missing:  # events may still be on their way (an outbox re-sent after the last restart)
            time.sleep(5.0)
            check = self._events(inputs)
        r.missing = len(check.missing)
        r.events = check.ids
        r.conflicts = len(check.conflicting)
        for copies in list(check.conflicting.values())[:10]:
            self.say("re-sent event differs from its first copy: " + " / ".join(describe(e) for e in copies[:2]))
        for event_id in sorted(check.missing)[:10]:
            self.say(f"missing event: {describe(check.reference[event_id])}")
        self.say(f"change events: {check.records} records, {len(check.conflicting)} ids with differing copies, "
                 f"{len(check.extra)} ids a crash-free run does not emit")

    def _events(self, inputs: list) -> EventCheck:
        """nof.changes.v1 against a crash-free run over ``inputs``."""
        first: dict[str, bytes] = {}
        copies: dict[str, dict[bytes, ChangeEvent]] = {}  # id -> each distinct copy, as sent
        events: list[ChangeEvent] = []
        records = self.pipeline.read_topic("nof.changes.v1", timeout_s=120)
        for rec in records:
            event = ChangeEvent.model_validate_json(rec.value)
            copies.setdefault(event.event_id, {}).setdefault(rec.value, event)
            if first.setdefault(event.event_id, rec.value) == rec.value:
                events.append(event)
        reference = crash_free_events(M, inputs, emitted_versions(events))
        conflicting = {i: list(c.values()) for i, c in copies.items() if len(c) > 1}
        return EventCheck(records=len(records), ids=len(first), reference=reference, missing=set(reference) - set(first),
                          extra=set(first) - set(reference), conflicting=conflicting)

    # -- reporting and cleaning up -------------------------------------------------------------------
    def _scorer_log_summary(self) -> None:
        """The scorer's warnings and errors across every restart, counted by message, with the fields of the
        first and the last of each (the partition and offset a repositioning was about, say)."""
        path = self.workdir / "scoring.log"
        if not path.exists():
            return
        counts: Counter[str] = Counter()
        seen: dict[str, list[dict]] = {}
        for raw in path.read_text(errors="replace").splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            level = str(line.get("level", "")).upper() if isinstance(line, dict) else ""
            if level in ("WARNING", "ERROR", "CRITICAL"):
                key = f"{level} {NUMBER.sub('N', str(line.get('msg')))[:120]}"
                counts[key] += 1
                seen.setdefault(key, [line, line])[1] = line
        for key, n in counts.most_common(6):
            fields = [{k: v for k, v in line.items() if k not in LOG_BASICS} for line in seen[key]]
            self.say(f"scorer log: {n} x {key}; first {fields[0]}, last {fields[1]}")

    def close(self) -> None:
        if self.sender is not None:
            self.sender.cancelled.set()
            self.sender.join(timeout=60)
        self.hog.stop()
        self.pipeline.cleanup()
        if not self.result.ok:  # the services' logs, for whoever reads the artifacts
            target = ARTIFACTS / "soak"
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True, exist_ok=True)
            for log in self.workdir.glob("*.log"):
                shutil.copy(log, target / log.name)
            self.say(f"logs kept in {target}")
