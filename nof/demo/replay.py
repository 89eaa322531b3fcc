"""Send a timeline to the ingest API over HTTP, paced, retrying what the server asks to retry.

    ReplayError            the replay stopped; its message says why
    ├── Rejected           a 4xx (or unexpected) answer: the server's errors, nothing retried
    └── IngestUnavailable  503s or connection failures for longer than ``give_up_after_s``

Observations due at the same moment go in one ``POST /v1/observations`` (at most
``max_batch`` each); finance flags go to ``PUT /v1/trusts/{code}/finance``, intensive
support to ``PUT /v1/trusts/{code}/intensive-support``. Every request carries stable ids
(the observation ids; the change id as ``X-Correlation-Id``), so a retried request is a
no-op at the scorer: nothing is lost and nothing is counted twice.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import AsyncIterator, Awaitable, Callable, Iterator, Protocol

import httpx

from .generator import FINANCE, MONTH_S, OBSERVATION, Item, Timeline
from .progress import Progress

MAX_BATCH = 5_000
DEFAULT_RETRY_AFTER_S = 5.0


class ReplayError(Exception):
    """The replay stopped; the message says why and what was sent."""


class Rejected(ReplayError):
    def __init__(self, status: int, what: str, body: object) -> None:
        self.status, self.what, self.body = status, what, body
        super().__init__(f"ingest rejected {what} with HTTP {status}:\n{_errors(body)}")


class IngestUnavailable(ReplayError):
    pass


def _errors(body: object) -> str:
    """The server's field errors, one per line, or the raw body."""
    if isinstance(body, dict):
        lines = [f"  {body.get('message') or body.get('detail') or body}"]
        for err in body.get("errors") or []:
            where = f"[{err['index']}] " if isinstance(err, dict) and "index" in err else ""
            lines.append(f"  - {where}{err.get('field')}: {err.get('reason')}"
                         if isinstance(err, dict) else f"  - {err}")
        return "\n".join(lines)
    return f"  {body}"


class Clock(Protocol):
    def now(self) -> float: ...
    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def speed_for(quarter_in_s: float) -> float:
    """Simulated seconds per real second that replay a quarter in ``quarter_in_s``."""
    if quarter_in_s <= 0:
        raise ValueError("a quarter needs a positive number of seconds")
    return 3 * MONTH_S / quarter_in_s


@dataclass(frozen=True)
class Step:
    """One request: observations due at the same moment, or one flag change."""

    at: int
    month: int
    items: tuple[Item, ...]


def steps(timeline: Timeline, max_batch: int = MAX_BATCH) -> Iterator[Step]:
    batch: list[Item] = []
    for item in timeline.items:
        if batch and (item.kind != OBSERVATION or item.at != batch[0].at
                      or len(batch) >= max_batch):
            yield Step(batch[0].at, batch[0].month, tuple(batch))
            batch = []
        if item.kind == OBSERVATION:
            batch.append(item)
        else:
            yield Step(item.at, item.month, (item,))
    if batch:
        yield Step(batch[0].at, batch[0].month, tuple(batch))


@dataclass
class ReplayReport:
    sent: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    retries: int = 0
    elapsed_s: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.sent.values())


