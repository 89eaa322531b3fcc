#!/usr/bin/env bash
# Printed at the end of `make run`: where to look.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$ROOT/deploy/local/stack.sh" status || true
cat <<MSG

NOF live is running.
  Dashboard and league tables   http://127.0.0.1:$PUBLISHER_PORT/
  Publisher API (OpenAPI)        http://127.0.0.1:$PUBLISHER_PORT/docs
  Ingest API (OpenAPI)           http://127.0.0.1:$INGEST_PORT/docs
  Scoring health and metrics     http://127.0.0.1:$SCORING_PORT/healthz   /metrics
  Logs                           make logs    (files under .local/logs)
  Stop                           make down
MSG
