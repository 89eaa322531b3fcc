#!/usr/bin/env bash
# The local Apache Kafka broker (KRaft, one node): install jars with Maven, format storage once, start, stop.
# Usage: kafka.sh install|start|stop|status|logs
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

K="$LOCAL/kafka"
LIBS="$K/libs"
DATA="$K/data"
CONF="$K/server.properties"
PIDF="$LOCAL/run/kafka.pid"
LOG="$K/logs/server.log"
POM="$ROOT/deploy/kafka/pom.xml"

install() {
  local stamp
  stamp="$(sha256sum "$POM" | cut -c1-16)"
  if [ -f "$LIBS/.stamp" ] && [ "$(cat "$LIBS/.stamp")" = "$stamp" ]; then return 0; fi
  command -v java >/dev/null || fail "java not found: install a JDK 17+ (Debian: apt-get install openjdk-17-jre-headless)"
  command -v mvn >/dev/null || fail "mvn not found: install Maven (Debian: apt-get install maven)"
  say "kafka: resolving the Apache Kafka jars with Maven (first run only)"
  rm -rf "$LIBS" && mkdir -p "$LIBS"
  mvn -q -B -f "$POM" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIBS" \
    || fail "Maven could not resolve the Kafka jars (see the output above)"
  echo "$stamp" > "$LIBS/.stamp"
}

configure() {
  mkdir -p "$DATA" "$K/logs"
  sed -e "s#__DATA_DIR__#$DATA#" -e "s#__PORT__#$KAFKA_PORT#g" -e "s#__CONTROLLER_PORT__#$KAFKA_CONTROLLER_PORT#g" \
    "$ROOT/deploy/kafka/server.properties" > "$CONF"
  if [ ! -f "$DATA/meta.properties" ]; then
    [ -f "$K/cluster-id" ] || java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1 > "$K/cluster-id"
    say "kafka: formatting storage (cluster $(cat "$K/cluster-id"))"
    java -Dlog4j2.configurationFile="$ROOT/deploy/kafka/log4j2.properties" -Dkafka.logs.dir="$K/logs" \
      -cp "$LIBS/*" kafka.tools.StorageTool format -t "$(cat "$K/cluster-id")" -c "$CONF" --ignore-formatted >/dev/null \
      || fail "kafka storage format failed"
  fi
}

answers() { NOF_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:$KAFKA_PORT" "$PY" -m shared.kafka_admin ping "$@" >/dev/null 2>&1; }

start() {
  install
  if pid_alive "$PIDF" && answers; then say "kafka: already running on 127.0.0.1:$KAFKA_PORT"; return 0; fi
  configure
  say "kafka: starting on 127.0.0.1:$KAFKA_PORT"
  nohup java -Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$ROOT/deploy/kafka/log4j2.properties" -Dkafka.logs.dir="$K/logs" \
    -cp "$LIBS/*" kafka.Kafka "$CONF" > "$K/logs/stdout.log" 2>&1 &
  echo $! > "$PIDF"
  if ! answers --timeout 90; then
    say "kafka: did not answer metadata requests within 90 s; last log lines:" >&2
    tail -n 30 "$LOG" "$K/logs/stdout.log" >&2 2>/dev/null || true
    exit 1
  fi
  say "kafka: answering on 127.0.0.1:$KAFKA_PORT"
}

status() {
  if pid_alive "$PIDF" && answers; then say "kafka      healthy   127.0.0.1:$KAFKA_PORT (pid $(cat "$PIDF"))"
  elif pid_alive "$PIDF"; then say "kafka      starting  pid $(cat "$PIDF"), not answering yet"; return 1
  else say "kafka      stopped"; return 1; fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop_pid kafka "$PIDF" ;;
  status) status ;;
  logs) tail -n "${2:-50}" "$LOG" ;;
  *) fail "usage: kafka.sh install|start|stop|status|logs" ;;
esac
