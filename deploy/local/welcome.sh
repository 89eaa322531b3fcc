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

Local development credentials (never use these outside this machine):
  ingest API key        $(cat "$LOCAL/ingest-dev-key" 2>/dev/null || echo "(created on first ingest start)")   (.local/ingest-dev-key)
  publisher admin token $(cat "$LOCAL/publisher-admin-token" 2>/dev/null || echo "(created on first publisher start)")   (.local/publisher-admin-token)

Try:
  curl -s http://127.0.0.1:$PUBLISHER_PORT/v1/leagues
  .venv/bin/nof league show acute
MSG
