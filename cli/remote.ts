/** CLI commands that talk to Temporal: start (and wait), status, resume. Each returns the exit code. */
import type { Client, WorkflowHandle } from '@temporalio/client';
import {
  describeSearch,
  outcomeIfClosed,
  type SettledSearch,
  searchRequestOf,
  startSearch,
  taskQueues,
  withClient,
} from '../client/temporal.js';
import { InputError, innermostMessage } from '../common/errors.js';
import type { SearchProgress } from '../contract/progress.js';
import type { SearchRequest } from '../contract/request.js';
import { EXIT, exitCodeOf } from './exit-codes.js';
import { printSummary } from './output.js';
import { type UnpolledQueue, unpolledMessage, unpolledQueues } from './pollers.js';
import { ProgressView } from './progress-view.js';

interface WaitFlags {
  wait?: boolean;
  timeout?: string;
  json?: boolean;
  /**
   * Queues a worker in this process serves (`spikenas run`): the CLI does not say that nobody polls them,
   * since its own worker is starting up to do so.
   */
  servedHere?: UnpolledQueue['role'][];
}

export async function startFromCli(
  request: SearchRequest,
  flags: WaitFlags & { timeZone?: string },
): Promise<number> {
  const timeoutMs = flags.timeout === undefined ? undefined : parseDuration(flags.timeout);
  return withClient(async (client) => {
    const started = await startSearch(client, request, flags.timeZone ? { timeZone: flags.timeZone } : {});
    if (!started.started)
      console.error(`spikenas: ${started.workflowId} was already started; following that search`);
    if (!flags.wait) {
      console.log(
        flags.json
          ? JSON.stringify({ workflowId: started.workflowId, started: started.started })
          : started.workflowId,
      );
      return EXIT.ok;
    }
    // stderr, so that stdout stays one JSON object with --json.
    console.error(`spikenas: waiting for ${started.workflowId}`);
    return waitAndReport(client, started.workflowId, flags, timeoutMs);
  });
}

export async function resumeFromCli(workflowId: string, flags: WaitFlags): Promise<number> {
  const timeoutMs = flags.timeout === undefined ? undefined : parseDuration(flags.timeout);
  return withClient(async (client) => {
    const status = await describeSearch(client, workflowId);
    if (status.status === 'RUNNING')
      throw new InputError('workflowId', `${workflowId} is still running`, 'a failed or cancelled search');
    if (status.status === 'COMPLETED')
      throw new InputError('workflowId', `${workflowId} already completed`, 'a failed or cancelled search');
    const request = await searchRequestOf(client, workflowId);
    // Same ID, same run folder: finished stages are reused and long stages continue from their checkpoints.
    await startSearch(client, request, { workflowId });
    if (!flags.wait) {
      console.log(workflowId);
      return EXIT.ok;
    }
    return waitAndReport(client, workflowId, flags, timeoutMs);
  });
}

export async function statusFromCli(workflowId: string, flags: { json?: boolean }): Promise<number> {
  const status = await withClient((client) => describeSearch(client, workflowId));
  if (flags.json) console.log(JSON.stringify(status));
  else {
    console.log(`${workflowId}: ${status.status}`);
    if (status.progress) console.log(progressLine(status.progress));
    if (status.summary) printSummary(status.summary);
    if (status.failure) console.log(`failure: ${status.failure}`);
  }
  return EXIT.ok;
}

/** How often a waiting CLI asks the server whether its task queues have pollers. */
const POLLER_CHECK_MS = 5_000;

export async function waitAndReport(
  client: Client,
  workflowId: string,
  flags: WaitFlags,
  timeoutMs?: number,
): Promise<number> {
  const view = new ProgressView({ tty: !flags.json && process.stderr.isTTY === true });
  const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
  const handle = client.workflow.getHandle(workflowId);
  try {
    return await follow(client, handle, flags, view, deadline);
  } finally {
    view.stop();
  }
}

