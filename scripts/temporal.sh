#!/usr/bin/env bash
# Installs (pinned) and runs the official Temporal CLI dev server for local runs and tests.
# The binary is built from the Go module proxy: the PyPI wrapper's wheels carry no Linux binary
# and its sdist downloads one at build time, which this network does not allow.
#   scripts/temporal.sh install         -> .spikenas/bin/temporal
#   scripts/temporal.sh start [PORT]    -> dev server on 127.0.0.1:PORT (default 7233), SQLite in .spikenas/temporal/
#   scripts/temporal.sh stop [PORT]     -> stops that server and waits until it has exited
set -euo pipefail

TEMPORAL_CLI_VERSION="v1.5.1"
root="$(cd "$(dirname "$0")/.." && pwd)"
state="${SPIKENAS_STATE_DIR:-$root/.spikenas}"
bin="$state/bin/temporal"
port="${2:-7233}"
ui_port=$((port + 1000))

install() {
  # go install leaves the binary's own version at 0.0.0-DEV, so a stamp file records what was built.
  if [ -x "$bin" ] && [ "$(cat "$bin.version" 2>/dev/null)" = "$TEMPORAL_CLI_VERSION" ]; then return 0; fi
  command -v go >/dev/null || { echo "temporal.sh: Go is needed to build the Temporal CLI ($TEMPORAL_CLI_VERSION)" >&2; exit 1; }
  mkdir -p "$state/bin"
  echo "temporal.sh: building Temporal CLI $TEMPORAL_CLI_VERSION from the Go module proxy (first time only)" >&2
  GOBIN="$state/bin" GOFLAGS=-mod=mod CGO_ENABLED=0 go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
  echo "$TEMPORAL_CLI_VERSION" >"$bin.version"
  "$bin" --version >&2
}

answers() {
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

start() {
  install
  if answers; then echo "temporal.sh: a server already answers on 127.0.0.1:$port" >&2; return 0; fi
  mkdir -p "$state/temporal"
  # setsid: the server outlives the shell that started it (test setup, CI) until `stop`.
  setsid "$bin" server start-dev --ip 127.0.0.1 --port "$port" --ui-port "$ui_port" \
    --db-filename "$state/temporal/dev-$port.db" --log-level warn \
    >"$state/temporal/server-$port.log" 2>&1 </dev/null &
  echo $! >"$state/temporal/server-$port.pid"
  for _ in $(seq 1 120); do
    if answers; then echo "temporal.sh: dev server on 127.0.0.1:$port, Web UI http://127.0.0.1:$ui_port" >&2; return 0; fi
    sleep 0.5
  done
  echo "temporal.sh: the dev server did not answer on port $port within 60 s; log: $state/temporal/server-$port.log" >&2
  exit 1
}

stop() {
  local pidfile="$state/temporal/server-$port.pid"
  if [ -f "$pidfile" ]; then
    local pid
    pid="$(cat "$pidfile")"
    kill "$pid" 2>/dev/null || true
    # Stopped means gone: wait for it to exit (it flushes its SQLite file), then insist.
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: scripts/temporal.sh install|start [PORT]|stop [PORT]" >&2; exit 2 ;;
esac
