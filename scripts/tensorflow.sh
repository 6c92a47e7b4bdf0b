#!/usr/bin/env bash
# The native TensorFlow runtime for tfjs-node (CPU) and tfjs-node-gpu (CUDA): the one recipe that set-up
# and both worker images call.
#
# tfjs-node's own install downloads libtensorflow and a prebuilt addon from Google's storage. Where that
# works it is used as it is. Where it cannot (a network with only npm and PyPI mirrors, as here), this
# fetches the same C library from PyPI by package name and version (the tensorflow-cpu / tensorflow
# wheel ships libtensorflow_cc.so.2, libtensorflow_framework.so.2 and the C API headers; the GPU build's
# CUDA and cuDNN come from the nvidia-*-cu12 wheels its `and-cuda` extra pins), keeps it under
# .spikenas/tensorflow/, and builds the addon from source against it. Built addons are kept beside the
# library, so a later `npm ci` links them again in seconds.
#
#   scripts/tensorflow.sh install [cpu|gpu]   library + addon for node_modules/@tensorflow/tfjs-node(-gpu)
#   scripts/tensorflow.sh check [cpu|gpu]     exits 0 when the binding loads
#
# Idempotent; logs to .spikenas/logs/tensorflow-<flavour>.log. A failed install says why and exits 0 with
# a warning from `install`, so the wasm fallback still runs (SPIKENAS_TF_STRICT=1 makes it exit 1).
set -euo pipefail

TF_VERSION="2.16.2"
TFJS_NODE_VERSION="4.22.0"
# tensorflow==2.16.2 [and-cuda] pins: CUDA 12.3, cuDNN 8.9.
CUDA_WHEELS=(
  nvidia-cublas-cu12==12.3.4.1 nvidia-cuda-cupti-cu12==12.3.101 nvidia-cuda-nvcc-cu12==12.3.107
  nvidia-cuda-nvrtc-cu12==12.3.107 nvidia-cuda-runtime-cu12==12.3.101 nvidia-cudnn-cu12==8.9.7.29
  nvidia-cufft-cu12==11.0.12.1 nvidia-curand-cu12==10.3.4.107 nvidia-cusolver-cu12==11.5.4.101
  nvidia-cusparse-cu12==12.2.0.103 nvidia-nccl-cu12==2.19.3 nvidia-nvjitlink-cu12==12.3.101
)
# The library does not link Python, so one wheel tag serves every machine of this architecture.
# manylinux2014 also admits manylinux2010/manylinux1 (pip expands only the legacy names): the CUDA 12.3
# wheels above are tagged manylinux1 only.
WHEEL_TAGS=(--python-version 3.11 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64
  --only-binary=:all: --no-deps)

root="$(cd "$(dirname "$0")/.." && pwd)"
state="${SPIKENAS_STATE_DIR:-$root/.spikenas}"
command="${1:-}"
flavour="${2:-cpu}"
case "$flavour" in
  cpu) package="@tensorflow/tfjs-node"; wheel="tensorflow-cpu" ;;
  gpu) package="@tensorflow/tfjs-node-gpu"; wheel="tensorflow" ;;
  *) echo "tensorflow.sh: flavour '$flavour' is not one of: cpu, gpu" >&2; exit 2 ;;
esac
library="$state/tensorflow/$flavour-$TF_VERSION"
package_dir="$root/node_modules/$package"
log="$state/logs/tensorflow-$flavour.log"

say() { echo "tensorflow.sh: $*" | tee -a "$log" >&2; }

# Prints the command's output to the log only; returns its status.
logged() { "$@" >>"$log" 2>&1; }

binding_loads() {
  (cd "$root" && TF_CPP_MIN_LOG_LEVEL=3 node -e "require('$package')" >>"$log" 2>&1)
}

