#!/usr/bin/env bash
# Install everything the project needs on this machine, skipping what is already in place:
# the virtual environment (exact versions from requirements.lock), the Kafka jars, redis-server,
# the dashboard's front-end assets (npm, from package-lock.json), and (with --browser) Debian's Chromium for the dashboard's browser tests.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

python_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }

install_venv() {
  local stamp
  stamp="$(cat "$ROOT/pyproject.toml" "$ROOT/requirements.lock" | sha256sum | cut -c1-16)"
  if [ -x "$PY" ] && [ "$(cat "$VENV/.stamp" 2>/dev/null)" = "$stamp" ]; then return 0; fi
  local base="${NOF_PYTHON:-python3}"
  python_ok "$base" || fail "Python 3.11+ is required ($base is $("$base" --version 2>&1))"
  [ -x "$PY" ] || { say "python: creating .venv"; "$base" -m venv "$VENV" || fail "could not create .venv (Debian: apt-get install python3-venv)"; }
  say "python: installing locked dependencies into .venv"
  "$PY" -m pip install -q --disable-pip-version-check -c "$ROOT/requirements.lock" -e "$ROOT[test]" \
    || fail "pip install failed (see above)"
  echo "$stamp" > "$VENV/.stamp"
}

install_browser() {
  command -v chromium >/dev/null && return 0
  [ "$(id -u)" -eq 0 ] || fail "chromium is missing: run 'sudo apt-get install chromium'"
  say "browser: installing Debian's chromium for the dashboard tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || fail "apt-get install chromium failed"
}

# The dashboard's front-end packages (exact versions from its package-lock.json) and the assets built from them.
install_dashboard() {
  local web="$ROOT/services/publisher/frontend" stamp
  stamp="$(cat "$web/package-lock.json" "$web/build.mjs" "$web"/src/* | sha256sum | cut -c1-16)"
  if [ -f "$ROOT/services/publisher/static/build/charts.js" ] && [ "$(cat "$web/node_modules/.stamp" 2>/dev/null)" = "$stamp" ]; then return 0; fi
  command -v npm >/dev/null || fail "node and npm are required to build the dashboard (Debian: apt-get install nodejs npm)"
  say "dashboard: installing the locked front-end packages and building its assets"
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && node build.mjs >/dev/null) || fail "building the dashboard failed (see above)"
  echo "$stamp" > "$web/node_modules/.stamp"
}

install_venv
install_dashboard
bash "$ROOT/deploy/local/kafka.sh" install
bash "$ROOT/deploy/local/redis.sh" install
[ "${1:-}" = "--browser" ] && install_browser
exit 0
