/** stages/outcome.json: how a run ended that failed or was cancelled (the workflow records it). */
import { stageFile } from '../../artifacts/run.js';
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
    // CloudWatch embedded metric format: on AWS this log line is the SpikeNAS/WorkflowsFailed metric the
    // stack alarms on (infra/stack.ts); elsewhere it is one JSON log line.
    console.log(
      JSON.stringify({
        _aws: {
          Timestamp: Date.now(),
          CloudWatchMetrics: [
            {
              Namespace: 'SpikeNAS',
              Dimensions: [[]],
              Metrics: [{ Name: 'WorkflowsFailed', Unit: 'Count' }],
            },
          ],
        },
        WorkflowsFailed: 1,
        runId: input.run.runId,
      }),
    );
  }
}
