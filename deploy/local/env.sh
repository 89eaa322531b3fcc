# Shared paths and ports for the local stack scripts (sourced, not run). Every value can be overridden
# from the environment; the services read the same NOF_* variables through shared/settings.py.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL="${NOF_LOCAL_DIR:-$ROOT/.local}"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

KAFKA_PORT="${NOF_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${NOF_KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP="${NOF_KAFKA_HEAP:-512m}"
REDIS_PORT="${NOF_REDIS_PORT:-6379}"
INGEST_PORT="${NOF_INGEST_PORT:-8001}"
SCORING_PORT="${NOF_SCORING_PORT:-8002}"
PUBLISHER_PORT="${NOF_PUBLISHER_PORT:-8003}"

export NOF_KAFKA_BOOTSTRAP_SERVERS="${NOF_KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:$KAFKA_PORT}"
export NOF_REDIS_URL="${NOF_REDIS_URL:-redis://127.0.0.1:$REDIS_PORT/0}"
export NOF_LOCAL_DIR="$LOCAL"
export NOF_INGEST_PORT="$INGEST_PORT" NOF_SCORING_PORT="$SCORING_PORT" NOF_PUBLISHER_PORT="$PUBLISHER_PORT"
export NOF_DEMO_INGEST_URL="${NOF_DEMO_INGEST_URL:-http://127.0.0.1:$INGEST_PORT}"
export NOF_DEMO_PUBLISHER_URL="${NOF_DEMO_PUBLISHER_URL:-http://127.0.0.1:$PUBLISHER_PORT}"
# Local development delivers webhooks to receivers on this machine; production refuses this setting.
if [ "${NOF_ENVIRONMENT:-development}" != "production" ]; then
  export NOF_PUBLISHER_WEBHOOK_ALLOW_PRIVATE_TARGETS="${NOF_PUBLISHER_WEBHOOK_ALLOW_PRIVATE_TARGETS:-true}"
fi

# The local stack is a developer's: say so, so that credentials are created only where that is explicit.
export NOF_ENVIRONMENT="${NOF_ENVIRONMENT:-development}"

mkdir -p "$LOCAL/run" "$LOCAL/logs"

# kafka_env PRINCIPAL: the settings that make a process that Kafka principal when the local broker
# requires SASL_SSL (deploy/local/kafka.sh), as NAME=VALUE words for `env`; nothing with PLAINTEXT.
kafka_env() {
  [ "${NOF_KAFKA_SECURITY_PROTOCOL:-PLAINTEXT}" = "SASL_SSL" ] || return 0
  printf '%s\n' "NOF_KAFKA_SASL_USERNAME=$1" "NOF_KAFKA_SASL_PASSWORD_FILE=$LOCAL/kafka/credentials/$1" \
    "NOF_KAFKA_SSL_CA_FILE=$LOCAL/kafka/tls/ca.pem"
}
# kafka_env_run PRINCIPAL CMD...: run CMD as that principal.
kafka_env_run() { local who="$1"; shift; env $(kafka_env "$who") "$@"; }

say() { printf '%s\n' "$*"; }
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }

# pid_alive FILE: the pid in FILE names a running process.
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pid NAME FILE: TERM, wait up to 20 s, then KILL.
stop_pid() {
  local name="$1" file="$2" pid i
  pid_alive "$file" || { rm -f "$file"; return 0; }
  pid="$(cat "$file")"
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then say "$name: did not stop in 20 s, killing"; kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$file"
  say "$name: stopped"
}

# http_ok URL: a 2xx answer.
http_ok() { curl -fsS -m 2 -o /dev/null "$1" 2>/dev/null; }
