/**
 * S3ArtifactStore against the local S3-compatible server (moto) over HTTP, and the run layer
 * (artifacts/run.ts: digests, manifest, checkpoints) on top of it.
 */
import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactIntegrityError } from '../artifacts/digest.js';
import { RUN_FILES, RunArtifacts } from '../artifacts/run.js';
import { CHECKPOINT_TAG, MIN_PART_SIZE, parseS3Uri, S3ArtifactStore } from '../artifacts/s3-store.js';
import { ArtifactNotFoundError } from '../artifacts/store.types.js';
import { InputError } from '../common/errors.js';
import { Rng } from '../common/rng.js';
import { freshBucket, openTestStore, rawClient } from './support/s3.js';

let bucket: string;
let raw: S3Client;

beforeAll(async () => {
  bucket = await freshBucket('store');
  raw = rawClient();
});
afterAll(() => raw.destroy());

const MiB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function randomBytes(size: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 4) {
    const word = rng.seed();
    for (let j = 0; j < 4 && i + j < size; j++) bytes[i + j] = (word >>> (8 * j)) & 0xff;
  }
  return bytes;
}

/** Yields `bytes` in chunks, as a stage streaming a large log or weights file would. */
async function* chunked(bytes: Uint8Array, chunkSize: number, failAt?: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength; offset += chunkSize) {
    if (failAt !== undefined && offset >= failAt) throw new Error('stage crashed while writing');
    yield bytes.slice(offset, offset + chunkSize);
  }
}

