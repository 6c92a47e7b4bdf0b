/**
 * Deployment exports checked by their real consumers: models trained with `spikenas train` on Fashion-MNIST
 * images (the first 2,000 training and 300 test images, as IDX files), `spikenas predict` through the CLI,
 * the C export compiled by gcc and run on the test images, `size` of its object file against the memory
 * model, and the NIR export read by PyPI's nir (the cheap half of `npm run verify:nir`).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildExport, classifyWithC } from '../bench/c-build.js';
import { EXIT } from '../cli/exit-codes.js';
import { loadRawDataset } from '../datasets/index.js';
import { resolveRunLocation } from '../deploy/stored-model.js';
import { parseArch } from '../search/space/arch.js';
import { cellPlan, deployMemory } from '../search/space/deploy-memory.js';
import { resolvePreset } from '../snn/presets.js';
import { runCli } from './support/cli.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'spikenas-deploy-'));
/** A folder named as Fashion-MNIST's, holding the first images of each part. */
const data = join(work, 'fashion-mnist');
const TEST_IMAGES = 300;
let testPixels: Uint8Array;

/**
 * Three stored models: 8-bit with a feedback conv, 6-bit forward (codes across byte boundaries), 4-bit with
 * every operation and a feedback skip.
 */
const MODELS = {
  int8: { arch: '0302 0030 3003 0000', bits: '8' },
  int6: { arch: '0302 0023 0002 0000', bits: '6' },
  int4: { arch: '0413 0020 0003 0100', bits: '4' },
} as const;
const runs: Record<keyof typeof MODELS, string> = { int8: '', int6: '', int4: '' };
/** Test accuracy of the stored (quantized) weights, as `spikenas train` measured it. */
const trainedAccuracy: Record<keyof typeof MODELS, number> = { int8: 0, int6: 0, int4: 0 };

function idx(magic: number, dims: number[], body: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => {
    header.writeUInt32BE(d, 4 + 4 * i);
  });
  return Buffer.concat([header, body]);
}

function writeSubset(train: number, test: number, raw: Awaited<ReturnType<typeof loadRawDataset>>) {
  mkdirSync(data, { recursive: true });
  const [h, w] = raw.inputShape;
  const labels = (l: Int32Array, n: number) => Uint8Array.from(l.subarray(0, n));
  writeFileSync(
    join(data, 'train-images-idx3-ubyte'),
    idx(0x803, [train, h, w], raw.train.pixels.subarray(0, train * h * w)),
  );
  writeFileSync(join(data, 'train-labels-idx1-ubyte'), idx(0x801, [train], labels(raw.train.labels, train)));
  writeFileSync(
    join(data, 't10k-images-idx3-ubyte'),
    idx(0x803, [test, h, w], raw.test.pixels.subarray(0, test * h * w)),
  );
  writeFileSync(join(data, 't10k-labels-idx1-ubyte'), idx(0x801, [test], labels(raw.test.labels, test)));
}

beforeAll(async () => {
  const raw = await loadRawDataset('fashion-mnist', { limit: { train: 2000, test: TEST_IMAGES } });
  writeSubset(2000, TEST_IMAGES, raw);
  testPixels = raw.test.pixels;
  const store = join(work, 'store');
  await Promise.all(
    (Object.keys(MODELS) as (keyof typeof MODELS)[]).map(async (key) => {
      const { arch, bits } = MODELS[key];
      const trained = await runCli([
        ...['train', '--arch', arch, '--dataset', data, '--config', 'fmnist-tiny', '--epochs', '1'],
        ...['--weight-bits', bits, '--out', store, '--json'],
      ]);
      expect(trained.code, trained.stderr).toBe(EXIT.ok);
      const result = JSON.parse(trained.stdout);
      runs[key] = fileURLToPath(result.weights).replace(/\/weights\/model\.json$/, '');
      trainedAccuracy[key] = result.quantization.accuracy;
    }),
  );
  execFileSync('bash', [join(ROOT, 'scripts/nir.sh'), 'install'], { stdio: ['ignore', 'ignore', 'inherit'] });
});

