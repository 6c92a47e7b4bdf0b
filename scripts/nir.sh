#!/usr/bin/env bash
# Python environments that check NIR exports with real consumers of the format; never the product runtime.
#   scripts/nir.sh install          .spikenas/nir: PyPI's nir 1.0.8 (numpy, h5py), for nir.read in the tests
#   scripts/nir.sh install-verify   .spikenas/nir-verify: nir, torch, nirtorch and snntorch, for npm run verify:nir
# Idempotent: a venv whose packages import is left as it is. PyPI's torch wheel for Linux x86-64 is the CUDA
# build, and it does not import without the nvidia-* libraries it pins, so those come too (a few GB, once);
# it runs on the CPU.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
state="${SPIKENAS_STATE_DIR:-$root/.spikenas}"
python="${PYTHON:-python3}"

ensure() {
  local venv="$1" check="$2"
  shift 2
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$check" >/dev/null 2>&1; then return 0; fi
  mkdir -p "$state/logs"
  echo "nir: installing $* into $venv" >&2
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$@" >>"$state/logs/nir.log" 2>&1 || {
    echo "nir: pip install $* failed; see $state/logs/nir.log" >&2
    exit 1
  }
}

case "${1:-}" in
  install) ensure "$state/nir" 'import nir' 'nir==1.0.8' ;;
  install-verify)
    ensure "$state/nir-verify" 'import nir, torch, snntorch, nirtorch' \
      'nir==1.0.8' 'torch==2.15.0' 'nirtorch==2.6' 'snntorch==1.0.0'
    ;;
  *)
    echo "usage: scripts/nir.sh install|install-verify" >&2
    exit 2
    ;;
esac
