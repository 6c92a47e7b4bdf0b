/**
 * The local S3-compatible server (moto, scripts/s3-server.sh) for the s3-* tests and bench/s3-throughput.ts:
 * its endpoint, a fresh bucket per test file, a raw client to change objects behind the store's back, and
 * small local HTTP servers for the boundary cases a real server will not produce on demand.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { S3ArtifactStore, type S3StoreOptions } from '../../artifacts/s3-store.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/s3-server.sh', import.meta.url));

/** moto accepts any keys; fixed ones keep the tests independent of the machine's AWS setup. */
export const TEST_CREDENTIALS = { accessKeyId: 'spikenas-test', secretAccessKey: 'spikenas-test-secret' };
export const TEST_REGION = 'us-east-1';

/** SPIKENAS_TEST_S3_ENDPOINT (set by .ci/run or the global setup), else starts the server via the script. */
/** What a worker process needs in its environment to reach the test S3 server at `endpoint`. */
export function s3WorkerEnv(endpoint: string = s3Endpoint()): Record<string, string> {
  return {
    SPIKENAS_S3_ENDPOINT: endpoint,
    AWS_REGION: TEST_REGION,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
  };
}

export function s3Endpoint(): string {
  const preset = process.env.SPIKENAS_TEST_S3_ENDPOINT;
  if (preset) return preset;
  const endpoint = execFileSync('bash', [SCRIPT, 'start'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  process.env.SPIKENAS_TEST_S3_ENDPOINT = endpoint;
  return endpoint;
}

export function rawClient(endpoint = s3Endpoint()): S3Client {
  return new S3Client({
    endpoint,
    region: TEST_REGION,
    forcePathStyle: true,
    credentials: TEST_CREDENTIALS,
    maxAttempts: 1,
  });
}

/** Creates a bucket no other test file uses; `label` makes it recognisable in the server's log. */
export async function freshBucket(label: string, endpoint = s3Endpoint()): Promise<string> {
  const bucket = `spikenas-${label}-${randomBytes(4).toString('hex')}`.toLowerCase();
  const client = rawClient(endpoint);
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
  return bucket;
}

/** A store on s3://bucket/prefix of the test server (or of `endpoint`, e.g. a proxy in front of it). */
export function openTestStore(uri: string, options: S3StoreOptions = {}): Promise<S3ArtifactStore> {
  return S3ArtifactStore.fromUri(uri, {
    endpoint: s3Endpoint(),
    region: TEST_REGION,
    credentials: TEST_CREDENTIALS,
    env: {},
    ...options,
  });
}

export interface LocalHttpServer {
  endpoint: string;
  /** Requests seen so far, as 'METHOD /path?query'. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * Starts an HTTP server on 127.0.0.1; `handle` decides each request. Returns its endpoint and a log of the
 * requests it saw.
 */
export async function startHttpServer(
  handle: (request: IncomingMessage, writer: ResponseWriter) => void,
): Promise<LocalHttpServer> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    handle(request, {
      raw: response,
      send: (status, body, headers = {}) => {
        response.writeHead(status, { 'content-type': 'application/xml', ...headers });
        response.end(body);
      },
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ResponseWriter {
  raw: ServerResponse;
  send(status: number, body: string, headers?: Record<string, string>): void;
}

/** The XML error body S3 answers with. */
export function s3ErrorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>test</RequestId></Error>`;
}

/** Forwards a request unchanged to `target` and pipes the answer back. */
export function proxyTo(target: string, request: IncomingMessage, writer: ResponseWriter): void {
  const url = new URL(request.url ?? '/', target);
  const upstream = httpRequest(url, { method: request.method, headers: request.headers }, (answer) => {
    writer.raw.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(writer.raw);
  });
  upstream.on('error', (error) => writer.raw.destroy(error));
  request.pipe(upstream);
}