async function predict(
  run: string,
  extra: string[] = [],
): Promise<{ predictions: number[]; accuracy: number }> {
  const predicted = await runCli(['predict', run, '--dataset', data, '--json', ...extra]);
  expect(predicted.code, predicted.stderr).toBe(EXIT.ok);
  return JSON.parse(predicted.stdout);
}

/** Each model's predictions on the test images, once. */
const predictions = new Map<string, Promise<{ predictions: number[]; accuracy: number }>>();
function predictOnce(key: keyof typeof MODELS) {
  let predicted = predictions.get(key);
  if (!predicted) {
    predicted = predict(runs[key]);
    predictions.set(key, predicted);
  }
  return predicted;
}

describe('run locations', () => {
  it('takes a run folder, a file:// or s3:// location, or a workflow ID in --artifacts', () => {
    expect(resolveRunLocation('/a/b/runs/x1', 'unused')).toEqual({ store: '/a/b', runId: 'x1' });
    expect(resolveRunLocation('file:///a/runs/x1/', 'unused')).toEqual({ store: 'file:///a', runId: 'x1' });
    expect(resolveRunLocation('s3://bucket/p/runs/x1', 'unused')).toEqual({
      store: 's3://bucket/p',
      runId: 'x1',
    });
    expect(resolveRunLocation('spikenas-drone-2026-12-01', 's3://b')).toEqual({
      store: 's3://b',
      runId: 'spikenas-drone-2026-12-01',
    });
    expect(() => resolveRunLocation('/a/b/c', 'unused')).toThrow(/run: .*runs\/<runId>/);
  });
});

describe('spikenas predict', () => {
  it('prints one class per test image, the same for a folder and a workflow ID, and says what is wrong', async () => {
    const byFolder = await predictOnce('int8');
    expect(byFolder.predictions).toHaveLength(TEST_IMAGES);
    expect(new Set(byFolder.predictions).size).toBeGreaterThan(1);
    // The stored model's own accuracy on these images, as training measured it with the same network.
    expect(byFolder.accuracy).toBeCloseTo(trainedAccuracy.int8, 10);
    const runId = runs.int8.split('/').at(-1) as string;
    const byId = await predict(runId, ['--artifacts', join(work, 'store'), '--limit', '50']);
    expect(byId.predictions).toEqual(byFolder.predictions.slice(0, 50));
    const missing = await runCli(['predict', join(work, 'store', 'runs', 'nothing-here'), '--dataset', data]);
    expect(missing.code).toBe(EXIT.invalidInput);
    expect(missing.stderr).toMatch(/run: .*no stored model/);
  });
});

describe('spikenas export --format c', () => {
  for (const key of Object.keys(MODELS) as (keyof typeof MODELS)[]) {
    it(`${MODELS[key].bits}-bit ${MODELS[key].arch}: gcc -Werror builds it, it classifies as predict does, size matches`, async () => {
      const dir = join(work, `c-${key}`);
      const exported = await runCli(['export', runs[key], '--format', 'c', '--out', dir, '--json']);
      expect(exported.code, exported.stderr).toBe(EXIT.ok);
      const result = JSON.parse(exported.stdout);
      const config = { ...resolvePreset('fmnist-tiny'), inputShape: [28, 28, 1] as [number, number, number] };
      const memory = deployMemory(parseArch(result.arch), config, Number(MODELS[key].bits) as 8 | 6 | 4);
      expect(result.flashBytes).toBe(memory.flashBytes);
      expect(result.ramBytes).toBe(memory.ramBytes);

      const built = buildExport(dir);
      // RAM: the one static struct, exactly; flash: the constant struct, the two size_t constants and at
      // most the struct's alignment padding.
      expect(built.object.bss).toBe(memory.ramBytes);
      expect(built.object.data).toBe(0);
      expect(built.object.rodata).toBeGreaterThanOrEqual(memory.flashBytes + 16);
      expect(built.object.rodata).toBeLessThan(memory.flashBytes + 16 + 32);
      const c = await classifyWithC(built.binary, testPixels);
      expect(c.ramBytes).toBe(memory.ramBytes);
      expect(c.flashBytes).toBe(memory.flashBytes + 16);

      const predicted = await predictOnce(key);
      expect(predicted.accuracy).toBeCloseTo(trainedAccuracy[key], 10);
      expect(c.classes).toHaveLength(TEST_IMAGES);
      const agree = c.classes.filter((k, i) => k === predicted.predictions[i]).length / TEST_IMAGES;
      expect(agree).toBeGreaterThanOrEqual(0.99);
    });
  }
});

