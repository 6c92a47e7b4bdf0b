import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../common/errors.js';
import { registerConvGradKernels } from './kernels/conv-grad.js';
import { registerAllGradients } from './kernels/gradients.js';

/** Which tfjs backend runs the SNNs; recorded in artifacts so results can be compared fairly. */
export interface BackendInfo {
  /** tfjs backend name: 'tensorflow' (tfjs-node or tfjs-node-gpu), 'wasm' or 'cpu'. */
  name: string;
  /** npm package that provides it. */
  package: string;
  version: string;
  /** Version of the TensorFlow C library under the tensorflow backend; null for wasm and cpu. */
  tfVersion: string | null;
  /** Threads one op computes with (1 = single-threaded). */
  threads: number;
  /**
   * Whether TensorFlow runs its CPU convolutions and matrix products through oneDNN (TF_ENABLE_ONEDNN_OPTS);
   * null where TensorFlow decides by itself (off x86-64) or there is no TensorFlow (wasm, cpu).
   */
  oneDnn: boolean | null;
}

export const BACKEND_CHOICES = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

const require = createRequire(import.meta.url);

// TensorFlow's C++ logging goes to stderr when the library loads (oneDNN and CPU-feature notes): warnings
// and up only. Set when this module loads, which the main thread does before it starts worker threads: a
// worker's process.env is a copy, which TensorFlow's getenv never reads.
process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
// TensorFlow 2.16 turns oneDNN on by itself only on x86 CPUs with AVX-512 VNNI, AVX-VNNI or AMX. On an AVX2
// CPU it cuts a small network's time-batched training step by a sixth to a quarter (2 threads, batch 32,
// forward cell, medians of 3 alternating runs: fmnist-small 216 -> 180 ms, fmnist-tiny 102 -> 75 ms) and
// SAHD scoring by about a fifth, so it is on for every x86-64 CPU unless the environment says otherwise.
if (process.arch === 'x64') process.env.TF_ENABLE_ONEDNN_OPTS ??= '1';
let chosen: Promise<BackendInfo> | undefined;
let info: BackendInfo | undefined;

/**
 * Picks the fastest backend that loads, once per process: tfjs-node-gpu, tfjs-node (optional native
 * packages), then wasm, then cpu. SPIKENAS_BACKEND=wasm|cpu|tensorflow forces one. Idempotent.
 */
export function initBackend(): Promise<BackendInfo> {
  chosen ??= (async () => {
    // Production mode skips per-op debug checks and the cpu backend's hint to install tfjs-node.
    tf.enableProdMode();
    await registerAllGradients();
    return selectBackend();
  })().then((selected) => {
    info = selected;
    process.stderr.write(`spikenas: tfjs backend ${describeBackend(selected)}\n`);
    return selected;
  });
  return chosen;
}

/** One line for logs and reports: name, package, version, TensorFlow version, threads. */
export function describeBackend(info: BackendInfo): string {
  const threads = info.threads === 1 ? '1 thread' : `${info.threads} threads`;
  const library = info.tfVersion === null ? '' : `, TensorFlow ${info.tfVersion}`;
  const oneDnn = info.oneDnn === null ? '' : info.oneDnn ? ', oneDNN' : ', without oneDNN';
  return `${info.name} (${info.package} ${info.version}${library}${oneDnn}, ${threads})`;
}

/**
 * Whether a built tfjs-node(-gpu) binding is on disk, without loading it: a process that runs heavy
 * work in threads sizes its pool by this (TensorFlow already uses every core from one thread).
 */
export function nativeBindingBuilt(): boolean {
  return ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].some((pkg) => {
    try {
      const lib = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'lib');
      return readdirSync(lib).some((dir) => existsSync(path.join(lib, dir, 'tfjs_binding.node')));
    } catch {
      return false;
    }
  });
}

/** The backend initBackend chose; throws before initBackend has finished. */
export function backendInfo(): BackendInfo {
  if (info === undefined) throw new Error('backendInfo: call and await initBackend() first');
  return info;
}

