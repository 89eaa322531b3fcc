"""What the routes need at run time, built by the composition root (app.py) and reached via ``Depends``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.league_cache import LeagueCache

from services.publisher.auth import check_bearer
from services.publisher.event_log import EventLog
from services.publisher.hub import Hub
from services.publisher.league_views import LeagueViews
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
    views: LeagueViews
    sse_limits: ConnectionLimits


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


ADMIN_TOKEN = HTTPBearer(auto_error=False, scheme_name="adminToken",
                         description="The publisher's admin token (Authorization: Bearer <token>), for subscriptions.")


def require_admin(rt: RuntimeDep,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(ADMIN_TOKEN)]) -> None:
    check_bearer(None if credentials is None else f"Bearer {credentials.credentials}", rt.admin_sha256)


AdminDep = Depends(require_admin)
