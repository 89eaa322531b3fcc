#!/usr/bin/env bash
# The local Redis server (Debian's redis-server): install if missing, start with a project-local config, stop.
# Usage: redis.sh install|start|stop|status|logs
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

R="$LOCAL/redis"
PIDF="$LOCAL/run/redis.pid"

install() {
  command -v redis-server >/dev/null && return 0
  say "redis: installing Debian's redis-server"
  if [ "$(id -u)" -ne 0 ]; then fail "redis-server is missing and this user cannot install it: run 'sudo apt-get install redis-server'"; fi
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null) \
    || fail "apt-get install redis-server failed"
  # Debian starts its own service on 6379; ours is the project's, so keep the system one out of the way.
  service redis-server stop >/dev/null 2>&1 || true
}

start() {
  install
  if pid_alive "$PIDF" && redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then say "redis: already running on 127.0.0.1:$REDIS_PORT"; return 0; fi
  if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    fail "something else already answers on 127.0.0.1:$REDIS_PORT (a system redis? stop it, or set NOF_REDIS_PORT)"
  fi
  mkdir -p "$R"
  sed -e "s#__PORT__#$REDIS_PORT#" -e "s#__DIR__#$R#" -e "s#__PIDFILE__#$PIDF#" \
    "$ROOT/deploy/redis/redis.conf" > "$R/redis.conf"
  redis-server "$R/redis.conf" || fail "redis-server did not start (see $R/redis.log)"
  for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.2; done
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || { tail -n 20 "$R/redis.log" >&2; fail "redis did not answer PING"; }
  say "redis: answering on 127.0.0.1:$REDIS_PORT"
}

status() {
  if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then say "redis      healthy   127.0.0.1:$REDIS_PORT"
  else say "redis      stopped"; return 1; fi
}

stop() {
  if pid_alive "$PIDF"; then redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true; fi
  stop_pid redis "$PIDF"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  logs) tail -n "${2:-50}" "$R/redis.log" ;;
  *) fail "usage: redis.sh install|start|stop|status|logs" ;;
esac
