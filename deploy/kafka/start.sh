#!/usr/bin/env bash
# Starts a single-node Kafka broker (KRaft combined mode) on 127.0.0.1 in the background.
# Idempotent: if the broker recorded in the pid file is alive and answers, it is reused.
# Prints the brokers string (HOST:PORT) on stdout once a client can list topics; logs go to stderr.
#
# Environment:
#   KAFKA_PORT             client port (default 9092); the controller uses KAFKA_CONTROLLER_PORT
#                          (default KAFKA_PORT + 1)
#   KAFKA_DATA_DIR         pid file, generated config, broker.log and the log directory
#                          (default <repo>/.kafka/<port>, gitignored)
#   KAFKA_HEAP_OPTS        JVM heap (default -Xms256m -Xmx512m)
#   KAFKA_START_TIMEOUT_S  how long to wait for readiness (default 90)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
port="${KAFKA_PORT:-9092}"
controller_port="${KAFKA_CONTROLLER_PORT:-$((port + 1))}"
data="${KAFKA_DATA_DIR:-$root/.kafka/$port}"
mkdir -p "$data"
data="$(cd "$data" && pwd)"
pidfile="$data/broker.pid"
logdir="$data/log"
config="$data/server.properties"
brokers="127.0.0.1:$port"
timeout_s="${KAFKA_START_TIMEOUT_S:-90}"

log() { echo "kafka: $*" >&2; }

is_our_broker() { # pid: alive and running kafka.Kafka
  [[ -r "/proc/$1/cmdline" ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q 'kafka\.Kafka'
}

# A client call, not the port opening, is readiness: the broker accepts connections before its
# metadata is loaded. kafkajs is already a dependency, so no extra tool is needed.
ready() {
  (cd "$root" && KAFKA_PROBE_BROKERS="$brokers" node -e '
    const { Kafka, logLevel } = require("kafkajs");
    const admin = new Kafka({ brokers: [process.env.KAFKA_PROBE_BROKERS], logLevel: logLevel.NOTHING,
      connectionTimeout: 1000, requestTimeout: 3000, retry: { retries: 0 } }).admin();
    admin.connect().then(() => admin.listTopics()).then(() => admin.disconnect()).then(
      () => process.exit(0), () => process.exit(1));
    setTimeout(() => process.exit(1), 5000).unref();
  ') >/dev/null 2>&1
}

if [[ -f "$pidfile" ]]; then
  pid="$(cat "$pidfile")"
  if is_our_broker "$pid"; then
    if ready; then log "reusing running broker (pid $pid)"; echo "$brokers"; exit 0; fi
    log "broker pid $pid is alive but not answering yet; waiting"
  else
    rm -f "$pidfile"
  fi
fi

# Jars from Maven Central, fetched once (deploy/kafka/lib is gitignored).
if ! compgen -G "$here/lib/kafka_2.13-*.jar" >/dev/null; then
  log "fetching broker jars with Maven (first run only)"
  (cd "$here" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=lib) >&2
fi
cp_arg="$here/lib/*"

if [[ ! -f "$pidfile" ]]; then
  sed -e "s#@PORT@#$port#g" -e "s#@CONTROLLER_PORT@#$controller_port#g" -e "s#@LOG_DIR@#$logdir#g" \
    "$here/server.properties" >"$config"

  # Format the log directory once: an unformatted directory fails with "No readable meta.properties".
  if [[ ! -f "$logdir/meta.properties" ]]; then
    cluster_id="$(java -cp "$cp_arg" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
    log "formatting $logdir (cluster $cluster_id)"
    java -Dlog4j2.configurationFile="$here/log4j2.properties" -cp "$cp_arg" kafka.tools.StorageTool \
      format --standalone -t "$cluster_id" -c "$config" >>"$data/broker.log" 2>&1 || {
      log "format failed; see $data/broker.log"
      tail -n 20 "$data/broker.log" >&2
      exit 1
    }
  fi

  log "starting broker on $brokers (data $data)"
  # setsid: the broker outlives this script and ignores the terminal's Ctrl-C; stop.sh ends it.
  # shellcheck disable=SC2086
  setsid java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$here/log4j2.properties" \
    -cp "$cp_arg" kafka.Kafka "$config" >>"$data/broker.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
fi

pid="$(cat "$pidfile")"
deadline=$((SECONDS + timeout_s))
until ready; do
  if ! is_our_broker "$pid"; then
    rm -f "$pidfile"
    log "broker exited during startup; last lines of $data/broker.log:"
    tail -n 30 "$data/broker.log" >&2
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    log "broker not ready after ${timeout_s}s; see $data/broker.log"
    exit 1
  fi
  sleep 0.5
done
log "ready (pid $pid)"
echo "$brokers"
