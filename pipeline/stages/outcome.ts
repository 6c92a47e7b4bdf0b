/** stages/outcome.json: how a run ended that failed or was cancelled (the workflow records it). */
import { stageFile } from '../../artifacts/run.js';
import { METRIC_WORKFLOWS_FAILED, metricLine } from '../../common/metrics.js';
import { openRun, type RunInput } from '../run-context.js';
import type { StepContext } from '../types.js';

export interface OutcomeInput extends RunInput {
  outcome: 'failed' | 'cancelled';
  message: string;
}

export async function recordOutcome(input: OutcomeInput, ctx: StepContext = {}): Promise<void> {
  const run = await openRun(input.run, ctx);
  await run.putJson(stageFile('outcome'), {
    outcome: input.outcome,
    message: input.message,
    at: new Date().toISOString(),
  });
  if (input.outcome === 'failed') {
    // On AWS this log line is the metric the stack alarms on (common/metrics.ts).
    console.log(metricLine(METRIC_WORKFLOWS_FAILED, 1, { runId: input.run.runId }));
  }
}
