"""One fault run: a full pipeline (ingest, scoring, publisher) on the private broker, three subscribers, a
client that retries what ingest refuses, and the checks every fault must pass.

The checks, after the fault has been injected and the stream has been sent:

1. every input ingest answered 202 for is on its input topic, and the league tables (in Redis and from
   the publisher's read API) equal the batch methodology on the accepted inputs;
2. the change events on nof.changes.v1 tell the same story (folded, they equal the batch result), and
   any re-sent copy there has the same content;
3. every subscriber (SSE, webhook, public topic) received every change event at least once; copies of
   one id are identical and carry the scorer's event; nobody received an id the scorer never emitted;
   webhook signatures verify; every segment alert reached every subscriber.

Each run leaves a summary row (tests/faults/summary.py) built from these measurements.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from shared.events import ChangeEvent, ObservationReceived, decode_input, single_inputs
from tests.faults.summary import Row
from tests.integration.pipeline.helpers import change_events, fold, fold_mismatches, wait_for_tables
from tests.support.broker import PrivateBroker
from tests.support.pipeline import ROOT, Pipeline
from tests.support.streams import Item, expected, generate, mismatches
from tests.support.subscribers import Copies, SseSubscriber, WebhookReceiver, poll, public_topic_copies

ARTIFACTS = ROOT / "test-artifacts"
ALERT_TYPES = {"uk.nhs.nof.segment.worsened", "uk.nhs.nof.segment.improved"}
# Documented publisher settings, tuned so a recovered subscriber or a restart is noticed within seconds.
FAULT_ENV = {
    "NOF_PUBLISHER_SSE_HEARTBEAT_SECONDS": "2",  # the SSE client treats 10 s of silence as a dead peer
    "NOF_PUBLISHER_RETRY_MAX_SECONDS": "4",  # a recovered webhook receiver is retried within 4 s
}


class Sender(threading.Thread):
    """Sends a stream through ingest in order, as a well-behaved client: a 503 is retried after its
    Retry-After (at most 2 s here), a dropped connection after half a second; nothing is skipped.

    It pauses once ``hold_at`` inputs are accepted until ``go`` is set, so a test can see events reach
    the subscribers before it lets the rest of the stream flow and injects its fault."""

    def __init__(self, pipeline: Pipeline, items: list[Item], batch: int = 10, pace_s: float = 0.05,
                 give_up_s: float = 240.0, hold_at: int = 0) -> None:
        super().__init__(name="fault-sender", daemon=True)
        self.pipeline, self.pace_s, self.give_up_s = pipeline, pace_s, give_up_s
        self.groups: list[list[Item]] = []
        for item in items:  # observations in batches, finance one request each, in stream order
            if item.kind == "obs" and self.groups and self.groups[-1][0].kind == "obs" and len(self.groups[-1]) < batch:
                self.groups[-1].append(item)
            else:
                self.groups.append([item])
        self.total = len(items)
        self.accepted: list[Item] = []
        self.accepted_ids: list[str] = []  # the ids ingest returned with each 202
        self.refusals: list[str | None] = []  # the Retry-After of every 503
        self.transport_errors = 0
        self.error: str | None = None
        self.hold_at = hold_at
        self.go = threading.Event()
        self.cancelled = threading.Event()
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.accepted)

    def run(self) -> None:
        deadline = time.monotonic() + self.give_up_s
        for group in self.groups:
            if self.hold_at and self.count >= self.hold_at and not self.go.wait(timeout=120):
                self.error = "never told to go on after the warm-up"
                return
            if self.cancelled.is_set():
                return
            while True:
                if time.monotonic() > deadline or self.cancelled.is_set():
                    self.error = f"gave up after {self.give_up_s:.0f} s with {self.count}/{self.total} accepted"
                    return
                try:
                    response = self._request(group)
                except httpx.TransportError:
                    self.transport_errors += 1
                    time.sleep(0.5)
                    continue
                if response.status_code == 503:
                    retry_after = response.headers.get("Retry-After")
                    self.refusals.append(retry_after)
                    time.sleep(min(float(retry_after or 1), 2.0))
                    continue
                if response.status_code != 202:
                    self.error = f"ingest answered {response.status_code}: {response.text[:300]}"
                    return
                with self._lock:
                    self.accepted += group
                    self.accepted_ids += response.json()["ids"]
                break
            time.sleep(self.pace_s)

    def _request(self, group: list[Item]) -> httpx.Response:
        if group[0].kind == "obs":
            return self.pipeline.post_observations([i.body for i in group], timeout=60)
        b = group[0].body
        return self.pipeline.put_finance(b["code"], b["in_deficit"], b["support"])


def input_id(event: object) -> str:
    return event.observation_id if isinstance(event, ObservationReceived) else event.change_id


def cell(copies: Copies, required: set[str]) -> str:
    got = len(required & copies.ids())
    return f"{got}/{len(required)} +{copies.duplicates()} dup"


class FaultRun:
    def __init__(self, fault: str, broker: PrivateBroker, workdir: Path, seed: int, n: int = 500,
                 pace_s: float = 0.05) -> None:
        self.row = Row(fault)
        self.started = time.monotonic()
        self.workdir = workdir
        self.pipeline = Pipeline(workdir, bootstrap=broker.bootstrap, extra_env=FAULT_ENV)
        self.items = generate(seed=seed, n=n)
        self.sender = Sender(self.pipeline, self.items, pace_s=pace_s, hold_at=len(self.items) // 7)
        self.receiver = WebhookReceiver()
        self.sse: SseSubscriber | None = None
        self.subscription: dict[str, Any] = {}
        self.replayed = 0
        self.timings: list[tuple[str, float]] = []  # (phase, seconds since the start): printed, for slow runs

    def mark(self, phase: str) -> None:
        self.timings.append((phase, round(time.monotonic() - self.started, 1)))

    # -- setting up ------------------------------------------------------------------------------
    def start(self) -> "FaultRun":
        p = self.pipeline
        p.declare_topics()
        for service in ("ingest", "scoring", "publisher"):
            p.start(service)
        self.receiver.start()
        # Subscribe from the start of the event log, so every event of the run is owed to the receiver.
        r = httpx.post(f"{p.url('publisher')}/v1/subscriptions", headers=self.admin, timeout=10,
                       json={"url": self.receiver.url, "description": "fault tier", "from_position": "0-0"})
        assert r.status_code == 201, r.text
        self.subscription = r.json()
        self.receiver.secret = self.subscription["secret"]
        self.sse = SseSubscriber(p.url("publisher")).start()
        self.mark("started")
        return self

    @property
    def admin(self) -> dict[str, str]:
        token = (self.workdir / "publisher-admin-token").read_text().strip()
        return {"Authorization": f"Bearer {token}"}

    def send(self, warm_up: int = 20) -> None:
        """Start the stream; return once SSE and the webhook each have ``warm_up`` events and the rest flows."""
        assert self.sse is not None
        self.sender.start()
        assert poll(lambda: min(self.sse.copies.total, self.receiver.copies.total) >= warm_up, 90, every=0.05), \
            f"no events reached the subscribers (SSE {self.sse.copies.total}, webhook {self.receiver.copies.total})"
        self.sender.go.set()

    def wait_accepted(self, fraction: float, timeout: float = 120) -> int:
        """Block until this share of the stream has been accepted; returns how many inputs that is."""
        want = int(self.sender.total * fraction)
        assert poll(lambda: self.sender.count >= want or not self.sender.is_alive(), timeout, every=0.05), \
            f"only {self.sender.count} of {want} inputs accepted after {timeout} s"
        assert self.sender.count < self.sender.total, "the stream ended before the fault: nothing was mid-stream"
        return self.sender.count

    # -- checking --------------------------------------------------------------------------------
    def verify(self, injected: str, notes: list[str] | None = None) -> list[str]:
        """Let the run settle, measure, fill the summary row; returns the problems found (empty: passed)."""
        assert self.sse is not None
        row, p, problems = self.row, self.pipeline, []
        row.injected = injected
        row.notes += notes or []

        self.mark("fault injected")
        self.sender.join(timeout=300)
        self.mark("stream sent")
        if self.sender.is_alive() or self.sender.error:
            problems.append(f"sender did not finish: {self.sender.error or 'still running'}")
        accepted = list(self.sender.accepted)
        retried = f" ({len(self.sender.refusals)} x 503 retried)" if self.sender.refusals else ""
        if self.sender.transport_errors:
            row.notes.append(f"the client re-sent {self.sender.transport_errors} requests after a dropped connection")
        row.accepted = f"{len(accepted)}/{len(self.items)}{retried}"

        # (1) nothing accepted is lost: on the input topics, and reflected in the tables.
        on_topic = {input_id(item) for name in ("nof.observations.v1", "nof.trust-status.v1")
                    for r in p.read_topic(name) for item in single_inputs(decode_input(r.value))}
        lost = [i for i in self.sender.accepted_ids if i not in on_topic]
        if lost:
            problems.append(f"{len(lost)} accepted inputs are not on the input topics, e.g. {lost[:3]}")
        results = expected(accepted)
        diff = wait_for_tables(p, results, timeout=120)
        self.mark("tables checked")
        api = [d for league in results.leagues
               for d in mismatches(self._api_league(league), results, league)] if not diff else []
        row.tables = "yes" if not diff and not api else f"NO ({len(diff) + len(api)} differences)"
        if diff:
            problems.append("Redis tables differ from the batch result:\n  " + "\n  ".join(diff[:10]))
        if api:
            problems.append("the read API differs from the batch result:\n  " + "\n  ".join(api[:10]))

        # (2) the change events, once the scorer has emitted all of them.
        events: list[ChangeEvent] = []

        def settled() -> bool:
            nonlocal events
            events = change_events(p)
            return not fold_mismatches(fold(events), results)

        if not poll(settled, 60, every=1.0):
            problems.append("change events do not fold to the batch result: "
                            + "; ".join(fold_mismatches(fold(events), results)[:5]))
        self.mark("change events settled")
        by_id: dict[str, ChangeEvent] = {}
        for e in events:
            if by_id.setdefault(e.event_id, e) != e:
                problems.append(f"nof.changes.v1 carries two different events with id {e.event_id}")
        topic_ids = set(by_id)
        row.events = f"{len(topic_ids)}" + (f" (+{len(events) - len(topic_ids)} re-sent)" if len(events) > len(topic_ids) else "")

        # (3) the subscribers.
        want = {name: topic_ids for name in ("sse", "webhook", "public topic")}  # every fault, no exemptions
        public = Copies()

        def webhook_done() -> bool:
            if want["webhook"] <= self.receiver.copies.ids():
                return True
            self._replay_dead_letters()
            return False

        def public_done() -> bool:
            nonlocal public
            public = public_topic_copies(p)
            return want["public topic"] <= public.ids()

        poll(lambda: want["sse"] <= self.sse.copies.ids(), 120)
        self.mark("sse complete")
        poll(webhook_done, 120)
        self.mark("webhook complete")
        poll(public_done, 90, every=2.0)
        self.mark("public topic complete")
        time.sleep(1.0)  # let late duplicates arrive, so the counts below are final
        self.sse.stop()
        public = public_topic_copies(p)
        subscribers = {"sse": self.sse.copies, "webhook": self.receiver.copies, "public topic": public}
        for name, copies in subscribers.items():
            row.subscribers[name] = cell(copies, want[name])
            problems += self._check_subscriber(name, copies, want[name], by_id)
        if self.receiver.bad_signatures or self.receiver.mismatched_ids:
            problems.append(f"webhook: {len(self.receiver.bad_signatures)} bad signatures, "
                            f"{len(self.receiver.mismatched_ids)} webhook-id headers not the CloudEvent id")
        if self.replayed:
            row.notes.append(f"{self.replayed} webhook deliveries were dead-lettered after the retries ran out "
                             f"and redelivered through POST /v1/subscriptions/{{id}}/replay")
        alerts = {name: {i for i, e in c.items() if e["type"] in ALERT_TYPES} for name, c in subscribers.items()}
        every = set().union(*alerts.values())
        for name, got in alerts.items():
            if got != every:
                problems.append(f"{name} missed {len(every - got)} of {len(every)} segment alerts")
        if self.sse.gaps or self.sse.overflows:
            row.notes.append(f"SSE: {len(self.sse.gaps)} gap notices, {self.sse.overflows} overflow hand-offs")

        row.seconds = time.monotonic() - self.started
        self.mark("verified")
        print(f"{row.fault} timings:", ", ".join(f"{k} {v} s" for k, v in self.timings))
        row.outcome = "FAIL" if problems else "PASS"
        return problems

    def _api_league(self, league: str) -> dict[str, Any] | None:
        r = httpx.get(f"{self.pipeline.url('publisher')}/v1/leagues/{league}", timeout=10)
        return r.json() if r.status_code == 200 else None

    def _replay_dead_letters(self) -> None:
        """The documented way back from exhausted retries: queue the dead letters for redelivery."""
        base = f"{self.pipeline.url('publisher')}/v1/subscriptions/{self.subscription['id']}"
        try:
            failed = httpx.get(f"{base}/failed", headers=self.admin, timeout=5)
            if failed.status_code == 200 and failed.json():
                r = httpx.post(f"{base}/replay", headers=self.admin, timeout=5)
                self.replayed += r.json().get("queued", 0) if r.status_code == 200 else 0
        except httpx.HTTPError:
            pass

    @staticmethod
    def _check_subscriber(name: str, copies: Copies, required: set[str], topic: dict[str, ChangeEvent]) -> list[str]:
        problems = []
        missing = required - copies.ids()
        if missing:
            problems.append(f"{name} never received {len(missing)} of {len(required)} required change events, "
                            f"e.g. {sorted(missing)[:3]}")
        conflicting = copies.conflicting()
        if conflicting:
            problems.append(f"{name} received different payloads under one id: {conflicting[:3]}")
        for event_id, event in copies.items():
            if event["type"] in ALERT_TYPES:
                continue
            scorer = topic.get(event_id)
            if scorer is None:
                problems.append(f"{name} received {event_id}, which the scorer never emitted")
            elif ChangeEvent.model_validate(event["data"]) != scorer:
                problems.append(f"{name} received {event_id} with data that differs from the scorer's event")
        return problems[:10]

    # -- tearing down ----------------------------------------------------------------------------
    def close(self, keep_logs: bool) -> None:
        self.sender.cancelled.set()
        self.sender.go.set()
        if self.sse is not None:
            self.sse.stop()
        self.receiver.stop()
        self.pipeline.cleanup()
        if keep_logs:  # the services' logs of a failed run, for whoever reads the CI artifacts
            target = ARTIFACTS / "faults" / self.row.fault.replace(" ", "-")
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True, exist_ok=True)
            for log in self.workdir.glob("*.log"):
                shutil.copy(log, target / log.name)
