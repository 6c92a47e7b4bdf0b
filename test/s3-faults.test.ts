/**
 * How S3ArtifactStore fails and recovers: a missing bucket on the real local server fails at once; transient
 * faults (503, 500, connection resets, a download cut off midway) are injected by a local proxy in front
 * of the real server and must be retried to a correct result; access denied comes from a boundary stub
 * (moto does not enforce IAM by default) that answers 403 AccessDenied as S3 does.
 */
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStoreAccessError } from '../artifacts/s3-store.js';
import { Rng } from '../common/rng.js';
import {
  freshBucket,
  type LocalHttpServer,
  openTestStore,
  proxyTo,
  rawClient,
  s3Endpoint,
  s3ErrorXml,
  startHttpServer,
} from './support/s3.js';

let bucket: string;
let raw: S3Client;
const servers: LocalHttpServer[] = [];

beforeAll(async () => {
  bucket = await freshBucket('faults');
  raw = rawClient();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
afterAll(() => raw.destroy());

const MiB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function randomBytes(size: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  return Uint8Array.from({ length: size }, () => rng.int(256));
}

type Fault = 'pass' | 'reset' | 'cut-body' | { status: number; code: string };

/**
 * A proxy to the real server that applies `faultFor(request line, how many times this line was seen)` to
 * each request. Faulty answers are sent after the request body was read, as a real server would.
 */
async function faultyProxy(faultFor: (line: string, seen: number) => Fault): Promise<LocalHttpServer> {
  const target = s3Endpoint();
  const seen = new Map<string, number>();
  const server = await startHttpServer((request, writer) => {
    const line = `${request.method} ${request.url}`;
    const count = (seen.get(line) ?? 0) + 1;
    seen.set(line, count);
    const fault = faultFor(line, count);
    if (fault === 'pass') return proxyTo(target, request, writer);
    if (fault === 'cut-body') return cutBody(target, request, writer.raw);
    request.resume();
    request.on('end', () => {
      if (fault === 'reset') request.socket.destroy();
      else writer.send(fault.status, s3ErrorXml(fault.code, 'injected by the test proxy'));
    });
  });
  servers.push(server);
  return server;
}

/** Answers with the real headers and the first half of the real body, then drops the connection. */
function cutBody(
  target: string,
  request: import('node:http').IncomingMessage,
  response: import('node:http').ServerResponse,
): void {
  const upstream = httpRequest(new URL(request.url ?? '/', target), {
    method: request.method,
    headers: request.headers,
  });
  upstream.on('response', async (answer) => {
    const chunks: Buffer[] = [];
    for await (const chunk of answer) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    response.writeHead(answer.statusCode ?? 502, answer.headers);
    response.write(body.subarray(0, body.byteLength >> 1), () => response.socket?.destroy());
  });
  request.pipe(upstream);
}

const count = (requests: string[], pattern: RegExp) => requests.filter((line) => pattern.test(line)).length;

describe('transient faults are retried', () => {
  it('retries 503 SlowDown and 500 InternalError on put, get, list and exists', async () => {
    const proxy = await faultyProxy((line, seen) => {
      if (seen === 1) return { status: 503, code: 'SlowDown' };
      if (seen === 2 && line.startsWith('GET')) return { status: 500, code: 'InternalError' };
      return 'pass';
    });
    const store = await openTestStore(`s3://${bucket}/throttled`, { endpoint: proxy.endpoint });
    await store.put('runs/t/winner.json', '{"arch":"0302"}');
    expect(new TextDecoder().decode(await store.get('runs/t/winner.json'))).toBe('{"arch":"0302"}');
    expect(await store.list('runs/t/')).toEqual(['runs/t/winner.json']);
    expect(await store.exists('runs/t/winner.json')).toBe(true);
    expect(count(proxy.requests, /^PUT \/[^?]+\/throttled\/runs\/t\/winner\.json/)).toBe(2);
    expect(count(proxy.requests, /^GET \/[^?]+\/throttled\/runs\/t\/winner\.json/)).toBe(3);
  });

  it('retries connection resets', async () => {
    const proxy = await faultyProxy((_line, seen) => (seen <= 2 ? 'reset' : 'pass'));
    const store = await openTestStore(`s3://${bucket}/reset`, { endpoint: proxy.endpoint });
    const bytes = randomBytes(100_000, 1);
    await store.put('runs/r/weights.bin', bytes);
    expect(sha256(await store.get('runs/r/weights.bin'))).toBe(sha256(bytes));
    expect(count(proxy.requests, /^PUT .*\/reset\/runs\/r\/weights\.bin/)).toBe(3);
  });

  it('retries failed parts of a streamed multipart upload with their own bytes', async () => {
    const proxy = await faultyProxy((line, seen) => {
      if (seen > 1) return 'pass';
      if (/[?&]partNumber=2(&|$)/.test(line)) return { status: 503, code: 'SlowDown' };
      if (/[?&]partNumber=3(&|$)/.test(line)) return 'reset';
      return 'pass';
    });
    const store = await openTestStore(`s3://${bucket}/parts`, {
      endpoint: proxy.endpoint,
      partSize: 5 * MiB,
    });
    const bytes = randomBytes(16 * MiB, 2);
    async function* stream(): AsyncGenerator<Uint8Array> {
      for (let offset = 0; offset < bytes.byteLength; offset += MiB) yield bytes.slice(offset, offset + MiB);
    }
    await store.put('runs/p/weights.bin', stream());
    expect(count(proxy.requests, /partNumber=2(&|$)/)).toBe(2);
    expect(count(proxy.requests, /partNumber=3(&|$)/)).toBe(2);
    const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: 'parts/runs/p/weights.bin' }));
    expect(head.ETag).toMatch(/-4"$/);
    expect(sha256(await store.get('runs/p/weights.bin'))).toBe(sha256(bytes));
  });

  it('downloads again when the connection drops in the middle of a body', async () => {
    const proxy = await faultyProxy((line, seen) =>
      line.startsWith('GET /') && seen === 1 ? 'cut-body' : 'pass',
    );
    const store = await openTestStore(`s3://${bucket}/cut`, { endpoint: proxy.endpoint });
    const bytes = randomBytes(3 * MiB, 3);
    await store.put('runs/c/weights.bin', bytes);
    expect(sha256(await store.get('runs/c/weights.bin'))).toBe(sha256(bytes));
    expect(count(proxy.requests, /^GET .*\/cut\/runs\/c\/weights\.bin/)).toBe(2);
  });

  it('gives up after maxAttempts when the fault persists', async () => {
    const proxy = await faultyProxy((line) =>
      line.startsWith('PUT') ? { status: 503, code: 'SlowDown' } : 'pass',
    );
    const store = await openTestStore(`s3://${bucket}/down`, { endpoint: proxy.endpoint, maxAttempts: 3 });
    await expect(store.put('runs/d/x.json', '{}')).rejects.toThrow();
    expect(count(proxy.requests, /^PUT /)).toBe(3);
  });
});

