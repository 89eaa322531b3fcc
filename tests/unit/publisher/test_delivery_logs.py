"""Delivery logs carry the correlation id of the input behind each event; webhooks send it as X-Correlation-ID."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from services.publisher import appender
from services.publisher.alerts import HoldDown
from services.publisher.dispatcher import Dispatcher
from services.publisher.event_log import LogEntry, MemoryEventLog
from services.publisher.filters import Filters
from services.publisher.hub import Hub
from services.publisher.retry import RetryPolicy
from services.publisher.ssrf import TargetGuard
from services.publisher.subscriptions import MemorySubscriptionStore, Subscription
from shared.events import ChangeEvent
from shared.telemetry import JsonFormatter
from tests.unit.publisher.publisher_builders import assessment, seg, seg_change


@contextmanager
def json_log(name: str, level: int = logging.DEBUG) -> Iterator[list[dict]]:
    """Capture one logger's output as parsed JSON lines (formatted when logged, as a service would)."""
    stream, lines = io.StringIO(), []
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("publisher"))
    logger = logging.getLogger(name)
    saved = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved)
        lines.extend(json.loads(line) for line in stream.getvalue().splitlines())


def caused_by(event: ChangeEvent, cid: str | None) -> ChangeEvent:
    return event.model_copy(update={"cause": event.cause.model_copy(update={"correlation_id": cid})})


class FakeHttp:
    def __init__(self, answers: list[int | None]) -> None:
        self.answers, self.requests = answers, []

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
        self.requests.append(headers)
        status = self.answers.pop(0)
        return status, "" if status else "ConnectionRefused"


async def no_sleep(seconds: float) -> None:
    return None


def dispatcher(http: FakeHttp, store: MemorySubscriptionStore, attempts: int = 3) -> Dispatcher:
    return Dispatcher(store, Hub(MemoryEventLog()), http, RetryPolicy(0.01, 0.01, attempts), TargetGuard(True),
                      sleep=no_sleep, uniform=lambda a, b: b)


async def test_a_webhook_delivery_sends_and_logs_the_correlation_id():
    store, http = MemorySubscriptionStore(), FakeHttp([500, None, 204])
    sub = Subscription(url="http://127.0.0.1:9/hook", secret="whsec_" + "A" * 44)
    await store.create(sub, "0-0")
    with json_log("services.publisher.dispatcher") as lines:
        assert await dispatcher(http, store).deliver(sub, "1-0", "evt_1", b"{}", 0, "req-42")
    assert [h["X-Correlation-ID"] for h in http.requests] == ["req-42"] * 3
    assert [(e["msg"], e["attempt"], e["status"]) for e in lines] == [
        ("webhook delivery attempt failed; retrying", 1, 500),
        ("webhook delivery attempt failed; retrying", 2, None),
        ("webhook delivered", 3, 204)]
    assert all(e["correlation_id"] == "req-42" and e["event_id"] == "evt_1" and e["subscription"] == sub.id
               and e["level"] == "info" for e in lines)


async def test_a_dead_letter_keeps_the_id_for_its_replay_and_an_event_without_one_sends_none():
    store, http = MemorySubscriptionStore(), FakeHttp([500, 500, 204])
    sub = Subscription(url="http://127.0.0.1:9/hook", secret="whsec_" + "A" * 44)
    await store.create(sub, "0-0")
    d = dispatcher(http, store, attempts=2)
    with json_log("services.publisher.dispatcher") as lines:
        assert not await d.deliver(sub, "1-0", "evt_1", b"{}", 0, "req-7")
    assert lines[-1]["msg"] == "webhook delivery dead-lettered" and lines[-1]["level"] == "warning"
    assert lines[-1]["correlation_id"] == "req-7" and lines[-1]["attempts"] == 2
    (letter,) = await store.failed(sub.id)
    assert letter.correlation_id == "req-7"
    with json_log("services.publisher.dispatcher") as lines:
        assert await d.deliver(sub, "2-0", "evt_2", b"{}", 0)
    assert "X-Correlation-ID" not in http.requests[-1] and "correlation_id" not in lines[-1]


async def test_sse_fan_out_is_one_debug_line_per_event_with_its_correlation_id():
    log = MemoryEventLog()
    hub = Hub(log)
    listeners = [hub.listen(Filters(), 10), hub.listen(Filters(), 10), hub.listen(Filters(leagues=["ambulance"]), 10)]
    await appender.append_changes(log, [caused_by(assessment(1, trust="RAA"), "req-9")], HoldDown(), {})
    rows = await log.read_after("0-0")
    with json_log("services.publisher.hub") as lines:
        hub._publish(rows)
    assert [listener.queue.qsize() for listener in listeners] == [1, 1, 0]
    (line,) = lines
    assert line["msg"] == "event fanned out to SSE clients" and line["level"] == "debug"
    assert (line["clients"], line["correlation_id"], line["event_id"]) == (2, "req-9", rows[0][1].event_id)
    with json_log("services.publisher.hub", logging.INFO) as lines:
        hub._publish(rows)
    assert lines == []


async def test_entries_and_alerts_carry_the_cause_correlation_id_and_appends_count_per_id():
    log = MemoryEventLog()
    events = [caused_by(seg_change(1, seg(2), seg(3), trust="RAA"), "req-1"),
              caused_by(assessment(1, trust="RAA"), "req-1"), caused_by(assessment(2, trust="RBB"), None)]
    result = await appender.append_changes(log, events, HoldDown(), {})
    assert result.by_correlation == {"req-1": 2, "": 1}
    rows = await log.read_after("0-0")
    assert [(r.facts.type, r.correlation_id) for _, r in rows] == [
        ("segment.changed", "req-1"), ("segment.worsened", "req-1"), ("assessment.changed", "req-1"),
        ("assessment.changed", "")]


def test_a_stream_entry_round_trips_its_correlation_id_and_older_entries_have_none():
    entry = appender.change_entry(caused_by(assessment(1), "req-3"), "London", "urn:test")
    raw = {k.encode(): v if isinstance(v, bytes) else str(v).encode() for k, v in entry.fields().items()}
    assert LogEntry.from_fields(raw) == entry
    del raw[b"x"]  # written before entries carried the id
    assert LogEntry.from_fields(raw).correlation_id == ""
