/** The Block Kit messages the bot posts about a search: its result, or why it did not finish. */
import type { KnownBlock } from '@slack/web-api';
import { formatDuration } from '../common/duration.js';
import { formatSize } from '../common/size.js';
import { totalStageMs } from '../contract/stages.js';
import type { SearchSummary } from '../contract/summary.js';
import { type FleetSearch, previousSuccess } from './fleet-history.js';
import { reusedText } from './report.js';

/** What chat.postMessage and a response_url both take. */
export interface SlackMessage {
  /** Shown in notifications and by clients that cannot draw blocks. */
  text: string;
  blocks?: KnownBlock[];
}

// Slack rejects a section whose text is longer than 3000 characters.
const SECTION_TEXT_LIMIT = 3000;

/**
 * A finished search: winner matrix, memory against the budget, accuracy at 32 bits and at the stored width,
 * total and per-stage time, the report, and, given the fleet's history (`spikenas history`), what changed
 * since the fleet's previous successful search.
 */
export function formatSlackResult(summary: SearchSummary, history?: FleetSearch[]): SlackMessage {
  const title = summary.fleet ? `SpikeNAS search for ${summary.fleet} finished` : 'SpikeNAS search finished';
  const memory = formatMemory(summary.weightBytes, summary.budgetBytes);
  const aware = summary.quantization?.method === 'quantization-aware' ? summary.quantization : null;
  const accuracy =
    `${formatPercent(summary.accuracy)} at ${summary.weightBits}-bit weights` +
    (aware
      ? `, quantization-aware (${formatPercent(aware.postTrainingAccuracy)} quantized after training)`
      : '');
  const stages = Object.entries(summary.stageWallMs);
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Winner cell*\n\`\`\`${formatMatrix(summary.winner)}\`\`\`` },
        {
          type: 'mrkdwn',
          text:
            `*Memory*\n${memory}\n` +
            `${summary.params.toLocaleString('en-US')} params, neuron state ${formatSize(summary.stateBytes)}`,
        },
        {
          type: 'mrkdwn',
          text: `*Accuracy*\n${accuracy}\n${formatPercent(summary.accuracyBeforeQuantization)} at 32 bits`,
        },
        {
          type: 'mrkdwn',
          text:
            `*Time* ${formatDuration(totalStageMs(summary.stageWallMs))} in total\n` +
            stages.map(([stage, ms]) => `${stage} ${formatDuration(ms ?? 0)}`).join('\n'),
        },
      ],
    },
  ];
  if (history) {
    const previous = previousSuccess(history, summary.workflowId);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: formatChanges(summary, previous) } });
  }
  const reused = reusedText(summary.reusedFrom);
  if (reused !== 'nothing') {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Reused* ${reused}` } });
  }
  blocks.push(
    { type: 'section', text: { type: 'mrkdwn', text: `*Report* ${formatLink(summary.artifacts.report)}` } },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text:
            `\`${summary.workflowId}\` · mode ${summary.mode} · seed ${summary.seed} · ` +
            `SAHD ${summary.sahdScore.toFixed(2)} · backend ${summary.backend}`,
        },
      ],
    },
  );
  return { text: `${title}: winner ${summary.winner}, ${memory}, accuracy ${accuracy}`, blocks };
}

/** A search that failed, was cancelled or found no candidate within the budget. */
export function formatSlackFailure(workflowId: string, failure: string): SlackMessage {
  const text = `SpikeNAS search \`${workflowId}\` did not finish: ${failure}`.slice(0, SECTION_TEXT_LIMIT);
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

/** Winner, memory and accuracy against the fleet's previous successful search. */
function formatChanges(summary: SearchSummary, previous: FleetSearch | undefined): string {
  if (!previous?.winner || previous.weightBytes === null || previous.accuracy === null) {
    return '*Since the previous night*\nno earlier successful search of this fleet to compare with';
  }
  const winner =
    previous.winner === summary.winner
      ? 'winner unchanged'
      : `winner changed from \`${previous.winner}\` to \`${summary.winner}\``;
  const bytes = summary.weightBytes - previous.weightBytes;
  const points = 100 * (summary.accuracy - previous.accuracy);
  return [
    `*Since ${previous.startedAt.slice(0, 10)}* (\`${previous.workflowId}\`)`,
    winner,
    `memory ${formatSize(previous.weightBytes)} at ${previous.weightBits} bits → ` +
      `${formatSize(summary.weightBytes)} at ${summary.weightBits} bits (${signed(bytes, formatSize)})`,
    `accuracy ${formatPercent(previous.accuracy)} → ${formatPercent(summary.accuracy)} ` +
      `(${signed(points, (p) => `${p.toFixed(2)} pp`)})`,
  ].join('\n');
}

function signed(value: number, format: (magnitude: number) => string): string {
  return `${value < 0 ? '−' : '+'}${format(Math.abs(value))}`;
}

/** `0302 0030 3003 0000` -> one row per line, as the matrix is read. */
function formatMatrix(winner: string): string {
  return winner.trim().split(/\s+/).join('\n');
}

function formatMemory(weightBytes: number, budgetBytes: number | null): string {
  const weights = formatSize(weightBytes);
  if (budgetBytes === null) return `${weights} of weights (no budget)`;
  const share = ((100 * weightBytes) / budgetBytes).toFixed(1);
  const verdict = weightBytes <= budgetBytes ? 'within' : 'OVER';
  return `${weights} of ${formatSize(budgetBytes)} budget (${share}%, ${verdict})`;
}

/** Accuracies are fractions in [0, 1]. */
function formatPercent(fraction: number): string {
  return `${(100 * fraction).toFixed(2)}%`;
}

/** http(s) reports become links; s3:// and file:// URIs cannot be opened from Slack, so they are shown as code. */
function formatLink(uri: string): string {
  return /^https?:\/\//.test(uri) ? `<${uri}|${uri}>` : `\`${uri}\``;
}
