/**
 * The README's first command: a quick Fashion-MNIST search through Temporal on one machine. Starts the
 * pinned dev server (SQLite under .spikenas/) when nothing answers at TEMPORAL_ADDRESS, runs a worker in
 * this process, starts the workflow and follows its progress query.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startSearch, temporalConnectConfig, withClient } from '../client/temporal.js';
import { tcpAnswers } from '../common/net.js';
import { validateSearchRequest } from '../config/request.js';
import type { WeightBits } from '../contract/request.js';
import { heavySlots } from '../pipeline/step-processes.js';
import { type QueueRole, runWorker } from '../worker/worker.js';
import { EXIT } from './exit-codes.js';
import { waitAndReport } from './remote.js';

const TEMPORAL_SCRIPT = fileURLToPath(new URL('../../scripts/temporal.sh', import.meta.url));

export interface EmbeddedFlags {
  budget: string;
  weightBits: WeightBits[];
  dataset: string;
  seed: number;
  out: string;
}

export async function runEmbedded(flags: EmbeddedFlags): Promise<number> {
  const request = validateSearchRequest({
    dataset: flags.dataset,
    budget: flags.budget,
    mode: 'spikenas',
    profile: 'quick',
    seed: flags.seed,
    weightBits: flags.weightBits,
    // One shard per heavy-step slot: every core scores and trains impact pairs at once.
    shards: heavySlots(),
    artifacts: flags.out,
  });
  const address = temporalConnectConfig().connectionOptions.address as string;
  const [host = '127.0.0.1', portText = '7233'] = address.split(':');
  const port = Number(portText);
  if (!(await tcpAnswers(host, port))) {
    if (host !== '127.0.0.1' && host !== 'localhost') {
      console.error(`spikenas: no Temporal server answers at ${address}`);
      return EXIT.error;
    }
    console.error(`spikenas: starting the Temporal dev server on ${address}`);
    const started = spawnSync('bash', [TEMPORAL_SCRIPT, 'start', String(port)], { stdio: 'inherit' });
    if (started.status !== 0) return EXIT.error;
  }
  console.error(`spikenas: Temporal Web UI http://127.0.0.1:${port + 1000}`);

  const stopWorker = new AbortController();
  const roles: QueueRole[] = ['cpu', 'gpu'];
  const worker = runWorker({ roles, signal: stopWorker.signal });
  try {
    return await withClient(async (client) => {
      const { workflowId } = await startSearch(client, request);
      console.error(`spikenas: started ${workflowId}`);
      // The worker above serves both queues: no "no worker polls" notice while it starts up.
      return Promise.race([
        waitAndReport(client, workflowId, { servedHere: roles }),
        worker.then(() => EXIT.error),
      ]);
    });
  } finally {
    stopWorker.abort();
    await worker.catch(() => undefined);
  }
}
