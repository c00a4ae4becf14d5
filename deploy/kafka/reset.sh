#!/usr/bin/env bash
# Stops the broker and deletes its data (topics, offsets, cluster id): the next start formats anew.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
port="${KAFKA_PORT:-9092}"
data="${KAFKA_DATA_DIR:-$root/.kafka/$port}"

bash "$here/stop.sh"
if [[ -d "$data" ]]; then
  rm -rf -- "$data"
  echo "kafka: removed $data" >&2
fi
