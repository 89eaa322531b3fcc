#!/usr/bin/env bash
# Install everything the project needs on this machine, skipping what is already in place:
# the virtual environment (exact versions from requirements.lock), the Kafka jars, redis-server,
# and (with --browser) Debian's Chromium for the dashboard's browser tests.
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

install_venv
bash "$ROOT/deploy/local/kafka.sh" install
bash "$ROOT/deploy/local/redis.sh" install
[ "${1:-}" = "--browser" ] && install_browser
exit 0
