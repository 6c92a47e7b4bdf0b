#!/usr/bin/env bash
# Installs what spikenas runs and tests against, idempotently (fast when everything is there):
# the native TensorFlow binding for tfjs-node (scripts/tensorflow.sh), Fashion-MNIST from Debian's
# dataset-fashion-mnist, the pinned Temporal CLI dev server, and the S3-compatible test server (moto, in
# a project-local venv).
#
# The four installs need nothing from each other, and a cold one is mostly waiting on the network and on
# one compiler at a time, so they run side by side. Each logs to .spikenas/logs/setup-<name>.log; their
# own one-line messages still reach the terminal. Set-up waits for all of them and fails naming each
# install that failed, with the end of its log. (tensorflow.sh exits 0 when the native backend cannot be
# built, so that spikenas falls back to wasm, unless SPIKENAS_TF_STRICT=1.)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
logs="${SPIKENAS_STATE_DIR:-$root/.spikenas}/logs"
mkdir -p "$logs"

dataset() {
  if [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || [ -n "${SPIKENAS_DATA_DIR:-}" ]; then
    return 0
  fi
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian's dataset-fashion-mnist" >&2
    apt-get install -y -qq dataset-fashion-mnist || { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; }
  else
    echo "setup: Fashion-MNIST is missing: run 'sudo apt-get install dataset-fashion-mnist' or set SPIKENAS_DATA_DIR" >&2
  fi
}

names=()
pids=()
# Runs one install in the background: all its output to its log, its own messages (lines that start with
# the script's name) to stderr as well.
start() {
  local name="$1"
  shift
  (
    set -o pipefail
    "$@" 2>&1 | tee "$logs/setup-$name.log" | { grep --line-buffered -E '^(setup|tensorflow\.sh|temporal\.sh|s3-server):' >&2 || true; }
  ) &
  names+=("$name")
  pids+=("$!")
}

start dataset dataset
start tensorflow bash "$root/scripts/tensorflow.sh" install cpu
start temporal bash "$root/scripts/temporal.sh" install
start s3-server bash "$root/scripts/s3-server.sh" install

failed=0
for i in "${!pids[@]}"; do
  status=0
  wait "${pids[$i]}" || status=$?
  if [ "$status" != 0 ]; then
    failed=1
    log="$logs/setup-${names[$i]}.log"
    echo "setup: ${names[$i]} failed (exit $status); the end of $log:" >&2
    tail -n 20 "$log" | sed 's/^/  /' >&2
  fi
done
exit "$failed"
