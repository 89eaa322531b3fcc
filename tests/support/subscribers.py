"""Real subscribers of a running publisher, as a downstream system would run them.

- ``SseSubscriber``: a thread reading ``GET /v1/stream`` that reconnects by itself and resumes with
  ``Last-Event-ID`` (as EventSource does), following ``overflow`` hand-offs and counting ``gap`` notices.
- ``WebhookReceiver``: an HTTP server on 127.0.0.1 that verifies Standard Webhooks signatures and can be
  told to answer 500 for a while.
- ``public_topic_copies``: every CloudEvent on the public Kafka topic.

Each keeps ``Copies``: every copy of every CloudEvent it received, by CloudEvent id, so a test can ask
which ids arrived, how many copies were duplicates and whether two copies of one id ever differed.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from services.publisher import signing
from tests.support.pipeline import Pipeline


class Copies:
    """Every copy of every event one subscriber received, by event id (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, list[dict[str, Any]]] = {}
        self._total = 0

    def add(self, event_id: str, payload: dict[str, Any]) -> None:
        with self._lock:
            self._by_id.setdefault(event_id, []).append(payload)
            self._total += 1

    def ids(self) -> set[str]:
        with self._lock:
            return set(self._by_id)

    @property
    def total(self) -> int:
        with self._lock:
            return self._total

    def duplicates(self, among: set[str] | None = None) -> int:
        """Copies beyond the first, over every id (or only the ids in ``among``)."""
        with self._lock:
            return sum(len(c) - 1 for i, c in self._by_id.items() if among is None or i in among)

    def conflicting(self) -> list[str]:
        """Ids whose copies are not all identical."""
        with self._lock:
            return sorted(i for i, c in self._by_id.items() if any(x != c[0] for x in c[1:]))

    def first(self, event_id: str) -> dict[str, Any]:
        with self._lock:
            return self._by_id[event_id][0]

    def items(self) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            return [(i, c[0]) for i, c in self._by_id.items()]


class SseSubscriber:
    """Reads the publisher's SSE stream in a thread; reconnects with the last position after any failure."""

    name = "sse"

    def __init__(self, base_url: str, last_event_id: str = "0-0", retry_s: float = 0.5) -> None:
        self.base_url, self.retry_s = base_url, retry_s
        self.last_event_id = last_event_id  # "0-0": everything the publisher retains, then live
        self.copies = Copies()
        self.connections = 0  # successful (200) connections
        self.gaps: list[dict[str, Any]] = []
        self.overflows = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sse-subscriber", daemon=True)

    def start(self) -> "SseSubscriber":
        self._thread.start()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._read_once()
            except (httpx.HTTPError, OSError, ValueError) as exc:  # refused, reset, timed out: reconnect
                self.errors.append(f"{type(exc).__name__}: {exc}"[:200])
            self._stop.wait(self.retry_s)

    def _read_once(self) -> None:
        headers = {"Last-Event-ID": self.last_event_id, "Accept": "text/event-stream"}
        # The publisher sends a heartbeat comment every few seconds, so a silent read means a dead peer.
        with httpx.Client(timeout=httpx.Timeout(10.0, connect=2.0)) as client, \
                client.stream("GET", f"{self.base_url}/v1/stream", headers=headers) as response:
            if response.status_code != 200:
                raise ValueError(f"GET /v1/stream answered {response.status_code}")
            self.connections += 1
            fields: dict[str, str] = {}
            for line in response.iter_lines():
                if self._stop.is_set():
                    return
                if line == "":
                    if fields and self._message(fields):
                        return
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    fields[name] = fields[name] + "\n" + value if name == "data" and name in fields else value

    def _message(self, m: dict[str, str]) -> bool:
        """Record one message; True when the server is handing the client off (reconnect now)."""
        kind = m.get("event", "message")
        if kind == "overflow":
            self.overflows += 1
            self.last_event_id = json.loads(m["data"])["last_event_id"] or self.last_event_id
            return True
        if kind == "gap":
            self.gaps.append(json.loads(m["data"]))
            return False
        event = json.loads(m["data"])
        self.copies.add(event["id"], event)
        if m.get("id"):
            self.last_event_id = m["id"]
        return False


class WebhookReceiver:
    """A webhook endpoint on 127.0.0.1: verifies signatures, records deliveries, fails while told to."""

    name = "webhook"

    def __init__(self) -> None:
        self.copies = Copies()
        self.secret: str | None = None
        self.attempts = 0
        self.refused = 0  # attempts answered 500 on purpose
        self.bad_signatures: list[str] = []
        self.mismatched_ids: list[str] = []  # webhook-id header differs from the CloudEvent id
        self._failing = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver._handle(dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/nof"

    def start(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(10)
        self._server.server_close()

    def fail(self, failing: bool) -> None:
        """While failing, every attempt is answered 500 (and not counted as received)."""
        (self._failing.set if failing else self._failing.clear)()

    def _handle(self, headers: dict[str, str], body: bytes) -> int:
        h = {k.lower(): v for k, v in headers.items()}
        with self._lock:
            self.attempts += 1
            if self._failing.is_set():
                self.refused += 1
                return 500
        event_id = h.get("webhook-id", "")
        try:
            ok = self.secret is not None and signing.verify(
                self.secret, event_id, int(h.get("webhook-timestamp", "0")), body, h.get("webhook-signature", ""),
                now=int(time.time()))
        except ValueError:
            ok = False
        event = json.loads(body)
        with self._lock:
            if not ok:
                self.bad_signatures.append(event_id)
            if event.get("id") != event_id:
                self.mismatched_ids.append(event_id)
        self.copies.add(event["id"], event)
        return 204


def public_topic_copies(pipeline: Pipeline, topic: str = "nof.public-events.v1") -> Copies:
    """Every CloudEvent on the publisher's public topic, from the beginning to its current end."""
    copies = Copies()
    for record in pipeline.read_topic(topic):
        event = json.loads(record.value)
        copies.add(event["id"], event)
    return copies


def poll(check: Callable[[], bool], timeout: float, every: float = 0.5) -> bool:
    """Call ``check`` until it is true or ``timeout`` seconds have passed; returns the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(every)
