/**
 * Upload and download throughput of S3ArtifactStore against the local S3-compatible server (moto via
 * scripts/s3-server.sh, or SPIKENAS_TEST_S3_ENDPOINT). Prints one JSON object.
 *   npm run build && node dist/bench/s3-throughput.js [sizeMiB=100]
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { S3ArtifactStore } from '../artifacts/s3-store.js';
import { InputError } from '../common/errors.js';
import { Rng } from '../common/rng.js';

const MiB = 1024 * 1024;
const CHUNK = MiB;
const PART_SIZE = 8 * MiB;
const QUEUE_SIZE = 4;
const credentials = { accessKeyId: 'spikenas-bench', secretAccessKey: 'spikenas-bench-secret' };

function endpoint(): string {
  const preset = process.env.SPIKENAS_TEST_S3_ENDPOINT;
  if (preset) return preset;
  const script = fileURLToPath(new URL('../../scripts/s3-server.sh', import.meta.url));
  return execFileSync('bash', [script, 'start'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

/** Seeded bytes: incompressible like weights, and the same on every run. */
function* chunks(totalBytes: number, seed: number): Generator<Uint8Array> {
  const rng = new Rng(seed);
  for (let offset = 0; offset < totalBytes; offset += CHUNK) {
    const chunk = new Uint8Array(Math.min(CHUNK, totalBytes - offset));
    const words = new Uint32Array(chunk.buffer, 0, chunk.byteLength >>> 2);
    for (let i = 0; i < words.length; i++) words[i] = rng.seed();
    yield chunk;
  }
}

async function main(): Promise<void> {
  const sizeMiB = Number(process.argv[2] ?? 100);
  if (!Number.isInteger(sizeMiB) || sizeMiB < 1)
    throw new InputError('sizeMiB', `'${process.argv[2]}'`, 'an integer >= 1');
  const totalBytes = sizeMiB * MiB;
  const url = endpoint();
  const bucket = `spikenas-bench-${Date.now()}`;
  const admin = new S3Client({ endpoint: url, region: 'us-east-1', forcePathStyle: true, credentials });
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  admin.destroy();
  const store = await S3ArtifactStore.fromUri(`s3://${bucket}/bench`, {
    endpoint: url,
    region: 'us-east-1',
    credentials,
    partSize: PART_SIZE,
    queueSize: QUEUE_SIZE,
  });

  // The source is hashed as it streams, so generating it is part of the upload time, as in a real stage.
  const sent = createHash('sha256');
  async function* body(): AsyncGenerator<Uint8Array> {
    for (const chunk of chunks(totalBytes, 42)) {
      sent.update(chunk);
      yield chunk;
    }
  }
  const uploadStart = performance.now();
  await store.put('runs/bench/weights/weights.bin', body());
  const uploadMs = performance.now() - uploadStart;

  const downloadStart = performance.now();
  const bytes = await store.get('runs/bench/weights/weights.bin');
  const downloadMs = performance.now() - downloadStart;
  const intact = createHash('sha256').update(bytes).digest('hex') === sent.digest('hex');
  store.client.destroy();

  const mbps = (ms: number) => Number((totalBytes / MiB / (ms / 1000)).toFixed(1));
  console.log(
    JSON.stringify({
      bench: 's3-throughput',
      server: 'moto (local, 127.0.0.1)',
      sizeMiB,
      partSizeMiB: PART_SIZE / MiB,
      queueSize: QUEUE_SIZE,
      uploadMs: Math.round(uploadMs),
      downloadMs: Math.round(downloadMs),
      uploadMiBps: mbps(uploadMs),
      downloadMiBps: mbps(downloadMs),
      intact,
    }),
  );
  if (!intact) process.exitCode = 1;
}

await main();
