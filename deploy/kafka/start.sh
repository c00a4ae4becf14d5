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
#
# Secured listener (optional; see README.md "SASL_SSL listener"):
#   KAFKA_SASL_SSL_PORT    when set, also listen for SASL_SSL on 127.0.0.1:<port> (PLAIN, SCRAM-SHA-256,
#                          SCRAM-SHA-512); the PLAINTEXT listener stays for admin work and inter-broker traffic
#   KAFKA_SSL_DIR          CA, broker and client certificates (default <data>/ssl); generated with openssl
#                          on first use: ca.pem, server.p12 (broker keystore), client.pem / client.key
#   KAFKA_SSL_CLIENT_AUTH  required | requested | none (default required: clients present client.pem)
#   KAFKA_SASL_USERS_FILE  lines 'name password' ([A-Za-z0-9._-] only): SCRAM-SHA-256 and -512 credentials
#                          added when the log directory is formatted (a fresh KAFKA_DATA_DIR), and PLAIN users
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

# Certificates for the SASL_SSL listener: a CA, the broker's certificate (SAN 127.0.0.1 and localhost) in a
# PKCS12 keystore, and a client certificate for mutual TLS, all signed by that CA. Kept once generated.
make_certificates() { # dir
  local dir="$1"
  command -v openssl >/dev/null || { log "openssl is needed for the SASL_SSL listener"; exit 1; }
  mkdir -p "$dir"
  chmod 700 "$dir"
  if [[ -f "$dir/server.p12" && -f "$dir/client.pem" ]]; then return; fi
  log "generating certificates in $dir"
  (
    cd "$dir"
    umask 077
    openssl rand -hex 16 >keystore.password
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 \
      -subj "/CN=streamnorm test CA" 2>/dev/null
    for who in server client; do
      openssl req -newkey rsa:2048 -nodes -keyout "$who.key" -out "$who.csr" -subj "/CN=streamnorm-$who" 2>/dev/null
      if [[ $who == server ]]; then
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$who.ext"
      else
        printf 'extendedKeyUsage=clientAuth\n' >"$who.ext"
      fi
      openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$who.pem" -days 30 \
        -extfile "$who.ext" 2>/dev/null
    done
    openssl pkcs12 -export -in server.pem -inkey server.key -certfile ca.pem -name kafka \
      -out server.p12 -passout "file:keystore.password"
    rm -f ./*.csr ./*.ext ca.srl
  )
}

# The users file's lines, validated: 'name password' with characters the SCRAM and JAAS syntaxes take as they are.
sasl_users() {
  [[ -n "${KAFKA_SASL_USERS_FILE:-}" ]] || return 0
  local name pw
  while read -r name pw _; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    if [[ ! "$name" =~ ^[A-Za-z0-9._-]+$ || ! "$pw" =~ ^[A-Za-z0-9._-]+$ ]]; then
      log "KAFKA_SASL_USERS_FILE: names and passwords must be [A-Za-z0-9._-]+"
      exit 1
    fi
    echo "$name $pw"
  done <"$KAFKA_SASL_USERS_FILE"
}

if [[ ! -f "$pidfile" ]]; then
  sed -e "s#@PORT@#$port#g" -e "s#@CONTROLLER_PORT@#$controller_port#g" -e "s#@LOG_DIR@#$logdir#g" \
    "$here/server.properties" >"$config"
  scram_args=()
  if [[ -n "${KAFKA_SASL_SSL_PORT:-}" ]]; then
    ssl_dir="${KAFKA_SSL_DIR:-$data/ssl}"
    make_certificates "$ssl_dir"
    ssl_dir="$(cd "$ssl_dir" && pwd)"
    plain_users=""
    while read -r name pw; do
      [[ -z "$name" ]] && continue
      scram_args+=(--add-scram "SCRAM-SHA-256=[name=$name,password=$pw]" --add-scram "SCRAM-SHA-512=[name=$name,password=$pw]")
      plain_users+=" user_$name=\"$pw\""
    done < <(sasl_users)
    ks_pw="$(cat "$ssl_dir/keystore.password")"
    # Later keys override earlier ones in a properties file: these replace the template's listener lines.
    cat >>"$config" <<PROPS

# SASL_SSL listener (KAFKA_SASL_SSL_PORT), added by start.sh
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port,SASL_SSL://127.0.0.1:$KAFKA_SASL_SSL_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port,SASL_SSL://127.0.0.1:$KAFKA_SASL_SSL_PORT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required$plain_users;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.ssl.keystore.type=PKCS12
listener.name.sasl_ssl.ssl.keystore.location=$ssl_dir/server.p12
listener.name.sasl_ssl.ssl.keystore.password=$ks_pw
listener.name.sasl_ssl.ssl.key.password=$ks_pw
listener.name.sasl_ssl.ssl.truststore.type=PEM
listener.name.sasl_ssl.ssl.truststore.location=$ssl_dir/ca.pem
listener.name.sasl_ssl.ssl.client.auth=${KAFKA_SSL_CLIENT_AUTH:-required}
PROPS
    chmod 600 "$config"
  fi

  # Format the log directory once: an unformatted directory fails with "No readable meta.properties".
  if [[ ! -f "$logdir/meta.properties" ]]; then
    cluster_id="$(java -cp "$cp_arg" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
    log "formatting $logdir (cluster $cluster_id)"
    java -Dlog4j2.configurationFile="$here/log4j2.properties" -cp "$cp_arg" kafka.tools.StorageTool \
      format --standalone -t "$cluster_id" -c "$config" "${scram_args[@]}" >>"$data/broker.log" 2>&1 || {
      log "format failed; see $data/broker.log"
      tail -n 20 "$data/broker.log" >&2
      exit 1
    }
  fi

  log "starting broker on $brokers${KAFKA_SASL_SSL_PORT:+ and SASL_SSL 127.0.0.1:$KAFKA_SASL_SSL_PORT} (data $data)"
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
