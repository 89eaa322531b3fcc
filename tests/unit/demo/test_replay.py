"""Replay into the real ingest app (in-memory sink) and into scripted transports; no sleeping."""

from __future__ import annotations

import io

import httpx
import pytest

from nof.demo.generator import FINANCE, INTENSIVE_SUPPORT, MONTH_S, OBSERVATION
from nof.demo.progress import Progress
from nof.demo.replay import (
    IngestUnavailable, Rejected, Replayer, import_csv, speed_for, steps,
)
from services.ingest.app import create_app
from services.ingest.ledger import MemoryLedger
from services.ingest.trust_log import MemoryTrustLog
from services.ingest.settings import IngestSettings
from services.ingest.sink import MemoryInputSink
from shared.api_keys import ApiKey, hash_key
from shared.events import ObservationReceived

KEY = "demo-test-key"


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


def quiet(stream=None):
    return lambda total, months, clock: Progress(total, months, clock, stream=stream or io.StringIO(),
                                                 tty=False)


@pytest.fixture
def sink() -> MemoryInputSink:
    return MemoryInputSink()


@pytest.fixture
async def ingest(sink):
    settings = IngestSettings(api_keys=[ApiKey(name="demo", sha256=hash_key(KEY), scopes={
        "observations:write", "status:write", "trusts:write"})])
    transport = httpx.ASGITransport(app=create_app(settings, sink=sink, ledger=MemoryLedger(), trust_log=MemoryTrustLog()))
    async with httpx.AsyncClient(transport=transport, base_url="http://ingest",
                                 headers={"Authorization": f"Bearer {KEY}"}) as client:
        yield client


async def test_baseline_reaches_ingest_whole(ingest, sink, timeline):
    baseline = timeline.until(0)
    report = await Replayer(ingest, clock=FakeClock(), progress=quiet()).replay(baseline)
    assert report.sent == {OBSERVATION: baseline.count(OBSERVATION), FINANCE: 159,
                           INTENSIVE_SUPPORT: 1}
    observed = {r.event.observation_id for _, r in sink.records
                if isinstance(r.event, ObservationReceived)}
    assert observed == {i.id for i in baseline.items if i.kind == OBSERVATION}
    assert len(sink.records) == len(baseline)


async def test_whole_quarter_is_accepted_in_small_batches(ingest, sink, timeline):
    report = await Replayer(ingest, clock=FakeClock(), progress=quiet(), max_batch=500).replay(timeline)
    assert report.total == len(timeline) == len(sink.records)
    assert report.requests == sum(1 for _ in steps(timeline, 500))


async def test_replaying_again_sends_the_same_ids(ingest, sink, timeline):
    baseline = timeline.until(0)
    for _ in range(2):
        await Replayer(ingest, clock=FakeClock(), progress=quiet()).replay(baseline)
    ids = [r.event.observation_id for _, r in sink.records if isinstance(r.event, ObservationReceived)]
    assert len(ids) == 2 * len(set(ids))  # the scorer drops the second copy as a duplicate
    changes = [r.event.change_id for _, r in sink.records if not isinstance(r.event, ObservationReceived)]
    assert len(changes) == 2 * len(set(changes))


async def test_503_is_retried_after_retry_after_and_nothing_is_lost(ingest, sink, timeline):
    clock, notes = FakeClock(), io.StringIO()
    sink.down = True
    real_sleep = clock.sleep

    async def sleep_then_recover(seconds):
        await real_sleep(seconds)
        sink.down = False  # Kafka is back after the first wait

    clock.sleep = sleep_then_recover
    baseline = timeline.until(0)
    report = await Replayer(ingest, clock=clock, progress=quiet(notes)).replay(baseline)
    assert report.retries == 1 and clock.sleeps == [5.0]  # ingest's Retry-After
    assert len(sink.records) == len(baseline)
    assert "ingest unavailable (503)" in notes.getvalue()


