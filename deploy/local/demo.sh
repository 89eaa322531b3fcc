#!/usr/bin/env bash
# The demo data: load one full baseline (tables appear within seconds), then replay a quarter of
# monthly releases in the background (five minutes a quarter). Usage: demo.sh start|stop
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
PIDF="$LOCAL/run/demo.pid"

case "${1:-}" in
  start)
    "$VENV/bin/nof" demo run --baseline-only
    if pid_alive "$PIDF"; then say "demo: replay already running (pid $(cat "$PIDF"))"; exit 0; fi
    nohup "$VENV/bin/nof" demo run --quarter-in "${NOF_DEMO_QUARTER_IN:-300}" >> "$LOCAL/logs/demo.log" 2>&1 &
    echo $! > "$PIDF"
    say "demo: replaying a quarter of monthly releases in the background (log: .local/logs/demo.log)"
    ;;
  stop) stop_pid demo "$PIDF" ;;
  *) fail "usage: demo.sh start|stop" ;;
esac