async function selectBackend(): Promise<BackendInfo> {
  const forced = process.env.SPIKENAS_BACKEND;
  if (forced !== undefined && forced !== '') {
    if (!(BACKEND_CHOICES as readonly string[]).includes(forced)) {
      throw new InputError('SPIKENAS_BACKEND', `'${forced}' is not a backend`, BACKEND_CHOICES.join(', '));
    }
    return activateBackend(forced as BackendChoice);
  }
  for (const choice of BACKEND_CHOICES) {
    const result = await tryBackend(choice);
    if (result !== undefined) return result;
  }
  throw new Error('no tfjs backend could be loaded');
}

/**
 * Makes `choice` the active backend (loading it first if needed) and returns what it is; throws if it
 * cannot load. After initBackend, this is how one process compares backends (the numerics suite).
 */
export async function activateBackend(choice: BackendChoice): Promise<BackendInfo> {
  const result = await tryBackend(choice);
  if (result === undefined) {
    const hint = choice === 'tensorflow' ? ' (scripts/tensorflow.sh install builds it)' : '';
    throw new Error(`SPIKENAS_BACKEND=${choice}: that backend failed to load${hint}`);
  }
  info = result;
  return result;
}

async function tryBackend(choice: BackendChoice): Promise<BackendInfo | undefined> {
  switch (choice) {
    case 'tensorflow':
      return (await tryNative('@tensorflow/tfjs-node-gpu')) ?? (await tryNative('@tensorflow/tfjs-node'));
    case 'wasm':
      return tryWasm();
    case 'cpu':
      return tryCpu();
  }
}

/**
 * tfjs-node(-gpu) are optional dependencies whose binding scripts/tensorflow.sh builds: absent or
 * unbuilt on some machines, and then this returns undefined.
 */
async function tryNative(pkg: string): Promise<BackendInfo | undefined> {
  try {
    const specifier = pkg; // a variable, so TypeScript does not require the optional package's types
    await import(specifier);
    if (!(await tf.setBackend('tensorflow'))) return undefined;
    await tf.ready();
    const binding = (tf.backend() as unknown as { binding: { TF_Version: string } }).binding;
    return {
      name: 'tensorflow',
      package: pkg,
      version: packageVersion(pkg),
      tfVersion: binding.TF_Version,
      threads: intraOpThreads(),
      oneDnn: oneDnnSetting(),
    };
  } catch {
    return undefined;
  }
}

/** TensorFlow sizes its intra-op pool from TF_NUM_INTRAOP_THREADS, else one thread per core. */
function intraOpThreads(): number {
  const configured = Number(process.env.TF_NUM_INTRAOP_THREADS);
  return Number.isInteger(configured) && configured > 0 ? configured : availableParallelism();
}

/** TF_ENABLE_ONEDNN_OPTS as TensorFlow reads it (a boolean, '1'/'0' or 'true'/'false'); unset: null. */
function oneDnnSetting(): boolean | null {
  const value = process.env.TF_ENABLE_ONEDNN_OPTS?.trim().toLowerCase();
  if (value === undefined || value === '') return null;
  return value === '1' || value === 'true';
}

async function tryWasm(): Promise<BackendInfo | undefined> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // Node has no page to fetch the .wasm files relative to: point tfjs at the package's dist folder.
    const dist = path.join(
      path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')),
      'dist',
    );
    wasm.setWasmPaths(`${dist}${path.sep}`);
    // Threads stay as tfjs detects them: in Node 20 the threaded build would start its workers from
    // blob: URLs, which node:worker_threads rejects, so tfjs reports no multithread support and we keep that.
    if (!(await tf.setBackend('wasm'))) return undefined;
    await tf.ready();
    registerConvGradKernels('wasm');
    return {
      name: 'wasm',
      package: '@tensorflow/tfjs-backend-wasm',
      version: wasm.version_wasm,
      tfVersion: null,
      threads: wasm.getThreadsCount(),
      oneDnn: null,
    };
  } catch {
    return undefined;
  }
}

async function tryCpu(): Promise<BackendInfo | undefined> {
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend('cpu'))) return undefined;
  await tf.ready();
  return {
    name: 'cpu',
    package: '@tensorflow/tfjs-backend-cpu',
    version: packageVersion('@tensorflow/tfjs-backend-cpu'),
    tfVersion: null,
    threads: 1,
    oneDnn: null,
  };
}

function packageVersion(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
