"""``GET /v1/stream``: Server-Sent Events of the outward CloudEvents, resumable with ``Last-Event-ID``.

Each message: ``id:`` the event-log position, ``event:`` the CloudEvent type, ``data:`` the CloudEvent JSON.
Without a position the stream starts at "now"; with one (header ``Last-Event-ID`` or ``?last_event_id=``)
it first replays what is still retained after it (an ``event: gap`` notice says when some was trimmed).
Heartbeat comments keep proxies open. Slow clients: each has a bounded queue; when it fills, the client
gets a final ``event: overflow`` (data: ``{"last_event_id": …}``) and is disconnected; reconnecting with
that id (EventSource does so by itself) resumes without loss.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import ValidationError
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.background import BackgroundTask

from shared.errors import FieldError, ValidationFailed

from services.publisher import metrics
from services.publisher.errors import TooManyRequests
from services.publisher.event_log import POSITION_PATTERN, LogEntry, id_key
from services.publisher.filters import Filters, matches
from services.publisher.hub import Listener
from services.publisher.runtime import Runtime, RuntimeDep

router = APIRouter(prefix="/v1", tags=["stream"])

POSITION = re.compile(POSITION_PATTERN)


_ENCODED: OrderedDict[tuple[str, str], bytes] = OrderedDict()


def message(position: str, entry: LogEntry) -> bytes:
    """The wire form of one message, encoded once and shared by every client that gets it."""
    key = (position, entry.event_id)
    wire = _ENCODED.get(key)
    if wire is None:
        wire = ServerSentEvent(data=entry.body.decode(), event="uk.nhs.nof." + entry.facts.type, id=position).encode()
        _ENCODED[key] = wire
        if len(_ENCODED) > 4096:
            _ENCODED.popitem(last=False)
    return wire


def stream_filters(
    leagues: Annotated[list[str], Query(alias="league")] = [],  # noqa: B006 (FastAPI copies defaults)
    trust_codes: Annotated[list[str], Query(alias="trust_code")] = [],  # noqa: B006
    regions: Annotated[list[str], Query(alias="region")] = [],  # noqa: B006
    types: Annotated[list[str], Query(alias="type")] = [],  # noqa: B006
    min_rank_movement: int = 0,
) -> Filters:
    """The subscription filters from the query string; a bad one is a 422 naming the query parameter, as the
    same filter in a subscription's body is."""
    try:
        return Filters(leagues=leagues, trust_codes=trust_codes, regions=regions, types=types,
                       min_rank_movement=min_rank_movement)
    except ValidationError as exc:
        raise ValidationFailed([FieldError("query." + QUERY_NAMES.get(str(e["loc"][0]), str(e["loc"][0])), e["msg"])
                                for e in exc.errors()]) from None


#: Filters' field -> its query parameter.
QUERY_NAMES = {"leagues": "league", "trust_codes": "trust_code", "regions": "region", "types": "type"}


async def _events(rt: Runtime, f: Filters, listener: Listener, start: str | None,
                  release: Callable[[], Awaitable[None]]) -> AsyncIterator[ServerSentEvent | bytes]:
    metrics.sse_clients.inc()
    last = start or listener.start
    try:
        if start is not None:
            first = await rt.event_log.first()
            if first and id_key(start) != (0, 0) and id_key(first) > id_key(start):
                yield ServerSentEvent(event="gap", data=json.dumps({"oldest_retained": first}))
            while True:
                rows = await rt.hub.read_after(last, 500)
                for position, entry in rows:
                    if matches(f, entry.facts):
                        yield message(position, entry)
                    last = position
                if len(rows) < 500:
                    break
        while not listener.overflowed:
            position, entry = await listener.queue.get()
            if id_key(position) <= id_key(last):
                continue
            yield message(position, entry)
            last = position
        metrics.sse_overflows.inc()
        yield ServerSentEvent(event="overflow", data=json.dumps({
            "reason": "this client fell too far behind; reconnect with Last-Event-ID to resume",
            "last_event_id": last}))
    finally:
        rt.hub.forget(listener)
        await release()
        metrics.sse_clients.dec()


@router.get("/stream", summary="Server-Sent Events of CloudEvents (resumable with Last-Event-ID)",
            response_class=EventSourceResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "an endless event stream"}})
async def stream(
    request: Request,
    rt: RuntimeDep,
    f: Annotated[Filters, Depends(stream_filters)],
    last_event_id: Annotated[str | None, Query(description="resume after this position (EventSource sends the header)")] = None,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID", include_in_schema=False)] = None,
) -> EventSourceResponse:
    start = (last_event_id_header or last_event_id or "").strip() or None
    if start is not None and not POSITION.fullmatch(start):
        field = "header.Last-Event-ID" if last_event_id_header else "query.last_event_id"
        raise ValidationFailed([FieldError(field, f"must be an event-log position like 1718000000000-0, not {start!r}")])
    s = rt.settings
    address = request.client.host if request.client else "unknown"
    if (refused := rt.sse_limits.admit(address)) is not None:
        raise TooManyRequests(refused)
    listener = rt.hub.listen(f, s.sse_queue_size)
    release = rt.sse_limits.releaser(address)

    async def after() -> None:  # also for a client gone before its stream started (no finally ran)
        rt.hub.forget(listener)
        await release()

    return EventSourceResponse(_events(rt, f, listener, start, release), background=BackgroundTask(after),
                               ping=s.sse_heartbeat_seconds,
                               send_timeout=s.sse_send_timeout_seconds, headers={"X-Accel-Buffering": "no"})