class Replayer:
    """Paces a timeline by ``speed`` (simulated seconds per real second; 0 = no waiting)."""

    def __init__(self, client: httpx.AsyncClient, *, speed: float = 0.0,
                 clock: Clock | None = None, progress: Callable[..., Progress] | None = None,
                 max_batch: int = MAX_BATCH, give_up_after_s: float = 600.0) -> None:
        if speed < 0:
            raise ValueError("speed must be 0 (as fast as possible) or positive")
        self.client, self.speed, self.clock = client, speed, clock or RealClock()
        self.make_progress = progress or (lambda total, months, clock: Progress(total, months, clock))
        self.max_batch, self.give_up_after_s = max_batch, give_up_after_s

    async def replay(self, timeline: Timeline) -> ReplayReport:
        months = len(timeline.periods) - 1
        progress = self.make_progress(len(timeline), months, self.clock.now)
        report = ReplayReport()
        start = self.clock.now()
        sent = 0
        try:
            for step in steps(timeline, self.max_batch):
                label = timeline.periods[min(step.month, months)]
                await self._wait_until(start + self._real(step.at), progress, sent, step.month,
                                       label)
                report.retries += await self._send(step, progress)
                report.requests += 1
                for item in step.items:
                    report.sent[item.kind] = report.sent.get(item.kind, 0) + 1
                sent += len(step.items)
                progress.update(sent, step.month, label)
        finally:
            progress.finish()
        report.elapsed_s = self.clock.now() - start
        return report

    def _real(self, at: int) -> float:
        return 0.0 if self.speed == 0 else at / self.speed

    async def _wait_until(self, due: float, progress: Progress, sent: int, month: int,
                          label: str) -> None:
        # Sleep in slices of at most a second, so the progress line keeps moving.
        while (wait := due - self.clock.now()) > 0:
            await self.clock.sleep(min(wait, 1.0))
            progress.update(sent, month, label)

    async def _send(self, step: Step, progress: Progress) -> int:
        """Send one step until it is accepted; returns the number of retries."""
        first = step.items[0]
        if first.kind == OBSERVATION:
            method, url, headers = "POST", "/v1/observations", {}
            body = {"observations": [dict(i.payload) for i in step.items]}
            what = f"{len(step.items)} observations due at {first.at}s"
        else:
            path = "finance" if first.kind == FINANCE else "intensive-support"
            method, url = "PUT", f"/v1/trusts/{first.trust_code}/{path}"
            headers, body = {"X-Correlation-Id": first.id}, dict(first.payload)
            what = f"{first.kind} change {first.id} for {first.trust_code}"
        return await send_with_retry(
            lambda: self.client.request(method, url, json=body, headers=headers),
            what, self.clock, progress.note, self.give_up_after_s)


async def send_with_retry(request: Callable[[], Awaitable[httpx.Response]],
                          what: str, clock: Clock, note: Callable[[str], None],
                          give_up_after_s: float) -> int:
    """Repeat ``request`` on 503 (after its Retry-After) and on connection failures (with
    backoff up to 30 s) until it succeeds or ``give_up_after_s`` has passed. Returns the
    number of retries; raises Rejected on any other non-2xx answer."""
    started, retries, backoff = clock.now(), 0, 1.0
    while True:
        try:
            response = await request()
        except httpx.TransportError as exc:
            wait, reason = backoff, f"cannot reach ingest ({type(exc).__name__}: {exc})"
            backoff = min(backoff * 2, 30.0)
        else:
            if response.is_success:
                return retries
            if response.status_code != 503:
                raise Rejected(response.status_code, what, _json(response))
            wait = _retry_after(response)
            reason = f"ingest unavailable (503): {_message(response)}"
        if clock.now() - started + wait > give_up_after_s:
            raise IngestUnavailable(f"gave up on {what} after {retries + 1} attempts: {reason}")
        note(f"{reason}; retrying {what} in {wait:g}s")
        await clock.sleep(wait)
        retries += 1


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", DEFAULT_RETRY_AFTER_S)))
    except ValueError:  # an HTTP date: rare, and not worth parsing here
        return DEFAULT_RETRY_AFTER_S


def _json(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return response.text[:2000]


def _message(response: httpx.Response) -> str:
    body = _json(response)
    return str(body.get("detail", body)) if isinstance(body, dict) else str(body)  # a problem's detail


async def import_csv(client: httpx.AsyncClient, path: str, clock: Clock | None = None,
                     note: Callable[[str], None] | None = None,
                     give_up_after_s: float = 600.0, chunk_bytes: int = 1 << 20) -> dict:
    """Stream a long metric-data CSV to ``POST /v1/observations/csv``; returns its report.

    The file is re-read on a retry: the ingest API derives ids from the row content, so
    rows published before a failure are not counted twice by the scorer.
    """
    async def body() -> AsyncIterator[bytes]:
        with open(path, "rb") as handle:
            while chunk := handle.read(chunk_bytes):
                yield chunk

    response_box: list[httpx.Response] = []

    async def request() -> httpx.Response:
        response = await client.post("/v1/observations/csv", content=body(),
                                     headers={"Content-Type": "text/csv"})
        response_box[:] = [response]
        return response

    await send_with_retry(request, f"the CSV file {path}", clock or RealClock(),
                          note or (lambda _: None), give_up_after_s)
    return response_box[0].json()

