"""Scoring service composition root: the faust app, its web endpoints for health and metrics."""

from __future__ import annotations

import faust

from services.scoring.settings import ScoringSettings
from shared.telemetry import metrics_payload
from shared.topics import SCORING_APP_ID


def create_app(settings: ScoringSettings | None = None) -> faust.App:
    settings = settings or ScoringSettings()
    app = faust.App(
        SCORING_APP_ID,
        broker=[f"kafka://{s}" for s in settings.common.kafka.bootstrap_list],
        store=settings.store,
        datadir=settings.state_dir,
        web_host=settings.host,
        web_port=settings.port,
        topic_allow_declare=False,
        topic_disable_leader=True,
    )

    @app.page("/healthz")
    async def healthz(self, request):  # noqa: ANN001 - faust view signature
        return self.json({"service": "scoring", "status": "ok", "checks": {}})

    @app.page("/metrics")
    async def metrics(self, request):  # noqa: ANN001
        body, content_type = metrics_payload()
        return self.bytes(body, content_type=content_type)

    return app
