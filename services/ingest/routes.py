"""HTTP routes of the ingest API: decode, authorise, hand to the acceptor, publish, answer."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, status

from services.ingest import metrics
from services.ingest.accept import Acceptor, Keyed
from services.ingest.csv_import import CsvLayoutError, import_csv
from services.ingest.schemas import (
    Accepted,
    CsvReport,
    FinanceIn,
    IntensiveSupportIn,
    ObservationBatch,
    TrustIn,
)
from services.ingest.settings import IngestSettings
from services.ingest.sink import InputSink
from shared.api_keys import KeyRing
from shared.errors import BadRequest, FieldError, PayloadTooLarge, ValidationFailed
from shared.events import ObservationReceived
from shared.telemetry import correlation_id as correlation_var
from shared.telemetry import new_correlation_id

log = logging.getLogger(__name__)


@dataclass
class IngestContext:
    settings: IngestSettings
    acceptor: Acceptor
    sink: InputSink
    keys: KeyRing

    async def publish(self, records: list[Keyed]) -> None:
        await asyncio.to_thread(self.sink.publish, records, self.settings.publish_timeout_s)
        metrics.REQUEST_RECORDS.observe(len(records))


def context(request: Request) -> IngestContext:
    return request.app.state.ingest


async def correlation(x_correlation_id: Annotated[str | None, Header(max_length=128)] = None) -> str:
    """The request's correlation id: the client's ``X-Correlation-ID``, or a new one.

    Async on purpose: FastAPI runs a sync dependency in a worker thread, and a context variable set
    there never reaches the route, so the route's log lines would go without the id.
    """
    cid = x_correlation_id or new_correlation_id()
    correlation_var.set(cid)
    return cid


def scope(name: str):
    def check(ctx: Annotated[IngestContext, Depends(context)],
              authorization: Annotated[str | None, Header()] = None) -> None:
        ctx.keys.authorise(authorization, name)
    return Depends(check)


Ctx = Annotated[IngestContext, Depends(context)]
Cid = Annotated[str, Depends(correlation)]
router = APIRouter(prefix="/v1")


@router.post("/observations", status_code=status.HTTP_202_ACCEPTED, dependencies=[scope("observations:write")],
             summary="Accept a batch of metric observations (all or nothing)")
async def post_observations(batch: ObservationBatch, ctx: Ctx, cid: Cid) -> Accepted:
    if len(batch.observations) > ctx.settings.max_batch:
        metrics.rejected("observation", "batch_too_large", len(batch.observations))
        raise ValidationFailed([FieldError("observations", f"at most {ctx.settings.max_batch} per request, got "
                                                           f"{len(batch.observations)}")])
    try:
        records = ctx.acceptor.observations(batch.observations, cid)
    except ValidationFailed as exc:
        for err in exc.errors:
            metrics.rejected("observation", err.field)
        raise
    await ctx.publish(records)
    metrics.accepted("observation", len(records))
    ids = [r.event.observation_id for r in records if isinstance(r.event, ObservationReceived)]
    log.info("observations accepted", extra={"accepted": len(records)})
    return Accepted(accepted=len(records), ids=ids, correlation_id=cid)


@router.post("/observations/csv", dependencies=[scope("observations:write")],
             summary="Accept observations from NHS England's long metric-data CSV (streamed)")
async def post_observations_csv(request: Request, ctx: Ctx, cid: Cid) -> CsvReport:
    limit = ctx.settings.max_csv_bytes
    with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as spool:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"CSV body exceeds {limit} bytes")
            spool.write(chunk)
        if size == 0:
            raise BadRequest("empty body: send the CSV file as the request body (Content-Type: text/csv)")
        spool.seek(0)

        def publish(chunk: list[Keyed]) -> None:
            ctx.sink.publish(chunk, ctx.settings.publish_timeout_s)

        try:
            tally = await asyncio.to_thread(import_csv, spool, ctx.acceptor, publish, ctx.settings.csv_chunk_rows, cid)
        except CsvLayoutError as exc:
            raise ValidationFailed([FieldError("header", str(exc))]) from None
        except UnicodeDecodeError as exc:
            raise ValidationFailed([FieldError("body", f"not UTF-8 text ({exc.reason} at byte {exc.start})")]) from None
    metrics.accepted("observation", tally.accepted)
    for reason, count in tally.skipped.items():
        metrics.rejected("observation", reason.replace(" ", "_"), count)
    log.info("observations accepted from CSV", extra={"accepted": tally.accepted, "rows": tally.rows,
                                                      "skipped": sum(tally.skipped.values())})
    return CsvReport(accepted=tally.accepted, skipped=sum(tally.skipped.values()), rows=tally.rows,
                     skipped_by_reason=dict(tally.skipped), examples=tally.examples, correlation_id=cid)


@router.put("/trusts/{code}/finance", status_code=status.HTTP_202_ACCEPTED, dependencies=[scope("status:write")],
            summary="Set a trust's deficit flags (may cap its segment at 3)")
async def put_finance(code: str, body: FinanceIn, ctx: Ctx, cid: Cid) -> Accepted:
    record = ctx.acceptor.finance(code, body, cid)
    await ctx.publish([record])
    metrics.accepted("finance", 1)
    log.info("finance status accepted", extra={"trust_code": code, "change_id": record.event.change_id})
    return Accepted(accepted=1, ids=[record.event.change_id], correlation_id=cid)


@router.put("/trusts/{code}/intensive-support", status_code=status.HTTP_202_ACCEPTED,
            dependencies=[scope("status:write")], summary="Set or clear intensive support (segment 5)")
async def put_intensive_support(code: str, body: IntensiveSupportIn, ctx: Ctx, cid: Cid) -> Accepted:
    record = ctx.acceptor.intensive_support(code, body, cid)
    await ctx.publish([record])
    metrics.accepted("intensive_support", 1)
    log.info("intensive support accepted", extra={"trust_code": code, "change_id": record.event.change_id})
    return Accepted(accepted=1, ids=[record.event.change_id], correlation_id=cid)


@router.post("/trusts", status_code=status.HTTP_202_ACCEPTED, dependencies=[scope("trusts:write")],
             summary="Register a trust or update its register entry")
async def post_trust(body: TrustIn, ctx: Ctx, cid: Cid) -> Accepted:
    info, record = ctx.acceptor.trust(body, cid)
    await ctx.publish([record])
    ctx.acceptor.register[info.code] = info
    metrics.accepted("trust", 1)
    log.info("trust registration accepted", extra={"trust_code": info.code, "change_id": record.event.change_id})
    return Accepted(accepted=1, ids=[record.event.change_id], correlation_id=cid)
