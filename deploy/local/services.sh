#!/usr/bin/env bash
# The project's three services as background processes: start, stop, status, logs.
# Usage: services.sh start|stop|status|logs [ingest|scoring|publisher]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

ALL=(ingest scoring publisher)
port_of() { case "$1" in ingest) echo "$INGEST_PORT" ;; scoring) echo "$SCORING_PORT" ;; publisher) echo "$PUBLISHER_PORT" ;; esac; }
healthy() { http_ok "http://127.0.0.1:$(port_of "$1")/healthz"; }

start_one() {
  local name="$1" pidf="$LOCAL/run/$1.pid" log="$LOCAL/logs/$1.log"
  if pid_alive "$pidf" && healthy "$name"; then say "$name: already running on 127.0.0.1:$(port_of "$name")"; return 0; fi
  stop_pid "$name" "$pidf" >/dev/null
  nohup env $(kafka_env "$name") "$VENV/bin/nof-$name" >> "$log" 2>&1 &  # its own Kafka principal
  echo $! > "$pidf"
  for _ in $(seq 1 120); do
    healthy "$name" && { say "$name: healthy on http://127.0.0.1:$(port_of "$name")"; return 0; }
    pid_alive "$pidf" || break
    sleep 0.5
  done
  say "$name: not healthy after 60 s; last log lines:" >&2
  tail -n 30 "$log" >&2
  return 1
}

status_one() {
  local pidf="$LOCAL/run/$1.pid"
  if pid_alive "$pidf" && healthy "$1"; then printf '%-10s healthy   http://127.0.0.1:%s (pid %s)\n' "$1" "$(port_of "$1")" "$(cat "$pidf")"
  elif pid_alive "$pidf"; then printf '%-10s unhealthy pid %s\n' "$1" "$(cat "$pidf")"; return 1
  else printf '%-10s stopped\n' "$1"; return 1; fi
}

cmd="${1:-}"; shift || true
names=("${@:-${ALL[@]}}")
[ $# -eq 0 ] && names=("${ALL[@]}")
rc=0
case "$cmd" in
  start) for n in "${names[@]}"; do start_one "$n" || rc=1; done ;;
  stop) for n in "${names[@]}"; do stop_pid "$n" "$LOCAL/run/$n.pid"; done ;;
  status) for n in "${names[@]}"; do status_one "$n" || rc=1; done ;;
  logs) for n in "${names[@]}"; do say "== $n"; tail -n 40 "$LOCAL/logs/$n.log" 2>/dev/null || true; done ;;
  *) fail "usage: services.sh start|stop|status|logs [ingest|scoring|publisher]" ;;
esac
exit $rc
