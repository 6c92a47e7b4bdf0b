#!/usr/bin/env bash
# A local S3-compatible server for tests and benchmarks: moto's server (Apache-2.0) in a project-local venv.
#   scripts/s3-server.sh install          create .spikenas/venv with moto[server] (idempotent)
#   scripts/s3-server.sh start [PORT]     start on 127.0.0.1 (free port unless given), wait until it answers,
#                                         write the endpoint to .spikenas/s3-server.endpoint (idempotent)
#   scripts/s3-server.sh stop             stop the server started by `start` (idempotent)
#   scripts/s3-server.sh endpoint         print the running server's endpoint
set -euo pipefail

MOTO_VERSION=5.2.5
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${SPIKENAS_STATE_DIR:-$ROOT/.spikenas}"
VENV="$STATE/venv"
PID_FILE="$STATE/s3-server.pid"
ENDPOINT_FILE="$STATE/s3-server.endpoint"
LOG_FILE="$STATE/s3-server.log"
LOCK_FILE="$STATE/s3-server.lock"

mkdir -p "$STATE"

installed() {
  [ -x "$VENV/bin/moto_server" ] &&
    [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null)" = "$MOTO_VERSION" ]
}

install() {
  if installed; then return 0; fi
  local python="${PYTHON:-python3}"
  "$python" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  installed || { echo "s3-server: moto $MOTO_VERSION did not install into $VENV" >&2; return 1; }
}

running() {
  [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null
}

answers() {
  # Any HTTP answer (moto lists buckets on GET /) means the server is up.
  curl --silent --output /dev/null --max-time 2 "$1/" 2>/dev/null
}

free_port() {
  "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  install
  if running && [ -f "$ENDPOINT_FILE" ] && answers "$(cat "$ENDPOINT_FILE")"; then
    cat "$ENDPOINT_FILE"
    return 0
  fi
  local port="${1:-$(free_port)}"
  local endpoint="http://127.0.0.1:$port"
  # setsid: the server outlives the shell that started it (test setup, CI) until `stop`;
  # 9>&-: it must not inherit the lock, or the next caller would wait for the server to exit.
  setsid "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$LOG_FILE" 2>&1 </dev/null 9>&- &
  echo $! >"$PID_FILE"
  for _ in $(seq 1 150); do
    if answers "$endpoint"; then
      echo "$endpoint" >"$ENDPOINT_FILE"
      echo "$endpoint"
      return 0
    fi
    if ! running; then break; fi
    sleep 0.2
  done
  echo "s3-server: moto did not answer on $endpoint; log: $LOG_FILE" >&2
  tail -n 20 "$LOG_FILE" >&2 || true
  stop
  return 1
}

stop() {
  if running; then
    local pid
    pid="$(cat "$PID_FILE")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE" "$ENDPOINT_FILE"
}

# One caller at a time: parallel test files may all ask to start the server at once.
exec 9>"$LOCK_FILE"
flock 9

case "${1:-}" in
  install) install ;;
  start) start "${2:-}" ;;
  stop) stop ;;
  endpoint) running && cat "$ENDPOINT_FILE" ;;
  *)
    echo "usage: $0 install|start [PORT]|stop|endpoint" >&2
    exit 2
    ;;
esac
