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
# NOF_KAFKA_SECURITY_PROTOCOL=SASL_SSL starts the broker with a SCRAM-over-TLS listener, ACLs and one
# principal per service (shared/kafka_acls.py); certificates and passwords are made here, under $K.
SECURE=false; [ "${NOF_KAFKA_SECURITY_PROTOCOL:-PLAINTEXT}" = "SASL_SSL" ] && SECURE=true
TLS="$K/tls"
CREDS="$K/credentials"
# The principals need no broker to be listed, so no credentials to list them either.
principals() { NOF_KAFKA_SECURITY_PROTOCOL=PLAINTEXT "$PY" -m shared.kafka_acls principals; }

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

# A private CA and the broker's certificate (CN nof-kafka-broker, valid for 127.0.0.1 and localhost); the
# broker presents it to clients and to its own controller listener, which requires it.
certificates() {
  [ -s "$TLS/broker.pem" ] && [ -s "$TLS/ca.pem" ] && return 0
  command -v openssl >/dev/null || fail "openssl not found (Debian: apt-get install openssl)"
  say "kafka: generating a local CA and the broker's TLS certificate in $TLS"
  rm -rf "$TLS" && mkdir -p "$TLS" && chmod 700 "$TLS"
  (
    cd "$TLS"
    openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=nof-live local Kafka CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -keyout ca.key -out ca.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=nof-kafka-broker" -keyout broker.key -out broker.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' > broker.ext
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 -extfile broker.ext \
      -out broker.crt
    openssl pkcs8 -topk8 -nocrypt -in broker.key -out broker.key.pk8
    cat broker.key.pk8 broker.crt > broker.pem
    rm -f broker.csr broker.ext broker.key ca.srl
  ) >/dev/null 2>&1 || fail "openssl could not make the broker's certificate"
}

# One random password per principal (a file each, readable by this user only).
credentials() {
  mkdir -p "$CREDS" && chmod 700 "$CREDS"
  local p
  for p in $(principals); do
    [ -s "$CREDS/$p" ] || (umask 077 && openssl rand -hex 24 > "$CREDS/$p")
  done
}

configure() {
  mkdir -p "$DATA" "$K/logs"
  local -a scram=()
  sed -e "s#__DATA_DIR__#$DATA#" -e "s#__PORT__#$KAFKA_PORT#g" -e "s#__CONTROLLER_PORT__#$KAFKA_CONTROLLER_PORT#g" \
    "$ROOT/deploy/kafka/server.properties" > "$CONF"
  if $SECURE; then
    certificates
    credentials
    (umask 077 && sed -e "s#__TLS_DIR__#$TLS#g" -e "s#__PORT__#$KAFKA_PORT#g" \
      -e "s#__CONTROLLER_PORT__#$KAFKA_CONTROLLER_PORT#g" -e "s#__ADMIN_PASSWORD__#$(cat "$CREDS/admin")#" \
      "$ROOT/deploy/kafka/sasl-ssl.properties" >> "$CONF")
    chmod 600 "$CONF"
    local p
    for p in $(principals); do
      scram+=(--add-scram "SCRAM-SHA-512=[name=$p,password=$(cat "$CREDS/$p")]")
    done
  fi
  if [ ! -f "$DATA/meta.properties" ]; then
    [ -f "$K/cluster-id" ] || java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1 > "$K/cluster-id"
    say "kafka: formatting storage (cluster $(cat "$K/cluster-id"))"
    java -Dlog4j2.configurationFile="$ROOT/deploy/kafka/log4j2.properties" -Dkafka.logs.dir="$K/logs" \
      -cp "$LIBS/*" kafka.tools.StorageTool format -t "$(cat "$K/cluster-id")" -c "$CONF" --ignore-formatted \
      "${scram[@]}" >/dev/null || fail "kafka storage format failed"
    echo "${NOF_KAFKA_SECURITY_PROTOCOL:-PLAINTEXT}" > "$K/formatted-for"
  fi
  [ "$(cat "$K/formatted-for" 2>/dev/null || echo PLAINTEXT)" = "${NOF_KAFKA_SECURITY_PROTOCOL:-PLAINTEXT}" ] \
    || fail "kafka: $DATA was formatted for $(cat "$K/formatted-for" 2>/dev/null || echo PLAINTEXT); delete it to switch"
}

answers() { kafka_env_run admin env NOF_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:$KAFKA_PORT" "$PY" -m shared.kafka_admin ping "$@" >/dev/null 2>&1; }

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
  if $SECURE; then
    kafka_env_run admin env NOF_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:$KAFKA_PORT" "$PY" -m shared.kafka_acls apply \
      || fail "kafka: could not apply the service principals' ACLs"
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