async function rawBytes(key: string): Promise<Uint8Array> {
  const answer = await raw.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (answer.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
}

async function rawPut(key: string, body: Uint8Array): Promise<void> {
  await raw.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

describe('S3 URIs', () => {
  it('splits bucket and prefix and rejects what is not an S3 URI', () => {
    expect(parseS3Uri('s3://my-bucket')).toEqual({ bucket: 'my-bucket', prefix: '' });
    expect(parseS3Uri('s3://my-bucket/')).toEqual({ bucket: 'my-bucket', prefix: '' });
    expect(parseS3Uri('s3://my-bucket/team/nightly/')).toEqual({
      bucket: 'my-bucket',
      prefix: 'team/nightly/',
    });
    for (const bad of ['s3://', 's3://UPPER/x', 'file:///tmp/x', 's3://b/../x', 's3://my-bucket/a//b']) {
      expect(() => parseS3Uri(bad), bad).toThrow(InputError);
    }
  });

  it('rejects a part size below the 5 MiB S3 minimum', async () => {
    await expect(openTestStore(`s3://${bucket}`, { partSize: MIN_PART_SIZE - 1 })).rejects.toThrow(
      /partSize.*allowed: an integer >= 5242880/,
    );
  });
});

describe('S3ArtifactStore round trip', () => {
  it('puts, gets, lists and names objects under its prefix', async () => {
    const store = await openTestStore(`s3://${bucket}/round-trip`);
    expect(store.uri).toBe(`s3://${bucket}/round-trip`);
    const bytes = randomBytes(4096, 1);
    await store.put('runs/r1/winner.json', '{"arch":"0302"}');
    await store.put('runs/r1/weights/weights.bin', bytes);
    await store.put('runs/r1/candidates.jsonl', chunked(new TextEncoder().encode('{"a":1}\n{"a":2}\n'), 5));
    await store.put('runs/r10/config.json', '{}');

    expect(new TextDecoder().decode(await store.get('runs/r1/winner.json'))).toBe('{"arch":"0302"}');
    expect(sha256(await store.get('runs/r1/weights/weights.bin'))).toBe(sha256(bytes));
    expect(new TextDecoder().decode(await store.get('runs/r1/candidates.jsonl'))).toBe('{"a":1}\n{"a":2}\n');
    // The objects really are under the prefix, byte for byte.
    expect(sha256(await rawBytes('round-trip/runs/r1/weights/weights.bin'))).toBe(sha256(bytes));

    expect(await store.list('runs/r1/')).toEqual([
      'runs/r1/candidates.jsonl',
      'runs/r1/weights/weights.bin',
      'runs/r1/winner.json',
    ]);
    expect(await store.list('runs/')).toHaveLength(4);
    expect(await store.list('nothing/')).toEqual([]);
    expect(await store.exists('runs/r1/winner.json')).toBe(true);
    expect(await store.exists('runs/r1/absent.json')).toBe(false);
    expect(store.uriOf('runs/r1/winner.json')).toBe(`s3://${bucket}/round-trip/runs/r1/winner.json`);

    await store.put('runs/r1/winner.json', '{"arch":"0000"}');
    expect(new TextDecoder().decode(await store.get('runs/r1/winner.json'))).toBe('{"arch":"0000"}');
  });

  it('reports a missing object as ArtifactNotFoundError with its URI, and bad keys as InputError', async () => {
    const store = await openTestStore(`s3://${bucket}/missing`);
    const error = await store.get('runs/x/none.json').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArtifactNotFoundError);
    expect((error as ArtifactNotFoundError).uri).toBe(`s3://${bucket}/missing/runs/x/none.json`);
    await expect(store.put('../escape', 'x')).rejects.toThrow(InputError);
    await expect(store.get('a//b')).rejects.toThrow(InputError);
  });

  it('lists more keys than one ListObjectsV2 page holds', async () => {
    const store = await openTestStore(`s3://${bucket}/many`);
    const keys = Array.from({ length: 1010 }, (_, i) => `k/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((key) => store.put(key, key)));
    }
    expect(await store.list('k/')).toEqual(keys);
  });
});

describe('multipart uploads', () => {
  it('streams a 20 MiB object in 5 MiB parts and reads it back whole', async () => {
    const store = await openTestStore(`s3://${bucket}/multipart`, { partSize: 5 * MiB, queueSize: 2 });
    const commands: string[] = [];
    store.client.middlewareStack.add(
      (next, context) => async (args) => {
        commands.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize', name: 'countCommands' },
    );
    const bytes = randomBytes(20 * MiB + 123, 2);
    await store.put('runs/big/weights/weights.bin', chunked(bytes, MiB));

    expect(commands.filter((name) => name === 'UploadPartCommand')).toHaveLength(5);
    expect(commands).toContain('CreateMultipartUploadCommand');
    expect(commands).toContain('CompleteMultipartUploadCommand');
    expect(commands).not.toContain('PutObjectCommand');
    const head = await raw.send(
      new HeadObjectCommand({ Bucket: bucket, Key: 'multipart/runs/big/weights/weights.bin' }),
    );
    expect(head.ETag).toMatch(/-5"$/);
    expect(head.ContentLength).toBe(bytes.byteLength);
    expect(sha256(await store.get('runs/big/weights/weights.bin'))).toBe(sha256(bytes));

    // A Uint8Array body of the same size goes the same way.
    await store.put('runs/big/copy.bin', bytes);
    const copy = await raw.send(
      new HeadObjectCommand({ Bucket: bucket, Key: 'multipart/runs/big/copy.bin' }),
    );
    expect(copy.ETag).toMatch(/-5"$/);
  });

  it('tags checkpoint objects and their digest sidecars for the lifecycle rule, and nothing else', async () => {
    const store = await openTestStore(`s3://${bucket}/tags`);
    const run = new RunArtifacts(store, 'tagged', { warn: () => undefined });
    await run.writeCheckpoint('memory-aware-search', { done: 10 });
    await run.putJson(RUN_FILES.winner, { arch: '0302' });
    const tagsOf = async (key: string) =>
      (await raw.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: `tags/${key}` }))).TagSet ?? [];
    const keys = await store.list('runs/tagged/');
    const checkpointKeys = keys.filter((key) => key.includes('/checkpoints/'));
    expect(checkpointKeys).toHaveLength(2);
    for (const key of checkpointKeys) {
      expect(await tagsOf(key), key).toEqual([{ Key: CHECKPOINT_TAG.key, Value: CHECKPOINT_TAG.value }]);
    }
    expect(await tagsOf('runs/tagged/winner.json')).toEqual([]);
  });
});

describe('runs on S3 (artifacts/run.ts over S3ArtifactStore)', () => {
  async function writeRun(run: RunArtifacts, size: number, seed: number): Promise<void> {
    await run.putJson(RUN_FILES.config, { dataset: 'synthetic', seed });
    await run.putJsonLines(
      RUN_FILES.candidates,
      Array.from({ length: size }, (_, i) => ({ arch: `a${seed}-${i}`, score: i / 7 })),
    );
    await run.writeCheckpoint('memory-aware-search', { scored: size / 2 });
    await run.writeCheckpoint('memory-aware-search', { scored: size });
    await run.putJson(RUN_FILES.winner, { arch: `w${seed}` });
    await run.put(RUN_FILES.weightsBin, randomBytes(64 * 1024, seed));
  }

  it('publishes a manifest that verifies, and names an object changed behind its back', async () => {
    const store = await openTestStore(`s3://${bucket}/manifest`);
    const run = new RunArtifacts(store, 'm1', { warn: () => undefined });
    await writeRun(run, 3000, 1);
    const manifest = await run.publish();
    const names = manifest.objects.map((record) => record.name);
    expect(names).toContain(RUN_FILES.candidates);
    expect(names).toContain(RUN_FILES.weightsBin);
    const weights = manifest.objects.find((record) => record.name === RUN_FILES.weightsBin);
    expect(weights?.sha256).toBe(sha256(await rawBytes(`manifest/runs/m1/${RUN_FILES.weightsBin}`)));
    await expect(run.verify()).resolves.toEqual(manifest);

    const key = `manifest/runs/m1/${RUN_FILES.weightsBin}`;
    const changed = await rawBytes(key);
    changed[100] = (changed[100] as number) ^ 0x80;
    await rawPut(key, changed);
    const error = await run.verify().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArtifactIntegrityError);
    expect((error as Error).message).toContain(`s3://${bucket}/${key}`);
    await expect(run.get(RUN_FILES.weightsBin)).rejects.toThrow(ArtifactIntegrityError);
  });

  it.each([
    ['a flipped byte', (bytes: Uint8Array) => bytes.map((b, i) => (i === 3 ? b ^ 0x01 : b))],
    ['truncation', (bytes: Uint8Array) => bytes.subarray(0, bytes.byteLength - 5)],
  ])('falls back to the previous good checkpoint after %s', async (_label, corrupt) => {
    const store = await openTestStore(`s3://${bucket}/corrupt-${_label.replace(/\W+/g, '-')}`);
    const warnings: string[] = [];
    const run = new RunArtifacts(store, 'c1', { warn: (message) => warnings.push(message) });
    await run.writeCheckpoint('train-winner', { epoch: 1 });
    const newest = await run.writeCheckpoint('train-winner', { epoch: 2 });
    expect(await run.readCheckpoint('train-winner')).toEqual({ seq: newest, data: { epoch: 2 } });

    const [newestKey] = (await store.list('runs/c1/checkpoints/train-winner/')).slice(-1);
    const key = `${store.prefix}${newestKey}`;
    await rawPut(key, corrupt(await rawBytes(key)));
    expect(await run.readCheckpoint('train-winner')).toEqual({ seq: newest - 1, data: { epoch: 1 } });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`#${newest}`);
  });

  it('keeps concurrent writers of different runs apart', async () => {
    const store = await openTestStore(`s3://${bucket}/concurrent`);
    const runs = [1, 2, 3].map((seed) => new RunArtifacts(store, `run-${seed}`, { warn: () => undefined }));
    // A second store object on the same prefix: writers in different workers do not share a client.
    const other = await openTestStore(`s3://${bucket}/concurrent`);
    runs.push(new RunArtifacts(other, 'run-4', { warn: () => undefined }));
    await Promise.all(runs.map((run, i) => writeRun(run, 1500 + i, i + 1).then(() => run.publish())));

    for (const [i, run] of runs.entries()) {
      const manifest = await run.verify();
      expect(manifest.runId).toBe(`run-${i + 1}`);
      expect(await run.getJson(RUN_FILES.winner)).toEqual({ arch: `w${i + 1}` });
      expect((await run.getJsonLines(RUN_FILES.candidates)).length).toBe(1500 + i);
      expect(await run.readCheckpoint('memory-aware-search')).toEqual({ seq: 2, data: { scored: 1500 + i } });
      const keys = await store.list(`runs/run-${i + 1}/`);
      expect(keys.every((key) => key.startsWith(`runs/run-${i + 1}/`))).toBe(true);
    }
  });

  it('leaves the last good checkpoint and the old object intact when a stage dies mid-write', async () => {
    const store = await openTestStore(`s3://${bucket}/failed`, { partSize: 5 * MiB });
    const run = new RunArtifacts(store, 'f1', { warn: () => undefined });
    await run.writeCheckpoint('memory-aware-search', { scored: 100 });
    const good = randomBytes(6 * MiB, 3);
    await run.put(RUN_FILES.weightsBin, good);

    // Dies after 12 MiB (two parts sent: a multipart upload is open) and, separately, within the first part.
    const next = randomBytes(20 * MiB, 4);
    await expect(run.put(RUN_FILES.weightsBin, chunked(next, MiB, 12 * MiB))).rejects.toThrow(
      'stage crashed while writing',
    );
    await expect(run.put(RUN_FILES.candidates, chunked(next, MiB, 2 * MiB))).rejects.toThrow(
      'stage crashed while writing',
    );

    expect(sha256(await run.get(RUN_FILES.weightsBin))).toBe(sha256(good));
    expect(await run.exists(RUN_FILES.candidates)).toBe(false);
    expect(await run.readCheckpoint('memory-aware-search')).toEqual({ seq: 1, data: { scored: 100 } });
    const open = await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'failed/' }));
    expect(open.Uploads ?? []).toEqual([]);
  });
});

describe('configuration from the environment', () => {
  it('takes endpoint, region and path style from SPIKENAS_S3_* and AWS_* variables', async () => {
    const { s3Endpoint, TEST_CREDENTIALS } = await import('./support/s3.js');
    const store = await S3ArtifactStore.fromUri(`s3://${bucket}/env`, {
      credentials: TEST_CREDENTIALS,
      env: { SPIKENAS_S3_ENDPOINT: s3Endpoint(), AWS_DEFAULT_REGION: 'eu-west-1' },
    });
    expect(await store.client.config.region()).toBe('eu-west-1');
    expect(store.client.config.forcePathStyle).toBe(true);
    await store.put('x.txt', 'via env');
    expect(new TextDecoder().decode(await rawBytes('env/x.txt'))).toBe('via env');

    await expect(
      S3ArtifactStore.fromUri(`s3://${bucket}/env`, {
        credentials: TEST_CREDENTIALS,
        env: { SPIKENAS_S3_ENDPOINT: s3Endpoint(), SPIKENAS_S3_FORCE_PATH_STYLE: 'maybe' },
      }),
    ).rejects.toThrow(/SPIKENAS_S3_FORCE_PATH_STYLE.*allowed: 1, true, yes, 0, false, no/);
  });
});