describe('spikenas export --format nir', () => {
  it('writes a graph that nir.read reads, with the nodes, shapes and edges of the network', async () => {
    const file = join(work, 'model.nir');
    const exported = await runCli(['export', runs.int8, '--format', 'nir', '--out', file]);
    expect(exported.code, exported.stderr).toBe(EXIT.ok);
    const python = join(ROOT, '.spikenas', 'nir', 'bin', 'python');
    const read = JSON.parse(
      execFileSync(python, [join(ROOT, 'scripts/nir_summary.py'), file], { encoding: 'utf8' }),
    );
    expect(read.version).toBe('1.0.8');
    const nodes = read.nodes as Record<
      string,
      { type: string; input: number[]; output: number[]; arrays: Record<string, number[]> }
    >;
    const edges = (read.edges as [string, string][]).map(([a, b]) => `${a}>${b}`);
    const plan = cellPlan(parseArch(MODELS.int8.arch));
    const types = Object.values(nodes).map((n) => n.type);
    expect(new Set(types)).toEqual(
      new Set(['Input', 'Conv2d', 'LIF', 'AvgPool2d', 'Flatten', 'Linear', 'Affine', 'Output']),
    );
    // One LIF per cell node with a conv edge leaving it, in both cells, plus down, head and hidden.
    expect(types.filter((t) => t === 'LIF')).toHaveLength(2 * plan.lifSources.length + 3);
    expect(nodes.input?.output).toEqual([1, 28, 28]);
    expect(nodes.stem).toMatchObject({ type: 'Conv2d', output: [8, 14, 14] });
    expect(nodes.stem?.arrays.weight).toEqual([8, 1, 3, 3]);
    expect(nodes['cell1.e01']?.arrays.weight).toEqual([8, 8, 3, 3]);
    expect(nodes['cell2.e03']?.arrays.weight).toEqual([16, 16, 1, 1]);
    expect(nodes['cell2.lif2']?.arrays.tau).toEqual([16, 7, 7]);
    expect(nodes['cell1.n0']).toMatchObject({ type: 'AvgPool2d', input: [8, 14, 14], output: [8, 14, 14] });
    expect(nodes['down.bn']?.arrays.weight).toEqual([8, 8, 1, 1]);
    expect(nodes['head.flatten']).toMatchObject({ input: [16, 3, 3], output: [144] });
    expect(nodes['head.fc1']?.arrays.weight).toEqual([64, 144]);
    expect(nodes['head.fc2']?.arrays.weight).toEqual([20, 64]);
    expect(nodes.output?.input).toEqual([10]);
    for (const edge of [
      'input>stem',
      'stem>cell1.n0',
      'cell1.n0>cell1.lif0',
      'cell1.lif0>cell1.e01',
      'cell1.e01>cell1.n1',
      'cell1.lif2>cell1.e20',
      'cell1.e20>cell1.n0',
      'cell1.n3>down.bn',
      'down.bn>down.lif',
      'down.pool>cell2.n0',
      'cell2.n3>head.bn',
      'head.bn>head.lif',
      'head.fc2>vote',
      'vote>output',
    ]) {
      expect(edges).toContain(edge);
    }
    expect(read.metadata).toEqual(expect.arrayContaining(['norm_mean', 'norm_std', 'timesteps']));
  });
});
