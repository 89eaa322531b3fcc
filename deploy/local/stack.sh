#!/usr/bin/env bash
# The whole local stack: Kafka, Redis, topics, the three services.
# Usage: stack.sh up|infra|down|status|logs
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
D="$ROOT/deploy/local"

infra() {
  bash "$D/kafka.sh" start
  bash "$D/redis.sh" start
  kafka_env_run admin "$PY" -m shared.kafka_admin declare
}

case "${1:-}" in
  infra) infra ;;
  up) infra; bash "$D/services.sh" start ;;
  down) bash "$D/demo.sh" stop; bash "$D/services.sh" stop; bash "$D/redis.sh" stop; bash "$D/kafka.sh" stop ;;
  status) rc=0; bash "$D/kafka.sh" status || rc=1; bash "$D/redis.sh" status || rc=1; bash "$D/services.sh" status || rc=1; exit $rc ;;
  logs) bash "$D/kafka.sh" logs 15; bash "$D/redis.sh" logs 5; bash "$D/services.sh" logs ;;
  *) fail "usage: stack.sh up|infra|down|status|logs" ;;
esac
