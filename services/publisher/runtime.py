"""What the routes need at run time, built by the composition root (app.py) and reached via ``Depends``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from shared.league_cache import LeagueCache

from services.publisher.auth import check_bearer
from services.publisher.event_log import EventLog
from services.publisher.hub import Hub
from services.publisher.settings import PublisherSettings
from services.publisher.sse_limits import ConnectionLimits
from services.publisher.ssrf import TargetGuard
from services.publisher.subscription_log import SubscriptionLog
from services.publisher.subscriptions import SubscriptionStore


@dataclass
class Runtime:
    settings: PublisherSettings
    cache: LeagueCache
    event_log: EventLog
    hub: Hub
    store: SubscriptionStore
    guard: TargetGuard
    admin_sha256: str
    sub_log: SubscriptionLog
    sse_limits: ConnectionLimits


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def require_admin(rt: RuntimeDep, authorization: Annotated[str | None, Header()] = None) -> None:
    check_bearer(authorization, rt.admin_sha256)


AdminDep = Depends(require_admin)
