#!/usr/bin/env bash
# Run every test tier in order, starting what each needs; stop at the first failing tier.
# pytest exits 5 when a tier collects no tests, which fails the run: no tier may pass empty.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
D="$ROOT/deploy/local"
cd "$ROOT"

export NOF_ENVIRONMENT=test
mkdir -p "$ROOT/test-artifacts"
declare -a SUMMARY=()
tier() {
  local name="$1"; shift
  local t0=$SECONDS
  say "=== tier: $name"
  if "$@"; then SUMMARY+=("$(printf '%-12s passed  %4ss' "$name" $((SECONDS - t0)))")
  else SUMMARY+=("$(printf '%-12s FAILED  %4ss' "$name" $((SECONDS - t0)))"); printf '%s\n' "${SUMMARY[@]}"; exit 1; fi
}

# What was already running (a `make run` stack, say) is left running; what the tiers start is stopped when
# the run ends, passed or failed (the logs stay under .local/logs).
already=" "
bash "$D/kafka.sh" status >/dev/null 2>&1 && already+="kafka "
bash "$D/redis.sh" status >/dev/null 2>&1 && already+="redis "
for n in ingest scoring publisher; do bash "$D/services.sh" status "$n" >/dev/null 2>&1 && already+="$n "; done
stop_what_we_started() {
  local n
  for n in publisher scoring ingest redis kafka; do
    [[ "$already" == *" $n "* ]] && continue
    case "$n" in
      kafka|redis) bash "$D/$n.sh" stop >/dev/null 2>&1 || true ;;
      *) bash "$D/services.sh" stop "$n" >/dev/null 2>&1 || true ;;
    esac
  done
}
trap stop_what_we_started EXIT

tier lint "$VENV/bin/lint-imports"
tier unit "$PY" -m pytest tests/unit -q
tier fuzz "$PY" -m pytest tests/fuzz -q -m fuzz
bash "$D/stack.sh" infra
tier integration "$PY" -m pytest tests/integration -q -m integration
tier faults "$PY" -m pytest tests/faults -q -m faults
bash "$D/services.sh" start
"$VENV/bin/nof" demo run --baseline-only  # the end-to-end tier reads real tables, as `make run` shows them
tier e2e "$PY" -m pytest tests/e2e -q -m e2e
say "=== summary"
printf '%s\n' "${SUMMARY[@]}"
