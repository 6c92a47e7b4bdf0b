/**
 * The Temporal client side: connection from Temporal's own environment variables and config profile
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*), and the few calls every
 * trigger (CLI, CI, Slack) needs.
 */
import { randomUUID } from 'node:crypto';
import {
  Client,
  Connection,
  type WorkflowExecutionStatusName,
  type WorkflowHandle,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { innermostMessage } from '../common/errors.js';
import type { SearchProgress } from '../contract/progress.js';
import type { SearchRequest } from '../contract/request.js';
import type { SearchSummary } from '../contract/summary.js';
import {
  type QueueNames,
  SEARCH_WORKFLOW,
  TASK_QUEUE_CPU_DEFAULT,
  TASK_QUEUE_GPU_DEFAULT,
} from '../contract/temporal.js';

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

export function temporalConnectConfig() {
  // Secrets injected by ECS hold every key, unused ones empty: an empty value means "not set".
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '',
    ),
  );
  const config = loadClientConnectConfig({ overrideEnvVars: env });
  config.connectionOptions.address ??= DEFAULT_TEMPORAL_ADDRESS;
  return { connectionOptions: config.connectionOptions, namespace: config.namespace ?? 'default' };
}

export function taskQueues(): QueueNames {
  return {
    cpu: process.env.SPIKENAS_CPU_TASK_QUEUE ?? TASK_QUEUE_CPU_DEFAULT,
    gpu: process.env.SPIKENAS_GPU_TASK_QUEUE ?? TASK_QUEUE_GPU_DEFAULT,
  };
}

export async function connectClient(): Promise<Client> {
  const { connectionOptions, namespace } = temporalConnectConfig();
  const connection = await Connection.connect({
    address: connectionOptions.address,
    tls: connectionOptions.tls,
    apiKey: connectionOptions.apiKey,
    metadata: connectionOptions.metadata,
  }).catch((error: unknown) => {
    throw unreachable(connectionOptions.address as string, error);
  });
  return new Client({ connection, namespace });
}

/** The SDK says only "Failed to connect before the deadline": name the address and how to get a server. */
export function unreachable(address: string, error: unknown): Error {
  const local = /^(127\.0\.0\.1|localhost):/.test(address);
  return new Error(
    `no Temporal server answers at ${address} (TEMPORAL_ADDRESS): ${(error as Error).message}. ` +
      (local
        ? `Start the local dev server with 'bash scripts/temporal.sh start ${address.split(':')[1]}' ` +
          "(npm start starts it too), or set TEMPORAL_ADDRESS to your server's host:port."
        : 'Check TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and the TLS or API-key settings, or that the server is up.'),
    { cause: error },
  );
}

/**
 * Runs `work` with a connected client and closes the connection afterwards: an open connection (a pending
 * long poll for a result, say) would keep a CLI process alive after it has answered.
 */
export async function withClient<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectClient();
  try {
    return await work(client);
  } finally {
    await client.connection.close();
  }
}

/**
 * Fleet searches get one ID per fleet and local date, so a double trigger finds the same workflow instead
 * of starting a second search; ad-hoc searches get a fresh ID.
 */
export function searchWorkflowId(request: Pick<SearchRequest, 'fleet'>, now: Date, timeZone = 'UTC'): string {
  if (!request.fleet) return `spikenas-${randomUUID().slice(0, 8)}`;
  const date = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);
  return `spikenas-${request.fleet}-${date}`;
}

export interface StartedSearch {
  workflowId: string;
  /** False when a search with this ID was already running or had already succeeded. */
  started: boolean;
}

export async function startSearch(
  client: Client,
  request: SearchRequest,
  options: { workflowId?: string; timeZone?: string } = {},
): Promise<StartedSearch> {
  const workflowId = options.workflowId ?? searchWorkflowId(request, new Date(), options.timeZone);
  const queues = taskQueues();
  try {
    await client.workflow.start(SEARCH_WORKFLOW, {
      taskQueue: queues.cpu,
      workflowId,
      args: [request, queues],
      // A failed or cancelled search may be started again under its ID (that is `resume`); a running or
      // succeeded one may not, which is what makes a double trigger harmless.
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    });
    return { workflowId, started: true };
  } catch (error) {
    if ((error as Error).name === 'WorkflowExecutionAlreadyStartedError')
      return { workflowId, started: false };
    throw error;
  }
}

export interface SearchStatus {
  workflowId: string;
  status: WorkflowExecutionStatusName;
  progress: SearchProgress | null;
  summary?: SearchSummary;
  failure?: string;
  startTime: Date;
  closeTime?: Date;
}

export async function describeSearch(client: Client, workflowId: string): Promise<SearchStatus> {
  const handle = client.workflow.getHandle(workflowId);
  const description = await handle.describe();
  const status = description.status.name;
  // A query on a closed workflow replays its whole history (14 s at 11k events); a completed search's
  // summary says everything its progress would, so only a running or stopped one is asked where it is.
  const progress =
    status === 'COMPLETED' ? null : await handle.query<SearchProgress>('progress').catch(() => null);
  const result: SearchStatus = { workflowId, status, progress, startTime: description.startTime };
  if (description.closeTime) result.closeTime = description.closeTime;
  if (status === 'COMPLETED') result.summary = (await handle.result()) as SearchSummary;
  if (status === 'FAILED' || status === 'TERMINATED' || status === 'TIMED_OUT') {
    result.failure = await handle.result().then(
      () => undefined,
      (error: Error) => innermostMessage(error),
    );
  }
  return result;
}

export type SettledSearch = { summary: SearchSummary } | { error: unknown };

/**
 * A search's outcome once it has closed; null while it runs, or while the server does not answer (a wait
 * goes on through a server restart). A waiting command asks this at every refresh rather than awaiting
 * handle.result(): result() long-polls, one call every 20 s, on the abort signal a wait needs to end its
 * poll before the connection closes, and @temporalio/client (1.24) adds a listener to that signal per call
 * and never removes it. Measured: 4 after 60 s, so Node printed a MaxListenersExceededWarning 4 minutes into
 * every wait, and a night's wait would hold over 2,000.
 */
export async function outcomeIfClosed(handle: WorkflowHandle): Promise<SettledSearch | null> {
  const description = await handle.describe().catch((error: unknown) => {
    if (error instanceof WorkflowNotFoundError) return { error };
    return null;
  });
  if (description === null || 'error' in description) return description;
  if (description.status.name === 'RUNNING') return null;
  return handle.result().then(
    (summary: SearchSummary) => ({ summary }),
    (error: unknown) => ({ error }),
  );
}

export async function cancelSearch(client: Client, workflowId: string): Promise<void> {
  await client.workflow.getHandle(workflowId).cancel();
}

/** The request a search was started with, read from its history (for `resume`). */
export async function searchRequestOf(client: Client, workflowId: string): Promise<SearchRequest> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payload = started?.input?.payloads?.[0];
  if (!payload) throw new Error(`workflow ${workflowId} has no start input`);
  return client.options.loadedDataConverter.payloadConverter.fromPayload(payload) as SearchRequest;
}

export async function listSearches(client: Client, limit = 20) {
  const rows: { workflowId: string; status: string; startTime: Date; closeTime?: Date }[] = [];
  for await (const execution of client.workflow.list({ query: `WorkflowType = '${SEARCH_WORKFLOW}'` })) {
    rows.push({
      workflowId: execution.workflowId,
      status: execution.status.name,
      startTime: execution.startTime,
      ...(execution.closeTime ? { closeTime: execution.closeTime } : {}),
    });
    if (rows.length >= limit) break;
  }
  return rows;
}
