"""Webhook subscriptions (admin token): create, list, read, delete; inspect and replay dead letters.

Create and delete write to the subscriptions topic (the source of truth, acks=all) before Redis (the working
copy): a write the broker does not acknowledge answers 503 and nothing is stored.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from services.publisher.errors import NotFound, Unavailable
from services.publisher.event_log import POSITION_PATTERN
from services.publisher.filters import Filters
from services.publisher.runtime import AdminDep, Runtime, RuntimeDep
from services.publisher.signing import new_secret
from services.publisher.subscriptions import DeadLetter, Subscription, SubscriptionStatus

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"], dependencies=[AdminDep])


class SubscriptionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2048,
                     description="http(s) target; private and loopback addresses are refused unless allowed")
    filters: Filters = Field(default_factory=Filters)
    description: str = Field(default="", max_length=1000)
    from_position: str | None = Field(
        default=None, pattern=POSITION_PATTERN, examples=["1718000000000-0"],
        description="event-log position to start after (default: only events from now on)")


class SubscriptionView(BaseModel):
    id: str
    url: str
    filters: Filters
    description: str
    created_at: datetime
    cursor: str
    failed: int
    status: SubscriptionStatus


class CreatedSubscription(SubscriptionView):
    secret: str = Field(description="whsec_… signing secret; shown only in this response")


async def _view(rt: Runtime, sub: Subscription) -> dict:
    return {**sub.model_dump(), "cursor": await rt.store.cursor(sub.id), "failed": await rt.store.failed_count(sub.id),
            "status": await rt.store.status(sub.id)}


async def _get(rt: Runtime, sub_id: str) -> Subscription:
    sub = await rt.store.get(sub_id)
    if sub is None:
        raise NotFound(f"unknown subscription {sub_id!r}")
    return sub


UNKNOWN = {404: {"description": "Unknown subscription"}}
NOT_STORED = {503: {"description": "The subscriptions topic or Redis did not answer: nothing was stored"}}


@router.post("", status_code=201, response_model=CreatedSubscription, responses=NOT_STORED,
             summary="Create a webhook subscription")
async def create(body: SubscriptionRequest, rt: RuntimeDep) -> dict:
    await rt.guard.check(body.url)
    sub = Subscription(url=body.url, filters=body.filters, description=body.description, secret=new_secret())
    cursor = body.from_position or await rt.event_log.head()
    await rt.sub_log.put(sub)  # the source of truth first: Unavailable (503) when not acknowledged
    try:
        await rt.store.create(sub, cursor)
    except Exception as exc:
        try:
            await rt.sub_log.remove(sub.id)  # take it back, so nothing is half-stored
        except Unavailable:
            log.error("subscription recorded but not stored in Redis, and its removal failed", extra={"subscription": sub.id})
        raise Unavailable(f"the subscription could not be stored ({type(exc).__name__}); try again") from exc
    return {**await _view(rt, sub), "secret": sub.secret}


@router.get("", response_model=list[SubscriptionView], summary="List subscriptions (secrets are never shown)")
async def list_all(rt: RuntimeDep) -> list[dict]:
    return [await _view(rt, s) for s in await rt.store.all()]


@router.get("/{sub_id}", response_model=SubscriptionView, responses=UNKNOWN, summary="One subscription")
async def get_one(sub_id: str, rt: RuntimeDep) -> dict:
    return await _view(rt, await _get(rt, sub_id))


@router.delete("/{sub_id}", status_code=204, responses={**UNKNOWN, **NOT_STORED}, summary="Delete a subscription, its cursor and dead letters")
async def delete(sub_id: str, rt: RuntimeDep) -> Response:
    await _get(rt, sub_id)
    await rt.sub_log.remove(sub_id)  # a tombstone first: a restore after a Redis loss will not bring it back
    await rt.store.delete(sub_id)
    return Response(status_code=204)


@router.get("/{sub_id}/failed", response_model=list[DeadLetter], responses=UNKNOWN, summary="Dead letters: deliveries given up")
async def failed(sub_id: str, rt: RuntimeDep,
                 limit: Annotated[int, Query(ge=1, le=100_000)] = 1000) -> list[DeadLetter]:
    await _get(rt, sub_id)
    return await rt.store.failed(sub_id, limit)


@router.post("/{sub_id}/enable", response_model=SubscriptionView, responses=UNKNOWN,
             summary="Enable a subscription the circuit breaker disabled; delivery resumes from its cursor")
async def enable(sub_id: str, rt: RuntimeDep) -> dict:
    sub = await _get(rt, sub_id)
    status = await rt.store.status(sub_id)
    await rt.store.set_status(sub_id, status.model_copy(update={"state": "active", "failing_since": None,
                                                                "reason": ""}))
    return await _view(rt, sub)


@router.post("/{sub_id}/replay", responses=UNKNOWN, summary="Queue every dead letter for redelivery (same webhook-id)")
async def replay(sub_id: str, rt: RuntimeDep) -> dict:
    await _get(rt, sub_id)
    return {"queued": await rt.store.queue_replay(sub_id)}
