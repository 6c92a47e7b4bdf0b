/**
 * Starts the servers the tests talk to, once per test run: the pinned Temporal dev server and the local
 * S3-compatible server (moto). .ci/run starts them first; then these find them answering and reuse them.
 */
import { execFileSync } from 'node:child_process';
import { answers, ROOT, startDevServer, stopDevServer } from './support/temporal.js';

export default async function setup(): Promise<() => void> {
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const port = Number(address.split(':')[1] ?? 7233);
  const ownTemporal = !(await answers(address));
  if (ownTemporal) startDevServer(port);
  process.env.TEMPORAL_ADDRESS = address;

  if (!process.env.SPIKENAS_TEST_S3_ENDPOINT) {
    process.env.SPIKENAS_TEST_S3_ENDPOINT = execFileSync('bash', [`${ROOT}scripts/s3-server.sh`, 'start'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
  }
  return () => {
    if (ownTemporal) stopDevServer(port);
  };
}
