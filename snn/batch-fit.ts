/**
 * wasm's heap ends at 4 GiB, and a pass that outgrows it aborts the whole process (`RuntimeError:
 * Aborted()`, which no catch survives). Before a scoring or training pass on wasm this checks that the
 * batch fits, and refuses one that does not with an error naming the limit and the largest batch that fits.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../common/errors.js';
import type { SpikingNetwork } from './network.js';

/** wasm32's address space; the tensors get most, not all, of it (code, stacks, XNNPACK's buffers). */
const WASM_HEAP_BYTES = 4 * 2 ** 30;
const USABLE_FRACTION = 0.75;

export type PassKind = 'score' | 'train';

/**
 * Bytes a pass needs at `batch`, bounded from above from the network's size alone (a measuring probe
 * could itself outgrow the heap): the weights and their training copies, plus per sample a number of
 * float maps the size of all LIF neurons. Measured with SNASNet's CIFAR-10 network: scoring held about 4
 * such maps per sample (the bound takes 8). Plain BPTT held about 20 per timestep and about 10 copies of
 * the weights; networks that large recompute each timestep in the backward pass instead, which keeps the
 * carried state of every timestep plus one timestep's tape (the bound takes 16 maps per timestep and
 * 8 + T copies of the weights).
 */
function boundBytes(net: SpikingNetwork, kind: PassKind, batch: number): number {
  const t = net.config.timesteps;
  const weights = net.countParams() * 4;
  const neuronMap = net.countNeurons() * 4;
  return kind === 'score'
    ? 2 * weights + batch * 8 * neuronMap
    : (8 + t) * weights + batch * 16 * t * neuronMap;
}

/** The largest batch whose pass stays within wasm's usable heap (0 when none does). */
export function largestWasmBatch(net: SpikingNetwork, kind: PassKind): number {
  const usable = WASM_HEAP_BYTES * USABLE_FRACTION;
  const fixed = boundBytes(net, kind, 0);
  const perSample = boundBytes(net, kind, 1) - fixed;
  return Math.max(0, Math.floor((usable - fixed) / perSample));
}

/** Throws an InputError for `field` when `batch` cannot run on the active backend; a no-op off wasm. */
export function assertBatchFits(net: SpikingNetwork, kind: PassKind, batch: number, field: string): void {
  if (tf.getBackend() !== 'wasm') return;
  const largest = largestWasmBatch(net, kind);
  if (batch <= largest) return;
  const what = kind === 'score' ? 'a SAHD scoring pass' : 'a training step';
  throw new InputError(
    field,
    largest === 0
      ? `no batch fits ${what} of this network on the wasm backend, whose heap ends at 4 GiB`
      : `${batch} does not fit ${what} on the wasm backend, whose heap ends at 4 GiB (${largest} is the largest batch that fits this network)`,
    `${largest === 0 ? 'no batch' : `1..${largest}`} on wasm, or the tensorflow backend (SPIKENAS_BACKEND=tensorflow)`,
  );
}
