#!/usr/bin/env bash
# Installs what spikenas runs and tests against, idempotently (fast when everything is there):
# the native TensorFlow binding for tfjs-node (scripts/tensorflow.sh), Fashion-MNIST from Debian's
# dataset-fashion-mnist, the pinned Temporal CLI dev server, and the S3-compatible test server (moto, in
# a project-local venv).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] && [ -z "${SPIKENAS_DATA_DIR:-}" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian's dataset-fashion-mnist" >&2
    (apt-get install -y -qq dataset-fashion-mnist || { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; }) >/dev/null
  else
    echo "setup: Fashion-MNIST is missing: run 'sudo apt-get install dataset-fashion-mnist' or set SPIKENAS_DATA_DIR" >&2
  fi
fi

bash "$root/scripts/tensorflow.sh" install cpu
bash "$root/scripts/temporal.sh" install
bash "$root/scripts/s3-server.sh" install
