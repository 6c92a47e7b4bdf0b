/** One mode's search: started (or followed, when its workflow already exists) and waited for, with progress. */
import type { Client } from '@temporalio/client';
import { ProgressView } from '../../cli/progress-view.js';
import { outcomeIfClosed, type SettledSearch, startSearch } from '../../client/temporal.js';
import { innermostMessage } from '../../common/errors.js';
import type { SearchProgress } from '../../contract/progress.js';
import type { SearchMode, SearchRequest } from '../../contract/request.js';
import type { SearchSummary } from '../../contract/summary.js';
import { RELEASE_TRAINING_SIGNAL } from '../../contract/temporal.js';
import { log } from './log.js';

/** A mode's search reports reaching its held training; its training starts when `released` resolves. */
export interface TrainingGate {
  reached: () => void;
  released: Promise<void>;
}

export interface ModeRun {
  summary: SearchSummary;
  /** False when the workflow was already started (a resumed bench) and only followed. */
  started: boolean;
  startedAt: Date;
  elapsedMs: number;
}

/**
 * Starts (or finds) the workflow `<runPrefix>-<mode>` and waits for its summary, with progress on stderr.
 * `running` holds the workflows this bench would have to stop if it were stopped.
 */
export async function runMode(
  client: Client,
  { base, runPrefix }: { base: SearchRequest; runPrefix: string },
  mode: SearchMode,
  workersDown: Promise<never>,
  running: Set<string>,
  gate?: TrainingGate,
): Promise<ModeRun> {
  const workflowId = `${runPrefix}-${mode}`;
  const begun = Date.now();
  const request: SearchRequest = { ...base, mode, ...(gate ? { holdTraining: true } : {}) };
  const { started } = await startSearch(client, request, { workflowId });
  log(`${mode}: ${started ? 'started' : 'following the already started'} ${workflowId}`);
  running.add(workflowId);
  const handle = client.workflow.getHandle(workflowId);
  const view = new ProgressView({
    tty: process.stderr.isTTY === true,
    write: (line) => log(`${mode}: ${line.replace(/^spikenas: /, '')}`),
  });
  // A workflow past its search (or one started without the hold) ignores the signal or no longer takes it.
  void gate?.released.then(() => handle.signal(RELEASE_TRAINING_SIGNAL).catch(() => undefined));
  // Polled, not awaited with result(): see outcomeIfClosed.
  let following = true;
  const outcome = (async (): Promise<SettledSearch> => {
    for (;;) {
      const closed = await outcomeIfClosed(handle);
      if (closed) return closed;
      if (!following) return { error: new Error('no longer followed') };
      const progress = await handle.query<SearchProgress>('progress').catch(() => null);
      if (progress) view.update(progress);
      if (progress?.finishedStages.includes('memory-aware-search')) gate?.reached();
      await new Promise((r) => setTimeout(r, 2000));
    }
  })();
  try {
    const closed = await Promise.race([outcome, workersDown]);
    if ('error' in closed) throw closed.error;
    running.delete(workflowId);
    // Only a search that ended well opens the gate: a failed or stopped one lets no further mode start.
    gate?.reached();
    // A followed workflow (a resumed bench) started before this process did.
    const { startTime } = await handle.describe();
    return { summary: closed.summary, started, startedAt: startTime, elapsedMs: Date.now() - begun };
  } catch (error) {
    const described = await handle.describe().catch(() => null);
    if (described && described.status.name !== 'RUNNING') running.delete(workflowId);
    throw new Error(`${mode} search ${workflowId} failed: ${innermostMessage(error)}`, { cause: error });
  } finally {
    following = false;
    // No call of the loop is left retrying behind the connection, which closes after the last mode.
    await outcome;
    view.stop();
  }
}