async function follow(
  client: Client,
  handle: WorkflowHandle,
  flags: WaitFlags,
  view: ProgressView,
  deadline: number,
): Promise<number> {
  const workflowId = handle.workflowId;
  const queues = taskQueues();
  const checkedRoles = (['cpu', 'gpu'] as const).filter((role) => !flags.servedHere?.includes(role));
  let nextPollerCheck = checkedRoles.length === 0 ? Number.POSITIVE_INFINITY : 0;
  const unpolledSaid = new Set<string>();
  for (;;) {
    // The round's calls run on a signal of its own, aborted when the round ends: none is left retrying
    // behind a connection that closes when the command ends, and none waits past the deadline.
    const round = new AbortController();
    try {
      const settled = await bounded(client, round.signal, () => outcomeIfClosed(handle), deadline);
      if (settled) return report(client, workflowId, settled, flags);
      if (Date.now() >= deadline) {
        const message = `stopped waiting after ${flags.timeout}; the search goes on`;
        if (flags.json) console.log(JSON.stringify({ workflowId, status: 'RUNNING', error: message }));
        else view.log(`spikenas: ${workflowId}: ${message}`);
        return EXIT.timedOut;
      }
      if (Date.now() >= nextPollerCheck) {
        nextPollerCheck = Date.now() + POLLER_CHECK_MS;
        const unpolled = await unpolledQueues(client, queues, checkedRoles).catch(() => null);
        if (unpolled) {
          const now = new Set(unpolled.map((q) => `${q.queue}|${q.kind}`));
          for (const queue of unpolled)
            if (!unpolledSaid.has(`${queue.queue}|${queue.kind}`))
              view.log(`spikenas: ${unpolledMessage(queue)}`);
          // Said once while it lasts; again if it happens again later.
          unpolledSaid.clear();
          for (const key of now) unpolledSaid.add(key);
        }
      }
      // A query waits for a worker to answer: at most 2 s a round.
      const progress = await bounded(
        client,
        round.signal,
        () => handle.query<SearchProgress>('progress'),
        Math.min(deadline, Date.now() + 2000),
      );
      if (progress) view.update(progress);
    } finally {
      round.abort();
    }
    await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
  }
}

/** How long one call of a wait's round may take before the round goes on without its answer. */
const CALL_LIMIT_MS = 10_000;

/** A call on `signal`: its value, or null on an error or once `until` (at most CALL_LIMIT_MS away) passes. */
async function bounded<T>(
  client: Client,
  signal: AbortSignal,
  call: () => Promise<T>,
  until: number,
): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), Math.max(0, Math.min(until - Date.now(), CALL_LIMIT_MS)));
  });
  try {
    return await Promise.race([client.withAbortSignal(signal, call).catch(() => null), limit]);
  } finally {
    clearTimeout(timer);
  }
}

async function report(client: Client, workflowId: string, settled: SettledSearch, flags: WaitFlags) {
  if ('summary' in settled) {
    if (flags.json) console.log(JSON.stringify({ status: 'COMPLETED', ...settled.summary }));
    else printSummary(settled.summary);
    return EXIT.ok;
  }
  const status = await describeSearch(client, workflowId).catch(() => null);
  const cancelled = status?.status === 'CANCELLED';
  const known = exitCodeOf(settled.error);
  const code = cancelled ? EXIT.cancelled : known === EXIT.error ? EXIT.searchFailed : known;
  const message = innermostMessage(settled.error);
  if (flags.json)
    console.log(
      JSON.stringify({ workflowId, status: status?.status ?? 'FAILED', error: message, exitCode: code }),
    );
  else console.error(`spikenas: ${workflowId} ${cancelled ? 'was cancelled' : `failed: ${message}`}`);
  return code;
}

function progressLine(progress: SearchProgress): string {
  const counters = Object.entries(progress.counters)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const current = progress.current;
  const inStage = current === null ? '' : `: ${current.done}/${current.total} ${current.unit}`;
  return `${progress.percent}% ${progress.stage}${inStage}${counters ? ` (${counters})` : ''}`;
}

/** '90s', '45m', '2h', '1500ms' -> milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!match)
    throw new InputError('timeout', `'${text}' is not a duration`, 'a number with ms, s, m or h, e.g. 45m');
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * factor;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
