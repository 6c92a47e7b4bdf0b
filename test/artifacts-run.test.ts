import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ArtifactCache,
  ArtifactIntegrityError,
  cacheKey,
  LocalArtifactStore,
  RUN_FILES,
  RunArtifacts,
  stageFile,
} from '../artifacts/index.js';
import { InputError } from '../common/errors.js';

let dir: string;
let store: LocalArtifactStore;
let warnings: string[];
const warn = (message: string) => warnings.push(message);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spikenas-run-'));
  store = new LocalArtifactStore(dir);
  warnings = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const onDisk = (runId: string, name: string) => join(dir, 'runs', runId, ...name.split('/'));
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function flipByte(path: string, at: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[at] = (bytes[at] as number) ^ 0x01;
  await writeFile(path, bytes);
}

describe('RunArtifacts objects and manifest', () => {
  async function writeWholeRun(run: RunArtifacts): Promise<void> {
    await run.putJson(RUN_FILES.config, { dataset: 'synthetic', seed: 1 });
    await run.putJson(stageFile('operation-impact'), { impacts: [] });
    await run.putJsonLines(
      RUN_FILES.candidates,
      Array.from({ length: 2500 }, (_, i) => ({ arch: `a${i}`, score: i / 7 })),
    );
    await run.putJson(RUN_FILES.winner, { arch: '0302 0030 0003 0000' });
    await run.writeWeights({
      modelTopology: { cell: 'x' },
      weightSpecs: [
        { name: 'stem/kernel', shape: [3, 3, 1, 4], dtype: 'float32' },
        { name: 'head/bias', shape: [10], dtype: 'float32' },
      ],
      weightData: [new Float32Array(36).fill(0.5).buffer, new Float32Array(10).fill(-1).buffer],
      format: 'spikenas-snn',
    });
    await run.put(RUN_FILES.report, '# report\n');
    await run.put(RUN_FILES.pareto, '<svg xmlns="http://www.w3.org/2000/svg"/>');
  }

  it('publishes a manifest of every object with the sizes and digests of the bytes on disk', async () => {
    const run = new RunArtifacts(store, 'run-1', { warn });
    await writeWholeRun(run);
    const manifest = await run.publish();
    const names = manifest.objects.map((o) => o.name);
    expect(names).toEqual(
      [
        'candidates.jsonl',
        'config.json',
        'pareto.svg',
        'report.md',
        'stages/operation-impact.json',
        'weights/model.json',
        'weights/weights.bin',
        'winner.json',
      ].sort(),
    );
    for (const record of manifest.objects) {
      const bytes = await readFile(onDisk('run-1', record.name));
      expect(record.size, record.name).toBe(bytes.length);
      expect(record.sha256, record.name).toBe(sha256(bytes));
    }
    const stored = JSON.parse(await readFile(onDisk('run-1', 'manifest.json'), 'utf8'));
    expect(stored.objects).toEqual(manifest.objects);
    expect((await run.verify()).objects).toEqual(manifest.objects);
    expect(run.rootUri).toBe(`${pathToFileURL(join(dir, 'runs', 'run-1')).href}/`);
    expect(run.uriOf(RUN_FILES.report)).toBe(pathToFileURL(onDisk('run-1', 'report.md')).href);
    expect(await run.getJsonLines<{ arch: string }>(RUN_FILES.candidates)).toHaveLength(2500);
  });

  it('round-trips tfjs weights as model.json + weights.bin', async () => {
    const run = new RunArtifacts(store, 'run-w', { warn });
    await writeWholeRun(run);
    const loaded = await run.readWeights();
    expect(loaded.weightSpecs?.map((s) => s.name)).toEqual(['stem/kernel', 'head/bias']);
    const values = new Float32Array(loaded.weightData as ArrayBuffer);
    expect(values.length).toBe(46);
    expect(values[0]).toBe(0.5);
    expect(values[45]).toBe(-1);
    const modelJson = JSON.parse(await readFile(onDisk('run-w', 'weights/model.json'), 'utf8'));
    expect(modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(modelJson.format).toBe('spikenas-snn');
  });

  it('fails reads and verification on a flipped byte, naming the object', async () => {
    const run = new RunArtifacts(store, 'run-2', { warn });
    await writeWholeRun(run);
    await run.publish();
    await flipByte(onDisk('run-2', 'weights/weights.bin'), 17);
    const readError = await run.get('weights/weights.bin').catch((e: unknown) => e);
    expect(readError).toBeInstanceOf(ArtifactIntegrityError);
    expect((readError as Error).message).toMatch(/weights\/weights\.bin: SHA-256 is [0-9a-f]{64}, recorded/);
    const verifyError = await run.verify().catch((e: unknown) => e);
    expect(verifyError).toBeInstanceOf(ArtifactIntegrityError);
    expect((verifyError as Error).message).toContain('1 object(s) failed');
    expect((verifyError as Error).message).toContain('weights.bin');
  });

  it('verification reports missing and truncated objects; publish refuses an object that does not verify', async () => {
    const run = new RunArtifacts(store, 'run-3', { warn });
    await writeWholeRun(run);
    await run.publish();
    await unlink(onDisk('run-3', 'report.md'));
    await truncate(onDisk('run-3', 'config.json'), 5);
    const error = await run.verify().catch((e: unknown) => e);
    expect((error as Error).message).toContain('2 object(s) failed');
    expect((error as Error).message).toContain('report.md');
    expect((error as Error).message).toMatch(/config\.json: size is 5 bytes/);
    await expect(run.publish()).rejects.toThrow();
  });

  it('reads an object without a recorded digest as unverified', async () => {
    const run = new RunArtifacts(store, 'run-4', { warn });
    await store.put('runs/run-4/winner.json', '{}');
    await expect(run.getJson('winner.json')).rejects.toThrow(/no digest was recorded/);
  });

  it('rejects bad run ids, names and writing the manifest directly', async () => {
    expect(() => new RunArtifacts(store, '../up')).toThrow(InputError);
    expect(() => new RunArtifacts(store, '')).toThrow(InputError);
    expect(() => stageFile('a/b')).toThrow(InputError);
    const run = new RunArtifacts(store, 'ok');
    await expect(run.putJson('manifest.json', {})).rejects.toBeInstanceOf(InputError);
    await expect(run.put('.digests/x.sha256', 'x')).rejects.toBeInstanceOf(InputError);
    await expect(run.writeCheckpoint('bad/name', {})).rejects.toBeInstanceOf(InputError);
  });

  it("takes a scheduled search's workflow ID, which ends in the scheduled time, as a run ID", async () => {
    const runId = 'spikenas-drone-alpha-nightly-2026-03-04T02:00:00Z';
    const run = new RunArtifacts(store, runId);
    await run.putJson('winner.json', { arch: '0302 0030 3003 0000' });
    expect(await run.getJson(RUN_FILES.winner)).toEqual({ arch: '0302 0030 3003 0000' });
    expect(await readFile(onDisk(runId, 'winner.json'), 'utf8')).toContain('0302');
    expect(() => new RunArtifacts(store, 'a/b:c')).toThrow(InputError);
    expect(() => new RunArtifacts(store, ':leading')).toThrow(InputError);
  });
});

describe('concurrent writers', () => {
  it('different runs in one store, and shards writing different objects of one run', async () => {
    // Separate store instances on one folder stand for separate workers.
    const shards = [0, 1, 2, 3].map(() => new RunArtifacts(new LocalArtifactStore(dir), 'shared', { warn }));
    const others = [0, 1].map((k) => new RunArtifacts(new LocalArtifactStore(dir), `other-${k}`, { warn }));
    await Promise.all([
      ...shards.map(async (run, k) => {
        for (let step = 0; step < 5; step++) {
          await run.writeCheckpoint(`memory-aware-search.shard-${k}`, { k, step });
          await run.putJson(`stages/memory-aware-search.shard-${k}.json`, { k, step });
        }
      }),
      ...others.map(async (run, k) => {
        for (let step = 0; step < 10; step++) await run.putJson(`stages/s${step}.json`, { k, step });
      }),
    ]);
    const reader = new RunArtifacts(store, 'shared', { warn });
    for (let k = 0; k < 4; k++) {
      expect(await reader.readCheckpoint(`memory-aware-search.shard-${k}`)).toEqual({
        seq: 5,
        data: { k, step: 4 },
      });
      expect(await reader.getJson(`stages/memory-aware-search.shard-${k}.json`)).toEqual({ k, step: 4 });
    }
    const manifest = await reader.publish();
    expect(manifest.objects).toHaveLength(4 * 5 + 4);
    await reader.verify();
    for (const [k, run] of others.entries()) {
      const otherManifest = await run.publish();
      expect(otherManifest.objects.map((o) => o.name)).toEqual(
        Array.from({ length: 10 }, (_, step) => `stages/s${step}.json`).sort(),
      );
      expect(await run.getJson('stages/s9.json')).toEqual({ k, step: 9 });
    }
    expect(warnings).toEqual([]);
  });
});

describe('checkpoints', () => {
  async function threeCheckpoints(): Promise<RunArtifacts> {
    const run = new RunArtifacts(store, 'ckpt', { warn });
    for (let step = 1; step <= 3; step++) expect(await run.writeCheckpoint('search', { step })).toBe(step);
    return run;
  }
  const newest = () => onDisk('ckpt', 'checkpoints/search/00000003.json');

  it('returns the newest, and undefined when there is none', async () => {
    const run = await threeCheckpoints();
    expect(await run.readCheckpoint('search')).toEqual({ seq: 3, data: { step: 3 } });
    expect(await run.readCheckpoint('other')).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('skips a newest checkpoint with a flipped byte, with a warning, and uses the one before', async () => {
    const run = await threeCheckpoints();
    await flipByte(newest(), 3);
    expect(await run.readCheckpoint('search')).toEqual({ seq: 2, data: { step: 2 } });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/checkpoint search #3 skipped: .*SHA-256/);
  });

  it('skips a truncated newest checkpoint', async () => {
    const run = await threeCheckpoints();
    await truncate(newest(), 4);
    expect(await run.readCheckpoint('search')).toEqual({ seq: 2, data: { step: 2 } });
    expect(warnings[0]).toMatch(/#3 skipped: .*size is 4 bytes/);
  });

  it('skips a missing newest checkpoint and one whose digest was never written', async () => {
    const run = await threeCheckpoints();
    await unlink(newest());
    await unlink(onDisk('ckpt', '.digests/checkpoints/search/00000002.json.sha256'));
    expect(await run.readCheckpoint('search')).toEqual({ seq: 1, data: { step: 1 } });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/#3 skipped: artifact not found/);
    expect(warnings[1]).toMatch(/#2 skipped: .*no digest was recorded/);
  });

  it('returns undefined when every checkpoint is bad', async () => {
    const run = await threeCheckpoints();
    for (const seq of [1, 2, 3]) await truncate(onDisk('ckpt', `checkpoints/search/0000000${seq}.json`), 1);
    expect(await run.readCheckpoint('search')).toBeUndefined();
    expect(warnings).toHaveLength(3);
  });

  it('a new checkpoint never overwrites a corrupt or good one; a failed write leaves them all', async () => {
    const run = await threeCheckpoints();
    await flipByte(newest(), 3);
    const corrupt = await readFile(newest());
    expect(await run.writeCheckpoint('search', { step: 4 })).toBe(4);
    expect(await readFile(newest())).toEqual(corrupt);
    // A stage that fails while writing (here: data JSON cannot hold) must not disturb earlier checkpoints.
    await expect(run.writeCheckpoint('search', { step: 5, big: 1n })).rejects.toThrow();
    expect(await run.readCheckpoint('search')).toEqual({ seq: 4, data: { step: 4 } });
    const files = await store.list('runs/ckpt/checkpoints/search/');
    expect(files.map((f) => f.split('/').pop())).toEqual([1, 2, 3, 4].map((s) => `0000000${s}.json`));
  });
});

describe('ArtifactCache', () => {
  it('keys by content regardless of key order, and hits across runs', async () => {
    const key = cacheKey({ dataset: 'abc', config: { a: 1, b: [1, 2] } });
    expect(cacheKey({ config: { b: [1, 2], a: 1 }, dataset: 'abc' })).toBe(key);
    expect(cacheKey({ dataset: 'abd', config: { a: 1, b: [1, 2] } })).not.toBe(key);
    const writer = new ArtifactCache(store, 'operation-impact', { warn });
    expect(await writer.get(key)).toBeUndefined();
    await writer.put(key, { impacts: [1, 2, 3] });
    const reader = new ArtifactCache(new LocalArtifactStore(dir), 'operation-impact', { warn });
    expect(await reader.get(key)).toEqual({ impacts: [1, 2, 3] });
    expect(reader.uriOf(key)).toContain(`cache/operation-impact/${key}.json`);
  });

  it('treats a corrupt entry as a miss with a warning, and a rewrite heals it', async () => {
    const cache = new ArtifactCache(store, 'impact', { warn });
    const key = cacheKey({ x: 1 });
    await cache.put(key, { value: 42 });
    await flipByte(join(dir, 'cache', 'impact', `${key}.json`), 2);
    expect(await cache.get(key)).toBeUndefined();
    expect(warnings[0]).toContain(`cache impact/${key} ignored`);
    await cache.put(key, { value: 42 });
    expect(await cache.get(key)).toEqual({ value: 42 });
  });
});