describe('errors that retrying cannot fix fail at once', () => {
  it('names a missing bucket (real server) at open, after one request', async () => {
    const proxy = await faultyProxy(() => 'pass');
    const missing = `spikenas-absent-${Date.now()}`;
    const error = await openTestStore(`s3://${missing}/nightly`, { endpoint: proxy.endpoint }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ArtifactStoreAccessError);
    expect((error as ArtifactStoreAccessError).code).toBe('NoSuchBucket');
    expect((error as Error).message).toContain(`bucket '${missing}' does not exist`);
    expect((error as Error).message).toContain('SPIKENAS_ARTIFACTS');
    expect(proxy.requests).toHaveLength(1);
  });

  // Boundary stub: answers every request as S3 does for a principal without permission.
  async function deniedServer(): Promise<LocalHttpServer> {
    const server = await startHttpServer((request, writer) => {
      request.resume();
      request.on('end', () =>
        request.method === 'HEAD'
          ? writer.send(403, '')
          : writer.send(403, s3ErrorXml('AccessDenied', 'Access Denied')),
      );
    });
    servers.push(server);
    return server;
  }

  it('names the bucket, key and policy to check when access is denied, after one request each', async () => {
    const stub = await deniedServer();
    const opening = await openTestStore('s3://locked-bucket/team', { endpoint: stub.endpoint }).catch(
      (e: unknown) => e,
    );
    expect(opening).toBeInstanceOf(ArtifactStoreAccessError);
    expect((opening as Error).message).toMatch(/ListObjectsV2 s3:\/\/locked-bucket\/team\/: access denied/);
    expect((opening as Error).message).toContain('s3:ListBucket on arn:aws:s3:::locked-bucket');
    expect(stub.requests).toHaveLength(1);

    const store = await openTestStore('s3://locked-bucket/team', { endpoint: stub.endpoint, probe: false });
    const cases: [string, () => Promise<unknown>][] = [
      ['GetObject', () => store.get('runs/r/winner.json')],
      ['PutObject', () => store.put('runs/r/winner.json', '{}')],
      ['HeadObject', () => store.exists('runs/r/winner.json')],
    ];
    for (const [operation, call] of cases) {
      stub.requests.length = 0;
      const error = await call().catch((e: unknown) => e);
      expect(error, operation).toBeInstanceOf(ArtifactStoreAccessError);
      expect((error as Error).message).toContain(`${operation} s3://locked-bucket/team/runs/r/winner.json`);
      expect((error as Error).message).toContain('arn:aws:s3:::locked-bucket/team/*');
      expect(stub.requests, operation).toHaveLength(1);
    }
  });
});
