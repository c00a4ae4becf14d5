#!/usr/bin/env bash
# Stops the broker that start.sh started (same KAFKA_PORT / KAFKA_DATA_DIR): SIGTERM for a clean
# shutdown (the broker flushes and closes its logs), then SIGKILL if it has not exited in time.
#   KAFKA_STOP_TIMEOUT_S  how long to wait after SIGTERM (default 30)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
port="${KAFKA_PORT:-9092}"
data="${KAFKA_DATA_DIR:-$root/.kafka/$port}"
pidfile="$data/broker.pid"
timeout_s="${KAFKA_STOP_TIMEOUT_S:-30}"

log() { echo "kafka: $*" >&2; }
is_our_broker() { [[ -r "/proc/$1/cmdline" ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q 'kafka\.Kafka'; }

if [[ ! -f "$pidfile" ]]; then log "no broker running (no $pidfile)"; exit 0; fi
pid="$(cat "$pidfile")"
if ! is_our_broker "$pid"; then log "broker pid $pid is gone"; rm -f "$pidfile"; exit 0; fi

kill -TERM "$pid"
deadline=$((SECONDS + timeout_s))
while is_our_broker "$pid"; do
  if ((SECONDS >= deadline)); then
    log "broker pid $pid ignored SIGTERM for ${timeout_s}s; killing"
    kill -KILL "$pid" 2>/dev/null || true
    break
  fi
  sleep 0.2
done
# A zombie still has /proc/<pid>; wait until it is reaped or really gone.
for _ in $(seq 1 50); do is_our_broker "$pid" || break; sleep 0.1; done
rm -f "$pidfile"
log "stopped (pid $pid)"