async def test_gives_up_when_unavailable_too_long(timeline):
    def handler(request):
        return httpx.Response(503, headers={"Retry-After": "30", "Content-Type": "application/problem+json"},
                              json={"type": "urn:nof-live:problem:unavailable", "title": "Service unavailable",
                                    "status": 503, "detail": "Kafka is down", "instance": "/v1/observations"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://x") as c:
        with pytest.raises(IngestUnavailable, match="Kafka is down"):
            await Replayer(c, clock=FakeClock(), progress=quiet(), give_up_after_s=100).replay(
                timeline.until(0))


async def test_connection_failures_back_off_then_succeed(timeline):
    calls = []

    def handler(request):
        calls.append(request.url.path)
        if len(calls) <= 2:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(202, json={"accepted": 1, "ids": [], "correlation_id": "c"})

    clock = FakeClock()
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://x") as c:
        report = await Replayer(c, clock=clock, progress=quiet()).replay(timeline.until(0))
    assert clock.sleeps[:2] == [1.0, 2.0] and report.retries == 2


async def test_a_4xx_stops_with_the_servers_errors(ingest, timeline):
    bad = timeline.until(0)
    first = bad.items[0]
    broken = type(first)(first.kind, first.at, first.month, "NOPE", first.id,
                         {**first.payload, "trust_code": "NOPE"}, first.tag)
    bad = type(bad)(bad.params, bad.periods, (broken,) + bad.items[1:])
    with pytest.raises(Rejected) as caught:
        await Replayer(ingest, clock=FakeClock(), progress=quiet()).replay(bad)
    assert caught.value.status == 422
    assert "[0] trust_code: unknown trust 'NOPE'" in str(caught.value)


async def test_pacing_follows_the_simulated_clock(timeline):
    clock, seen = FakeClock(), []

    def handler(request):
        seen.append(clock.now())
        return httpx.Response(202, json={"accepted": 1, "ids": [], "correlation_id": "c"})

    speed = speed_for(300)  # a quarter in five minutes
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://x") as c:
        await Replayer(c, speed=speed, clock=clock, progress=quiet()).replay(timeline)
    due = [s.at / speed for s in steps(timeline)]
    assert len(seen) == len(due)
    assert all(d <= t < d + 1e-6 for t, d in zip(seen, due))
    assert seen[-1] == pytest.approx(timeline.items[-1].at / speed) and seen[-1] < 300
    assert max(clock.sleeps) <= 1.0  # slices, so the progress line keeps moving
    assert speed_for(300) * 300 == 3 * MONTH_S


async def test_speed_zero_never_sleeps(timeline):
    clock = FakeClock()

    def handler(request):
        return httpx.Response(202, json={"accepted": 1, "ids": [], "correlation_id": "c"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://x") as c:
        await Replayer(c, speed=0, clock=clock, progress=quiet()).replay(timeline.until(1))
    assert clock.sleeps == []


async def test_progress_lines_when_not_a_terminal(ingest, timeline):
    out = io.StringIO()
    await Replayer(ingest, clock=FakeClock(), progress=quiet(out)).replay(timeline.until(1))
    lines = out.getvalue().splitlines()
    assert lines[-1].startswith("replay 100.0%") and "simulated 2025-10 (month 1/1)" in lines[-1]
    assert any("(baseline)" in line for line in lines)
    assert "\r" not in out.getvalue()


def test_progress_rewrites_one_line_on_a_terminal():
    out, clock = io.StringIO(), FakeClock()
    p = Progress(10, 3, clock.now, stream=out, tty=True)
    p.update(5, 1, "2025-10")
    clock.t = 1.0
    p.update(10, 1, "2025-10")
    p.finish()
    text = out.getvalue()
    assert text.count("\r\x1b[K") == 3 and text.endswith("\n") and "100.0%" in text


async def test_import_streams_a_csv_and_returns_the_report(ingest, sink, tmp_path, timeline,
                                                           register, methodology):
    from nof.demo.export import write_long_csv

    path = tmp_path / "metrics.csv"
    with path.open("w", newline="") as out:
        rows = write_long_csv(out, timeline, register, methodology)
    with path.open("a") as out:
        out.write("Q3 2025/26,London,RYX,X,Mental health and community trust,Community,OF5002,"
                  "Average score,Score,1.82\n")
        out.write("Q3 2025/26,London,RYX,X,Mental health and community trust,Community,OF0063,"
                  "MH stays,%,n/a\n")
    report = await import_csv(ingest, str(path), clock=FakeClock())
    assert report["accepted"] == rows == len(sink.records)
    assert report["skipped_by_reason"] == {"published score row": 1, "value not a number": 1}
