"""HTTP routes of the ingest API: decode, authorise, hand to the acceptor, publish, answer."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from dataclasses import dataclass
from typing import IO, Annotated

from fastapi import APIRouter, Depends, Header, Request, Security, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import UploadFile

from services.ingest import metrics
from services.ingest.accept import Acceptor, Keyed, settle
from services.ingest.ledger import Ledger
from services.ingest.trust_register import TrustRegister
from services.ingest.csv_import import CsvLayoutError, CsvTally, import_csv, nothing_accepted
from services.ingest.schemas import (
    Accepted,
    CsvReport,
    FinanceIn,
    IntensiveSupportIn,
    ObservationBatch,
    RetractionIn,
    TrustIn,
)
from services.ingest.settings import IngestSettings
from services.ingest.sink import InputSink
from shared.api_keys import KeyRing
from shared.errors import BadRequest, FieldError, ValidationFailed
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
    ledger: Ledger
    trusts: TrustRegister

    def settle_and_publish(self, records: list[Keyed]) -> list[Keyed]:
        """Blocking: record the observations in the idempotency ledger, then publish; the published records."""
        records = settle(records, self.ledger)
        self.sink.publish(records, self.settings.publish_timeout_s)
        return records

    async def publish(self, records: list[Keyed]) -> list[Keyed]:
        records = await asyncio.to_thread(self.settle_and_publish, records)
        metrics.REQUEST_RECORDS.observe(len(records))
        return records


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


API_KEY = HTTPBearer(auto_error=False, scheme_name="apiKey",
                     description="An ingest API key (Authorization: Bearer <key>). Each key carries scopes: "
                                 "observations:write, status:write, trusts:write, retractions:write.")


def scope(name: str):
    """Requires an API key with scope ``name`` (401 without a known key, 403 when it lacks the scope)."""
    def check(ctx: Annotated[IngestContext, Depends(context)],
              credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(API_KEY)]) -> None:
        ctx.keys.authorise(None if credentials is None else f"Bearer {credentials.credentials}", name)
    return Security(check, scopes=[name])


Ctx = Annotated[IngestContext, Depends(context)]
Cid = Annotated[str, Depends(correlation)]
router = APIRouter(prefix="/v1")

#: Answers a route gives beyond those every route with a body and a key gives (shared/api_docs.py).
KAFKA_DOWN = {503: {"description": "Kafka (or, for observations, the idempotency ledger in Redis) did not answer in "
                                   "time: nothing was accepted; retry after Retry-After"}}
UNKNOWN_TRUST = {404: {"description": "Unknown trust: register it with POST /v1/trusts first"}}


@router.post("/observations", status_code=status.HTTP_202_ACCEPTED, dependencies=[scope("observations:write")],
             responses={409: {"description": "An observation_id was accepted before with a different payload: "
                                            "nothing was accepted (errors names each by index)"}, **KAFKA_DOWN},
             summary="Accept a batch of metric observations (all or nothing)",
             description="Idempotent: an observation sent again (same observation_id, or without one the same "
                         "trust, metric, period, value and source) changes nothing. A value set back to an earlier "
                         "one takes effect.")
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
    records = await ctx.publish(records)
    metrics.accepted("observation", len(records))
    ids = [r.event.observation_id for r in records if isinstance(r.event, ObservationReceived)]
    log.info("observations accepted", extra={"accepted": len(records)})
    return Accepted(accepted=len(records), ids=ids, correlation_id=cid)


CSV_BODY = {
    "required": True,
    "description": "The CSV file, either as the whole request body (Content-Type: text/csv; "
                   "`curl --data-binary @file.csv -H 'Content-Type: text/csv'`) or as the multipart file field "
                   "`file` (`curl -F file=@file.csv`). Comma-delimited, UTF-8, with a header line.",
    "content": {
        "text/csv": {"schema": {"type": "string", "contentMediaType": "text/csv"}},
        "multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary", "contentMediaType": "text/csv"}}}},
    },
}


@router.post("/observations/csv", dependencies=[scope("observations:write")],
             responses={400: {"description": "An empty body, or a multipart body without a file"}, **KAFKA_DOWN},
             openapi_extra={"requestBody": CSV_BODY},
             summary="Accept observations from NHS England's long metric-data CSV (streamed)",
             description="Rows that cannot be used are skipped and counted by reason; when no row at all is "
                         "accepted the answer is 422 with the reasons (line number as `index`, column as `field`).")
async def post_observations_csv(request: Request, ctx: Ctx, cid: Cid) -> CsvReport:
    if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=8) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise ValidationFailed([FieldError("file", "send the CSV as the multipart file field 'file' "
                                                           "(curl -F file=@observations.csv)")])
            tally = await _import(upload.file, ctx, cid)
    else:
        with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as spool:
            size = 0
            async for chunk in request.stream():
                size += len(chunk)
                spool.write(chunk)
            if size == 0:
                raise BadRequest("empty body: send the CSV file as the request body (Content-Type: text/csv) "
                                 "or as the multipart file field 'file'")
            spool.seek(0)
            tally = await _import(spool, ctx, cid)
    metrics.accepted("observation", tally.accepted)
    for reason, count in tally.skipped.items():
        metrics.rejected("observation", reason.replace(" ", "_"), count)
    if tally.accepted == 0:
        raise ValidationFailed(nothing_accepted(tally), f"no row of the CSV was accepted ({tally.rows} rows read); "
                                                        "nothing was accepted")
    log.info("observations accepted from CSV", extra={"accepted": tally.accepted, "rows": tally.rows,
                                                      "skipped": sum(tally.skipped.values())})
    return CsvReport(accepted=tally.accepted, skipped=sum(tally.skipped.values()), rows=tally.rows,
                     skipped_by_reason=dict(tally.skipped), examples=tally.examples, correlation_id=cid)


async def _import(stream: IO[bytes], ctx: IngestContext, cid: str) -> CsvTally:
    def publish(chunk: list[Keyed]) -> None:
        ctx.settle_and_publish(chunk)

    try:
        return await asyncio.to_thread(import_csv, stream, ctx.acceptor, publish, ctx.settings.csv_chunk_rows, cid)
    except CsvLayoutError as exc:
        raise ValidationFailed([FieldError("header", str(exc))]) from None
    except UnicodeDecodeError as exc:
        raise ValidationFailed([FieldError("body", f"not UTF-8 text ({exc.reason} at byte {exc.start})")]) from None


@router.put("/trusts/{code}/finance", status_code=status.HTTP_202_ACCEPTED, dependencies=[scope("status:write")],
            responses={**UNKNOWN_TRUST, **KAFKA_DOWN},
            summary="Set a trust's deficit flags (may cap its segment at 3)")
async def put_finance(code: str, body: FinanceIn, ctx: Ctx, cid: Cid) -> Accepted:
    record = ctx.acceptor.finance(code, body, cid)
    await ctx.publish([record])
    metrics.accepted("finance", 1)
    log.info("finance status accepted", extra={"trust_code": code, "change_id": record.event.change_id})
    return Accepted(accepted=1, ids=[record.event.change_id], correlation_id=cid)


@router.put("/trusts/{code}/intensive-support", status_code=status.HTTP_202_ACCEPTED,
            dependencies=[scope("status:write")], responses={**UNKNOWN_TRUST, **KAFKA_DOWN},
            summary="Set or clear intensive support (segment 5)")
async def put_intensive_support(code: str, body: IntensiveSupportIn, ctx: Ctx, cid: Cid) -> Accepted:
    record = ctx.acceptor.intensive_support(code, body, cid)
    await ctx.publish([record])
    metrics.accepted("intensive_support", 1)
    log.info("intensive support accepted", extra={"trust_code": code, "change_id": record.event.change_id})
    return Accepted(accepted=1, ids=[record.event.change_id], correlation_id=cid)


@router.post("/retractions", status_code=status.HTTP_202_ACCEPTED, dependencies=[scope("retractions:write")],
             responses={**UNKNOWN_TRUST, **KAFKA_DOWN},
             summary="Withdraw an input accepted in error (an observation, or a finance or intensive-support change)",
             description="An observation by `input_id` (its observation id) or by `metric_id` and `period`; a flag "
                         "change by `input_id` (its change id, as answered in `ids`). The tables, explanations and "
                         "events follow with the retraction as the cause. A retracted observation id stays spent: "
                         "the same value sent again without an `observation_id` gets a new id after a retraction "
                         "by `metric_id` and `period`; after one by `input_id` it needs an `observation_id`.")
async def post_retraction(body: RetractionIn, ctx: Ctx, cid: Cid) -> Accepted:
    record = ctx.acceptor.retraction(body, cid)
    await ctx.publish([record])
    metrics.accepted("retraction", 1)
    log.info("retraction accepted", extra={"trust_code": body.trust_code, "change_id": record.event.change_id,
                                           "target": body.target})
    return Accepted(accepted=1, ids=[record.event.change_id], correlation_id=cid)


@router.post("/trusts", status_code=status.HTTP_202_ACCEPTED, dependencies=[scope("trusts:write")],
             responses=KAFKA_DOWN,
             summary="Register a trust or update its register entry")
async def post_trust(body: TrustIn, ctx: Ctx, cid: Cid) -> Accepted:
    info, record = ctx.acceptor.trust(body, cid)
    await asyncio.to_thread(ctx.trusts.register, info)  # the shared register first: every replica will know it
    await ctx.publish([record])
    metrics.accepted("trust", 1)
    log.info("trust registration accepted", extra={"trust_code": info.code, "change_id": record.event.change_id})
    return Accepted(accepted=1, ids=[record.event.change_id], correlation_id=cid)