# The C library and headers from PyPI into $1 (tensorflow/libtensorflow*.so.2, include/, nvidia/ for gpu).
fetch() {
  local dest="$1" wheels="$1.wheels"
  if [ -f "$dest/.complete" ]; then return 0; fi
  command -v python3 >/dev/null || { say "python3 with pip is needed to fetch $wheel==$TF_VERSION"; return 1; }
  rm -rf "$wheels" && mkdir -p "$wheels"
  local requirements=("$wheel==$TF_VERSION")
  [ "$flavour" = gpu ] && requirements+=("${CUDA_WHEELS[@]}")
  say "fetching ${requirements[*]} with pip (first time only)"
  logged python3 -m pip download --disable-pip-version-check -q "${WHEEL_TAGS[@]}" -d "$wheels" \
    "${requirements[@]}" || { say "pip could not download ${requirements[*]}: see $log"; return 1; }
  rm -rf "$dest.partial" && mkdir -p "$dest.partial"
  # Only what the addon links and includes: the two libraries, the C API headers, and (gpu) nvidia/*/lib.
  logged python3 - "$dest.partial" "$wheels"/*.whl <<'PY' || { say "unpacking the wheels failed: see $log"; return 1; }
import os, sys, zipfile
dest, wheels = sys.argv[1], sys.argv[2:]
headers = ('tensorflow/include/tensorflow/c/', 'tensorflow/include/tensorflow/core/platform/',
           'tensorflow/include/tsl/c/', 'tensorflow/include/tsl/platform/')
for path in wheels:
    with zipfile.ZipFile(path) as wheel:
        for name in wheel.namelist():
            if name.endswith('/'):
                continue
            if name.startswith('tensorflow/libtensorflow') and '.so' in name:
                target = name
            elif name.startswith(headers):
                target = name[len('tensorflow/'):]
            elif name.startswith('nvidia/') and '/lib/' in name:
                target = name
            else:
                continue
            out = os.path.join(dest, target)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with wheel.open(name) as src, open(out, 'wb') as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
            os.chmod(out, 0o755 if '.so' in name else 0o644)
PY
  # The wheel's RUNPATH finds CUDA at $ORIGIN/../nvidia/<lib>/lib: the layout above keeps that true.
  rm -rf "$wheels"
  echo "$wheel==$TF_VERSION" >"$dest.partial/.complete"
  rm -rf "$dest" && mv "$dest.partial" "$dest"
  say "library in $dest ($(du -sh "$dest" | cut -f1))"
}

# deps/ of the npm package points at the library: -ltensorflow resolves to libtensorflow_cc.so.2.
link_deps() {
  rm -rf "$package_dir/deps" && mkdir -p "$package_dir/deps/lib" "$package_dir/deps/include"
  local lib
  for lib in libtensorflow_cc.so.2 libtensorflow_framework.so.2; do
    ln -s "$library/tensorflow/$lib" "$package_dir/deps/lib/$lib"
  done
  ln -s libtensorflow_cc.so.2 "$package_dir/deps/lib/libtensorflow.so"
  ln -s libtensorflow_framework.so.2 "$package_dir/deps/lib/libtensorflow_framework.so"
  ln -s "$library/include/tensorflow" "$package_dir/deps/include/tensorflow"
  ln -s "$library/include/tsl" "$package_dir/deps/include/tsl"
  # The loader takes $ORIGIN from the path it opened (deps/lib/, the symlink), not the symlink's target:
  # deps/nvidia makes the wheel's RUNPATH $ORIGIN/../nvidia/<lib>/lib resolve from there too.
  if [ "$flavour" = gpu ]; then ln -s "$library/nvidia" "$package_dir/deps/nvidia"; fi
}

napi_dir() {
  (cd "$package_dir" && node -p "require('./package.json').binary.module_path.replace('{napi_build_version}', Math.min(8, Number(process.versions.napi)))")
}

build_addon() {
  local node_dir node_gyp pre_gyp cached module
  module="$(napi_dir)"
  cached="$library/addon/tfjs-node-$TFJS_NODE_VERSION-${module##*/}/tfjs_binding.node"
  if [ -f "$cached" ]; then
    mkdir -p "$package_dir/$module" && cp "$cached" "$package_dir/$module/tfjs_binding.node"
    binding_loads && { say "linked the built addon from $cached"; return 0; }
  fi
  # node-gyp builds against the local Node headers (it would download them otherwise).
  node_dir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  [ -f "$node_dir/include/node/node_api.h" ] || { say "no Node headers in $node_dir/include/node"; return 1; }
  node_gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  [ -f "$node_gyp" ] || { say "npm's node-gyp is not at $node_gyp"; return 1; }
  pre_gyp="$(cd "$package_dir" && node -p "require.resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp')")"
  say "building the $package addon from source against TensorFlow $TF_VERSION"
  (cd "$package_dir" && npm_config_nodedir="$node_dir" npm_config_node_gyp="$node_gyp" JOBS="$(nproc)" \
    logged node "$pre_gyp" rebuild --build-from-source) || { say "the addon build failed: see $log"; return 1; }
  mkdir -p "$(dirname "$cached")" && cp "$package_dir/$module/tfjs_binding.node" "$cached"
}

