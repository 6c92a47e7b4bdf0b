/**
 * wasm's 4 GiB heap: a batch that cannot fit is refused with the limit and the largest batch that fits,
 * before the pass starts (an outgrown heap aborts the process), and the largest batch it names runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../common/errors.js';
import { scoreSahd } from '../search/predictors/sahd.js';
import { parseArch } from '../search/space/arch.js';
import { activateBackend, type BackendChoice, initBackend } from '../snn/backend.js';
import { assertBatchFits, largestWasmBatch } from '../snn/batch-fit.js';
import type { NetConfig } from '../snn/config.js';
import { buildNetwork } from '../snn/network.js';
import { resolvePreset } from '../snn/presets.js';
import { trainNetwork } from '../snn/train.js';

const ARCH = parseArch('0303 0030 2002 0200');
const CIFAR10 = resolvePreset('snasnet-cifar10');
// SNASNet's CIFAR backbone at a quarter of the width and T = 2: its largest wasm batch runs in seconds.
const NARROW: NetConfig = { ...CIFAR10, stemChannels: 32, classifierHidden: 64, timesteps: 2 };
let original: BackendChoice;

beforeAll(async () => {
  original = (await initBackend()).name as BackendChoice;
});

afterAll(async () => {
  await activateBackend(original);
});

function refusal(error: unknown, largest: number): void {
  expect(error).toBeInstanceOf(InputError);
  expect((error as InputError).field).toBe('batchSize');
  expect((error as Error).message).toContain('4 GiB');
  expect((error as Error).message).toContain(`${largest} is the largest batch`);
}

describe('batches that do not fit wasm', () => {
  it("refuses SAHD's batch 256 on SNASNet's CIFAR-10 network, naming the limit and the largest batch", async () => {
    await activateBackend('wasm');
    const net = buildNetwork(ARCH, CIFAR10, 1);
    const largest = largestWasmBatch(net, 'score');
    net.dispose();
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThan(256);
    const images = new Float32Array(256 * 32 * 32 * 3);
    refusal(await scoreSahd(ARCH, CIFAR10, [images], 256, 1).catch((e: unknown) => e), largest);
  });

  it('refuses a training batch before the first step, with the largest that fits', async () => {
    await activateBackend('wasm');
    const net = buildNetwork(ARCH, CIFAR10, 1);
    const largest = largestWasmBatch(net, 'train');
    net.dispose();
    expect(largest).toBeLessThan(64);
    const count = 64;
    const set = { images: new Float32Array(count * 32 * 32 * 3), labels: new Int32Array(count), count };
    const data = {
      name: 'zeros',
      inputShape: [32, 32, 3] as [number, number, number],
      numClasses: 10,
      natural: true,
      fingerprint: 'zeros',
      train: set,
      val: set,
      test: set,
    };
    const error = await trainNetwork(ARCH, CIFAR10, data, { epochs: 1, batchSize: 64 }, { seed: 1 }).catch(
      (e: unknown) => e,
    );
    refusal(error, largest);
  });

  it('the largest batch it names runs on wasm, and one more is refused', async () => {
    await activateBackend('wasm');
    const net = buildNetwork(ARCH, NARROW, 1);
    const largest = largestWasmBatch(net, 'score');
    net.dispose();
    expect(largest).toBeGreaterThan(8);
    const images = new Float32Array(largest * 32 * 32 * 3).map((_, i) => Math.sin(i));
    await expect(scoreSahd(ARCH, NARROW, [images], largest, 1)).resolves.toEqual(expect.any(Number));
    const more = new Float32Array((largest + 1) * 32 * 32 * 3);
    refusal(await scoreSahd(ARCH, NARROW, [more], largest + 1, 1).catch((e: unknown) => e), largest);
  });

  it('checks only on wasm: the same network and batch pass on the tensorflow backend', async () => {
    const net = buildNetwork(ARCH, CIFAR10, 1);
    await activateBackend('tensorflow');
    expect(() => assertBatchFits(net, 'score', 256, 'batchSize')).not.toThrow();
    await activateBackend('wasm');
    expect(() => assertBatchFits(net, 'score', 256, 'batchSize')).toThrow(/wasm backend/);
    net.dispose();
  });
});
