"""Where the stack that `make run` (or `make test`) started listens: the same NOF_* variables the
services and deploy/local/env.sh read, with the same defaults."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PORTS = {
    "ingest": int(os.environ.get("NOF_INGEST_PORT", "8001")),
    "scoring": int(os.environ.get("NOF_SCORING_PORT", "8002")),
    "publisher": int(os.environ.get("NOF_PUBLISHER_PORT", "8003")),
}
LOCAL_DIR = Path(os.environ.get("NOF_LOCAL_DIR", ROOT / ".local"))


def url(service: str) -> str:
    return f"http://127.0.0.1:{PORTS[service]}"