# spikenas' native ops (snn/kernels/native-ops.c) beside the CPU addon, where snn/kernels/native-ops.ts
# loads it. Without it the LIF layers run as composite ops.
build_native_ops() {
  local source="$root/snn/kernels/native-ops.c" out="$package_dir/lib/spikenas-ops.node"
  # Rebuilt when the source or the flags below change.
  [ -f "$out" ] && [ "$out" -nt "$source" ] && [ "$out" -nt "${BASH_SOURCE[0]}" ] && return 0
  command -v cc >/dev/null || { say "no C compiler: LIF layers and time-batched BatchNorm run as composite ops"; return 0; }
  # -ffp-contract=off: no fused multiply-adds, so the op rounds exactly as the composite ops do.
  # -z nodelete: Node unloads a worker thread's addons when the thread ends, but TensorFlow's op registry
  # keeps this library's kernel functions for the life of the process, so the library must stay mapped.
  # -mpopcnt: the spike Gram matrix counts bits with the CPU's own instruction (every x86-64 CPU since 2008).
  local arch_flags=()
  [ "$(uname -m)" = x86_64 ] && arch_flags=(-mpopcnt)
  if logged cc -O3 -std=c11 -ffp-contract=off "${arch_flags[@]}" -fPIC -shared -I"$package_dir/deps/include" "$source" \
    -o "$out.partial" -L"$package_dir/deps/lib" -ltensorflow -ltensorflow_framework -lm \
    -Wl,-rpath,'$ORIGIN/../deps/lib' -Wl,-z,nodelete; then
    mv "$out.partial" "$out" && say "built spikenas' native ops into $out"
  else
    say "spikenas' native ops did not build (see $log): LIF layers and time-batched BatchNorm run as composite ops"
  fi
}

# tfjs-node's own installer: the official library and prebuilt addon, where Google's storage answers.
own_install() {
  say "trying $package's own install (downloads libtensorflow)"
  (cd "$package_dir" && logged timeout 600 node scripts/install.js "$flavour") && binding_loads
}

install() {
  [ -d "$package_dir" ] || { say "$package is not in node_modules (run npm ci first)"; return 1; }
  if binding_loads; then return 0; fi
  # CPU only: tfjs-node-gpu's own download is TF 2.9.1 for CUDA 11.2 / cuDNN 8.1, which nothing here
  # provides (it would load, then run on the CPU). The GPU flavour always takes the pinned library.
  if [ "$flavour" = cpu ] && [ ! -f "$library/.complete" ] && own_install; then say "$package installed by its own script"; return 0; fi
  fetch "$library" && link_deps && build_addon && binding_loads || return 1
  say "$package runs on TensorFlow $TF_VERSION from $library"
}

mkdir -p "$(dirname "$log")"
case "$command" in
  install)
    echo "== $(date -u +%FT%TZ) install $flavour" >>"$log"
    if ! install; then
      say "the native $flavour backend is not available; spikenas falls back to wasm. Details: $log"
      [ "${SPIKENAS_TF_STRICT:-0}" = 1 ] && exit 1
    elif [ "$flavour" = cpu ]; then
      build_native_ops
    fi
    ;;
  check) binding_loads ;;
  *) echo "usage: scripts/tensorflow.sh install|check [cpu|gpu]" >&2; exit 2 ;;
esac
